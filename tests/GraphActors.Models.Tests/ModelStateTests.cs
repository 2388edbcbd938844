using TorchSharp;
using static TorchSharp.torch;

namespace GraphActors.Models.Tests;

public sealed class ModelStateTests
{
    [Theory]
    [InlineData(ModelType.Sage)]
    [InlineData(ModelType.Gat)]
    [InlineData(ModelType.Rgcn)]
    public void A_saved_state_dict_loaded_into_a_fresh_model_gives_identical_outputs(ModelType type)
    {
        using var scope = NewDisposeScope();
        var blocks = TinyGraph.Blocks();
        var config = TinyGraph.Config(type) with { Normalization = Normalization.Batch };
        var path = Path.Combine(Path.GetTempPath(), $"graphactors-{Guid.NewGuid():N}.bin");
        try
        {
            manual_seed(11);
            using var original = ModelFactory.Create(config);
            original.train();
            original.forward(blocks, TinyGraph.Features()); // moves the BatchNorm running statistics
            original.eval();
            ModelState.Save(original, path);

            manual_seed(12);
            using var restored = ModelFactory.Create(config);
            restored.eval();
            ModelState.Load(restored, path);

            using var _ = no_grad();
            var expected = original.forward(blocks, TinyGraph.Features());
            var actual = restored.forward(blocks, TinyGraph.Features());
            foreach (var type_ in expected.Keys)
                Assert.True(expected[type_].allclose(actual[type_], rtol: 0, atol: 0), $"outputs for {type_} differ");
        }
        finally
        {
            File.Delete(path);
            blocks.ForEach(b => b.Dispose());
        }
    }

    [Fact]
    public void The_parameter_vector_round_trips_in_name_order()
    {
        using var scope = NewDisposeScope();
        var config = TinyGraph.Config(ModelType.Gat);
        manual_seed(1);
        using var a = ModelFactory.Create(config);
        manual_seed(2);
        using var b = ModelFactory.Create(config);

        var vector = ModelState.ToVector(a);
        Assert.Equal(a.parameters().Sum(p => p.numel()), vector.Length);
        Assert.Equal(ModelState.FlatLength(a), vector.Length);
        var names = ModelState.FlatOrder(a).Select(e => e.Name).ToList();
        Assert.Equal(names.Order(StringComparer.Ordinal), names);

        ModelState.FromVector(b, vector);
        Assert.Equal(vector, ModelState.ToVector(b));
        foreach (var ((name, pa), (_, pb)) in a.named_parameters().Zip(b.named_parameters()))
            Assert.True(pa.allclose(pb, rtol: 0, atol: 0), $"{name} differs after the round trip");

        // Averaging two vectors is what the cluster does; the result loads back as is.
        var other = ModelState.ToVector(ModelFactory.Create(config));
        var average = vector.Zip(other, (x, y) => (x + y) / 2).ToArray();
        ModelState.FromVector(b, average);
        Assert.Equal(average, ModelState.ToVector(b));
        Assert.Throws<ArgumentException>(() => ModelState.FromVector(b, new float[3]));
    }

    [Fact]
    public void The_parameter_vector_can_carry_batch_norm_statistics()
    {
        using var scope = NewDisposeScope();
        using var model = ModelFactory.Create(TinyGraph.Config(ModelType.Sage) with { Normalization = Normalization.Batch });
        var withBuffers = ModelState.ToVector(model, includeBuffers: true);
        Assert.Equal(ModelState.FlatLength(model) + (2 * 2 * 8), withBuffers.Length); // running mean and var, 2 types × 8
        ModelState.FromVector(model, withBuffers, includeBuffers: true);
    }
}
