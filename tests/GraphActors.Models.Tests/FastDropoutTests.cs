using static TorchSharp.torch;

namespace GraphActors.Models.Tests;

public sealed class FastDropoutTests
{
    [Fact]
    public void It_drops_about_p_of_the_values_and_scales_the_rest_by_one_over_one_minus_p()
    {
        using var scope = NewDisposeScope();
        manual_seed(1);
        var x = ones(1_000, 500);
        var y = FastDropout.Apply(x, 0.3, training: true);
        var dropped = y.eq(0).to_type(ScalarType.Float32).mean().item<float>();
        Assert.InRange(dropped, 0.29f, 0.31f);
        Assert.Equal(1 / 0.7f, y.max().item<float>(), 5);
        Assert.Same(x, FastDropout.Apply(x, 0.3, training: false));
    }

    [Fact]
    public void The_same_seed_gives_the_same_mask_whatever_the_thread_count()
    {
        using var scope = NewDisposeScope();
        var threads = get_num_threads();
        try
        {
            Tensor Draw(int n)
            {
                set_num_threads(n);
                manual_seed(9);
                return FastDropout.Apply(ones(700, 1_433), 0.5, training: true);
            }
            var one = Draw(1);
            var two = Draw(2);
            Assert.True(one.eq(two).all().item<bool>(), "the mask depends on the thread count");
            manual_seed(10);
            Assert.False(one.eq(FastDropout.Apply(ones(700, 1_433), 0.5, training: true)).all().item<bool>(), "another seed gave the same mask");
        }
        finally
        {
            set_num_threads(threads);
        }
    }

    [Fact]
    public void A_tensor_that_needs_a_gradient_gets_it_through_the_mask()
    {
        using var scope = NewDisposeScope();
        manual_seed(2);
        var x = randn(300, 40).requires_grad_(true);
        var y = FastDropout.Apply(x, 0.5, training: true);
        y.sum().backward();
        // The gradient is the mask: 2 where a value was kept, 0 where it was dropped.
        Assert.True(x.grad!.eq(y.detach().ne(0).to_type(ScalarType.Float32) * 2).all().item<bool>());
    }
}
