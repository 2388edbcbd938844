using TorchSharp;
using static TorchSharp.torch;

namespace GraphActors.Models.Tests;

// The fused aggregation against the materialised one it replaces (index_select, scatter_add, divide by the degree).
public sealed class GspmmTests
{
    private static (Tensor Src, Tensor Dst) RandomEdges(int numSrc, int numDst, int numEdges, int seed)
    {
        var rng = new Random(seed);
        var src = new long[numEdges];
        var dst = new long[numEdges];
        for (var e = 0; e < numEdges; e++)
        {
            src[e] = rng.Next(numSrc);
            dst[e] = rng.Next(numDst - 1); // the last destination has no in-edges
        }
        return (tensor(src), tensor(dst));
    }

    private static Tensor Reference(Tensor h, Tensor src, Tensor dst, Tensor? weight, bool mean, long numDst)
    {
        var messages = h.index_select(0, src);
        if (weight is not null) messages = messages * weight.unsqueeze(1);
        var sum = zeros(numDst, h.size(1)).index_add(0, dst, messages, 1);
        if (!mean) return sum;
        var degree = bincount(dst, minlength: numDst).to_type(ScalarType.Float32).clamp_min(1);
        return sum / degree.unsqueeze(1);
    }

    [Theory]
    [InlineData(false, false, 256)]
    [InlineData(true, false, 256)]
    [InlineData(false, true, 13)]
    [InlineData(true, true, 500)]
    public void The_fused_sum_and_its_gradient_equal_the_materialised_messages(bool mean, bool weighted, int width)
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        const int numSrc = 300, numDst = 120, numEdges = 2_000;
        var (src, dst) = RandomEdges(numSrc, numDst, numEdges, seed: width);
        var weight = weighted ? rand(numEdges) : null;
        var index = EdgeIndex.FromTensors(src, dst, numSrc, numDst);
        var upstream = randn(numDst, width);

        var h1 = randn(numSrc, width).requires_grad_(true);
        var fused = Gspmm.Sum(h1, index, weight, mean);
        (fused * upstream).sum().backward();

        var h2 = h1.detach().clone().requires_grad_(true);
        var expected = Reference(h2, src, dst, weight, mean, numDst);
        (expected * upstream).sum().backward();

