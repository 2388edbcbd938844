// PinnedAdam against TorchSharp's own Adam: the same parameters after the same gradients, and its state round trip.
using GraphActors.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace GraphActors.Training.Tests;

public sealed class PinnedAdamTests
{
    private static (TorchSharp.Modules.Linear Model, Tensor X, Tensor Y) Problem(int seed)
    {
        random.manual_seed(seed);
        var model = nn.Linear(6, 3);
        return (model, randn(32, 6), randn(32, 3));
    }

    private static void Step(nn.Module<Tensor, Tensor> model, Tensor x, Tensor y, Action zero, Action step)
    {
        using var scope = NewDisposeScope();
        zero();
        var loss = nn.functional.mse_loss(model.forward(x), y);
        loss.backward();
        step();
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(5e-4)]
    public void Ten_steps_match_torch_optim_Adam(double weightDecay)
    {
        var (a, x, y) = Problem(3);
        var (b, _, _) = Problem(3);
        using var reference = optim.Adam(a.parameters(), lr: 0.01, weight_decay: weightDecay);
        using var pinned = new PinnedAdam(b.parameters(), lr: 0.01, weightDecay: weightDecay);
        for (var s = 0; s < 10; s++)
        {
            Step(a, x, y, reference.zero_grad, () => reference.step());
            Step(b, x, y, pinned.zero_grad, pinned.step);
        }
        foreach (var (pa, pb) in a.parameters().Zip(b.parameters()))
            Assert.True(pa.allclose(pb, rtol: 1e-5, atol: 1e-6), $"max difference {(pa - pb).abs().max().item<float>()}");
        Assert.Equal(10, pinned.Steps);
    }

    [Fact]
    public void Saved_state_continues_exactly_and_a_foreign_file_is_refused()
    {
        var (a, x, y) = Problem(5);
        using var first = new PinnedAdam(a.parameters(), lr: 0.01);
        for (var s = 0; s < 3; s++) Step(a, x, y, first.zero_grad, first.step);
        var dir = Directory.CreateTempSubdirectory("ga-adam").FullName;
        var file = Path.Combine(dir, "optimizer.bin");
        first.Save(file);

        var (b, _, _) = Problem(5);
        foreach (var (pa, pb) in a.parameters().Zip(b.parameters())) using (no_grad()) pb.copy_(pa);
        using var second = new PinnedAdam(b.parameters(), lr: 0.01);
        second.Load(file);
        Assert.Equal(3, second.Steps);
        Step(a, x, y, first.zero_grad, first.step);
        Step(b, x, y, second.zero_grad, second.step);
        foreach (var (pa, pb) in a.parameters().Zip(b.parameters())) Assert.True(pa.allclose(pb, rtol: 0, atol: 0), "the resumed optimizer took another step");

        var foreign = Path.Combine(dir, "other.bin");
        File.WriteAllBytes(foreign, [1, 2, 3]);
        var e = Assert.Throws<InvalidDataException>(() => second.Load(foreign));
        Assert.Contains(foreign, e.Message);
    }
}