        Assert.Equal(new long[] { numDst, width }, fused.shape);
        Assert.True(fused.allclose(expected, rtol: 1e-5, atol: 1e-5), "forward differs from index_select + index_add");
        Assert.True(h1.grad!.allclose(h2.grad!, rtol: 1e-5, atol: 1e-5), "gradient differs from the materialised path's");
        Assert.Equal(0f, fused[numDst - 1].abs().sum().item<float>()); // no in-edges: zeros, as in DGL
    }

    [Fact]
    public void The_attention_weighted_sum_and_both_its_gradients_equal_the_materialised_messages()
    {
        using var scope = NewDisposeScope();
        manual_seed(7);
        const int numSrc = 200, numDst = 90, numEdges = 1_500, heads = 3, width = 20;
        var (src, dst) = RandomEdges(numSrc, numDst, numEdges, seed: 11);
        var index = EdgeIndex.FromTensors(src, dst, numSrc, numDst);
        var upstream = randn(numDst, heads, width);

        var z1 = randn(numSrc, heads, width).requires_grad_(true);
        var a1 = rand(numEdges, heads).requires_grad_(true);
        var fused = Gspmm.WeightedSum(z1, a1, index);
        (fused * upstream).sum().backward();

        var z2 = z1.detach().clone().requires_grad_(true);
        var a2 = a1.detach().clone().requires_grad_(true);
        var messages = z2.index_select(0, src) * a2.unsqueeze(-1);
        var expected = zeros(numDst, heads, width).index_add(0, dst, messages, 1);
        (expected * upstream).sum().backward();

        Assert.True(fused.allclose(expected, rtol: 1e-5, atol: 1e-5), "forward differs from index_select + index_add");
        Assert.True(z1.grad!.allclose(z2.grad!, rtol: 1e-5, atol: 1e-5), "the gradient of z differs");
        Assert.True(a1.grad!.allclose(a2.grad!, rtol: 1e-4, atol: 1e-4), "the gradient of the attention differs");
    }

    [Fact]
    public void The_indexed_edge_softmax_and_its_gradient_equal_the_sorted_scan()
    {
        using var scope = NewDisposeScope();
        manual_seed(8);
        const int numSrc = 150, numDst = 60, numEdges = 900, heads = 4;
        var (src, dst) = RandomEdges(numSrc, numDst, numEdges, seed: 13);
        var index = EdgeIndex.FromTensors(src, dst, numSrc, numDst);
        var upstream = randn(numEdges, heads);

        var s1 = (randn(numEdges, heads) * 50).requires_grad_(true); // wide scores: the per-destination shift matters
        var fused = EdgeSoftmax.Compute(s1, index);
        (fused * upstream).sum().backward();

        var s2 = s1.detach().clone().requires_grad_(true);
        var expected = EdgeSoftmax.Compute(s2, dst, numDst);
        (expected * upstream).sum().backward();

        Assert.True(fused.allclose(expected, rtol: 1e-4, atol: 1e-6), "forward differs from the sorted scan");
        Assert.True(s1.grad!.allclose(s2.grad!, rtol: 1e-4, atol: 1e-5), "gradient differs from the sorted scan's");
        var perDestination = zeros(numDst, heads).index_add(0, dst, fused.detach(), 1);
        Assert.True(perDestination[..(numDst - 1)].allclose(ones(numDst - 1, heads), rtol: 1e-5, atol: 1e-5), "a destination's attention does not sum to 1");
    }

    [Fact]
    public void Results_are_the_same_bits_whatever_the_thread_count()
    {
        using var scope = NewDisposeScope();
        manual_seed(5);
        const int numSrc = 5_000, numDst = 2_000, numEdges = 60_000;
        var (src, dst) = RandomEdges(numSrc, numDst, numEdges, seed: 1);
        var index = EdgeIndex.FromTensors(src, dst, numSrc, numDst);
        var h = randn(numSrc, 64);
        var upstream = randn(numDst, 64);
        var threads = get_num_threads();
        try
        {
            (Tensor Out, Tensor Grad) Run(int n)
            {
                set_num_threads(n);
                var x = h.clone().requires_grad_(true);
                var y = Gspmm.Sum(x, index, null, mean: true);
                (y * upstream).sum().backward();
                return (y.detach(), x.grad!);
            }
            var one = Run(1);
            var two = Run(2);
            Assert.True(one.Out.eq(two.Out).all().item<bool>(), "forward depends on the thread count");
            Assert.True(one.Grad.eq(two.Grad).all().item<bool>(), "backward depends on the thread count");
        }
        finally
        {
            set_num_threads(threads);
        }
    }

    [Fact]
    public void The_source_side_is_built_by_the_first_backward_pass_and_equals_the_edges_sorted_by_source()
    {
        using var scope = NewDisposeScope();
        const int numSrc = 50, numDst = 40;
        var (src, dst) = RandomEdges(numSrc, numDst, 400, seed: 5);
        var index = EdgeIndex.FromTensors(src, dst, numSrc, numDst);
        var h = randn(numSrc, 8).requires_grad_(true);
        using (no_grad()) Gspmm.Sum(h, index, null, mean: true);
        Assert.False(index.HasSourceSide); // inference never pays for it

        Gspmm.Sum(h, index, null, mean: true).sum().backward();
        Assert.True(index.HasSourceSide);
        var s = src.data<long>().ToArray();
        var d = dst.data<long>().ToArray();
        var bySource = Enumerable.Range(0, s.Length).OrderBy(e => s[e]).ToArray(); // stable: edge order within a source
        Assert.Equal(bySource, index.SrcEdge.ToArray());
        Assert.Equal(bySource.Select(e => (int)d[e]).ToArray(), index.SrcDst.ToArray());
        var ptr = new int[numSrc + 1];
        foreach (var x in s) ptr[x + 1]++;
        for (var r = 0; r < numSrc; r++) ptr[r + 1] += ptr[r];
        Assert.Equal(ptr, index.SrcPtr.ToArray());
    }

    [Fact]
    public void An_edge_outside_the_block_is_refused_naming_it()
    {
        using var scope = NewDisposeScope();
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => EdgeIndex.FromTensors(tensor(new long[] { 0, 7 }), tensor(new long[] { 0, 1 }), 5, 2));
        Assert.Contains("Edge 1 has source 7, outside [0, 5)", e.Message);
    }

    [Fact]
    public void A_block_without_edges_aggregates_to_zeros_and_passes_no_gradient()
    {
        using var scope = NewDisposeScope();
        var index = EdgeIndex.FromTensors(empty(0, dtype: ScalarType.Int64), empty(0, dtype: ScalarType.Int64), 4, 3);
        var h = randn(4, 8).requires_grad_(true);
        var y = Gspmm.Sum(h, index, null, mean: true);
        y.sum().backward();
        Assert.Equal(0f, y.abs().sum().item<float>());
        Assert.Equal(0f, h.grad!.abs().sum().item<float>());
    }

    /// <summary>
    /// Two trainers in one process (the in-process cluster, a serving node that also trains) and inference beside
    /// them: steps under <see cref="AutogradGate.Lock"/> and gradient-free forwards without it give the serial results,
    /// and no custom-function node outlives its graph (TorchSharp's list of them is not thread-safe).
    /// </summary>
    [Fact]
    public void Concurrent_steps_under_the_gate_and_inference_beside_them_give_the_serial_results()
    {
        using var scope = NewDisposeScope();
        manual_seed(13);
        const int numSrc = 3_000, numDst = 1_000, numEdges = 30_000, heads = 2, width = 16;
        var (src, dst) = RandomEdges(numSrc, numDst, numEdges, seed: 17);
        var index = EdgeIndex.FromTensors(src, dst, numSrc, numDst);
        var h = randn(numSrc, heads, width);
        var scores = randn(numEdges, heads);

        // One step: mean aggregation, then GAT's softmax and weighted sum; returns the loss and both gradients.
        (float Loss, Tensor GradH, Tensor GradScores) Step()
        {
            lock (AutogradGate.Lock)
            {
                using var step = NewDisposeScope();
                var x = h.clone().requires_grad_(true);
                var e = scores.clone().requires_grad_(true);
                var mean = Gspmm.Sum(x, index, null, mean: true);
                var alpha = EdgeSoftmax.Compute(e, index);
                var att = Gspmm.WeightedSum(x, alpha, index);
                var loss = (mean * att).sum();
                loss.backward();
                return (loss.item<float>(), x.grad!.clone().MoveToOuterDisposeScope(), e.grad!.clone().MoveToOuterDisposeScope());
            }
        }
        Tensor Infer()
        {
            using var inference = NewDisposeScope();
            using var noGrad = no_grad();
            return Gspmm.WeightedSum(h, EdgeSoftmax.Compute(scores, index), index).add(Gspmm.Sum(h, index, null, mean: false)).MoveToOuterDisposeScope();
        }

        static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();
        var expected = Step();
        var expectedInference = Infer();
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        void Trainer(int id)
        {
            for (var i = 0; i < 20; i++)
            {
                using var round = NewDisposeScope();
                var (loss, gh, ge) = Step();
                if (loss != expected.Loss || !Same(gh, expected.GradH) || !Same(ge, expected.GradScores))
                    failures.Enqueue($"trainer {id}, step {i}: loss {loss} vs {expected.Loss}");
            }
        }
        // Many small gradient-free calls: each one an apply (a node added and removed) before the gate.
        var (smallSrc, smallDst) = RandomEdges(20, 10, 60, seed: 19);
        var small = EdgeIndex.FromTensors(smallSrc, smallDst, 20, 10);
        var smallH = randn(20, heads, 4);
        var smallScores = randn(60, heads);
        var smallExpected = Gspmm.WeightedSum(smallH, EdgeSoftmax.Compute(smallScores, small), small);
        void Inference()
        {
            for (var i = 0; i < 40; i++)
            {
                using var round = NewDisposeScope();
                if (!Same(Infer(), expectedInference)) failures.Enqueue($"inference {i} differs");
                for (var j = 0; j < 200; j++)
                {
                    using var tiny = NewDisposeScope();
                    using var noGrad = no_grad();
                    if (!Same(Gspmm.WeightedSum(smallH, EdgeSoftmax.Compute(smallScores, small), small), smallExpected))
                        failures.Enqueue($"small inference {i}.{j} differs");
                }
            }
        }
        var threads = new[] { new Thread(() => Trainer(0)), new Thread(() => Trainer(1)), new Thread(Inference), new Thread(Inference) };
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();
        Assert.Empty(failures);

        GC.Collect();
        GC.WaitForPendingFinalizers();
        var alive = typeof(autograd).GetNestedType("Node", System.Reflection.BindingFlags.NonPublic)?
            .GetField("AliveNodes", System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.NonPublic)?.GetValue(null) as System.Collections.ICollection;
        Assert.NotNull(alive);
        Assert.Equal(0, alive.Count);
    }
}
