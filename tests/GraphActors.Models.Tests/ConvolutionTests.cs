using TorchSharp;
using static TorchSharp.torch;

namespace GraphActors.Models.Tests;

public sealed class ConvolutionTests
{
    [Fact]
    public void Edge_softmax_of_a_hand_computed_case_sums_to_one_per_destination_and_head()
    {
        using var scope = NewDisposeScope();
        var scores = tensor(new float[] { 1, 0, 2, 0, 3, 0, 100, 5 }, [4, 2]);
        var dst = tensor(new long[] { 0, 1, 0, 1 });

        var alpha = EdgeSoftmax.Compute(scores, dst, numDst: 3).data<float>().ToArray();

        // head 0: destination 0 has scores 1 and 3, destination 1 has 2 and 100.
        var e2 = (float)Math.Exp(2);
        Assert.Equal(1 / (1 + e2), alpha[0], 5);
        Assert.Equal(e2 / (1 + e2), alpha[4], 5);
        Assert.Equal(0f, alpha[2], 5);
        Assert.Equal(1f, alpha[6], 5);
        // head 1: destination 0 has 0 and 0, destination 1 has 0 and 5.
        Assert.Equal(0.5f, alpha[1], 5);
        Assert.Equal(0.5f, alpha[5], 5);
        Assert.Equal(1 / (1 + (float)Math.Exp(5)), alpha[3], 5);
    }

    [Fact]
    public void Edge_softmax_stays_finite_when_one_destination_scores_far_below_another()
    {
        using var scope = NewDisposeScope();
        var alpha = EdgeSoftmax.Compute(tensor(new float[] { 1000, 999, -1000, -1001 }), tensor(new long[] { 0, 0, 1, 1 }), 2);
        var values = alpha.data<float>().ToArray();
        Assert.All(values, v => Assert.True(float.IsFinite(v)));
        Assert.Equal(values[0], values[2], 5);
        Assert.Equal(1f, values[2] + values[3], 5);
    }

    [Fact]
    public void GatConv_attention_sums_to_one_per_destination_and_weights_the_sources_as_computed_by_hand()
    {
        using var scope = NewDisposeScope();
        using var conv = new GatConv(1, 1, outPerHead: 1, heads: 1);
        using (no_grad())
        {
            foreach (var (name, p) in conv.named_parameters())
            {
                // W = 1, a_l = 1, a_r = 0, so e_uv = LeakyReLU(h_u) and z = h.
                p.copy_(name switch { "fc.weight" => ones(1, 1), "attn_l" => ones(1, 1, 1), "attn_r" => zeros(1, 1, 1), _ => zeros_like(p) });
            }
        }
        var h = tensor(new float[] { 0, 1, 2 }, [3, 1]);
        var src = tensor(new long[] { 1, 2, 0, 2 });
        var dst = tensor(new long[] { 0, 0, 1, 1 });

        var (output, attention) = conv.ForwardWithAttention(h, h.narrow(0, 0, 2), src, dst);

        var a = attention.data<float>().ToArray();
        var e = (float)Math.E;
        Assert.Equal(1 / (1 + e), a[0], 5);
        Assert.Equal(e / (1 + e), a[1], 5);
        Assert.Equal(1 / (1 + (e * e)), a[2], 5);
        Assert.Equal(1f, a[0] + a[1], 5);
        Assert.Equal(1f, a[2] + a[3], 5);
        var o = output.data<float>().ToArray();
        Assert.Equal((1 / (1 + e)) + (2 * e / (1 + e)), o[0], 5);
        Assert.Equal(2 * e * e / (1 + (e * e)), o[1], 5);
    }

    [Fact]
    public void GatConv_with_self_loops_lets_each_destination_attend_to_itself_as_after_adding_the_loops_to_the_graph()
    {
        using var scope = NewDisposeScope();
        manual_seed(4);
        using var looped = new GatConv(3, 3, outPerHead: 2, heads: 2, selfLoops: true);
        using var plain = new GatConv(3, 3, outPerHead: 2, heads: 2);
        plain.load_state_dict(looped.state_dict());
        looped.eval();
        plain.eval();
        var h = randn(4, 3);
        var src = tensor(new long[] { 1, 2, 3 });
        var dst = tensor(new long[] { 0, 0, 1 }); // destination 2 has no in-edges

        var (output, attention) = looped.ForwardWithAttention(h, h.narrow(0, 0, 3), src, dst, dstIsSrcPrefix: true);
        // The same layer without the option, on the graph with the loops added by hand.
        var (expected, _) = plain.ForwardWithAttention(h, h.narrow(0, 0, 3), tensor(new long[] { 1, 2, 3, 0, 1, 2 }), tensor(new long[] { 0, 0, 1, 0, 1, 2 }), dstIsSrcPrefix: true);

        Assert.Equal(new long[] { 6, 2 }, attention.shape);
        Assert.True(output.allclose(expected, rtol: 1e-5, atol: 1e-6));
        Assert.True(output[2].abs().sum().item<float>() > 0, "a destination without in-edges should still see itself");
        // Without same-type rows (dstIsSrcPrefix false) no loop is added.
        var (_, noLoops) = looped.ForwardWithAttention(h, h.narrow(0, 0, 3), src, dst, dstIsSrcPrefix: false);
        Assert.Equal(3, noLoops.size(0));
    }

    [Fact]
    public void GatConv_with_several_heads_concatenates_or_averages_them()
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        using var concat = new GatConv(4, 4, outPerHead: 3, heads: 2, concatHeads: true, residual: true);
        using var mean = new GatConv(4, 6, outPerHead: 3, heads: 2, concatHeads: false, residual: true);
        var src = tensor(new long[] { 1, 2, 0 });
        var dst = tensor(new long[] { 0, 0, 1 });
        Assert.Equal(new long[] { 2, 6 }, concat.ForwardWithAttention(randn(3, 4), randn(2, 4), src, dst).Output.shape);
        Assert.Equal(new long[] { 2, 3 }, mean.ForwardWithAttention(randn(3, 4), randn(2, 6), src, dst).Output.shape);
    }

    [Fact]
    public void RelGraphConv_basis_decomposition_equals_the_explicit_per_relation_weights()
    {
        using var scope = NewDisposeScope();
        manual_seed(5);
        RelationKey r0 = new("a", "x", "a"), r1 = new("b", "y", "a"), r2 = new("a", "z", "b");
        using var conv = new RelGraphConv(2, 3, [r0, r1, r2], numBases: 2);
        using var _ = no_grad();
        var parameters = conv.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter);
        using (no_grad())
            parameters["h_bias"].copy_(tensor(new float[] { 0.1f, -0.2f, 0.3f }));
        var bases = parameters["weight"];
        var coefficients = parameters["w_comp"];
        var loop = parameters["loop_weight"];
        Assert.Equal(new long[] { 2, 2, 3 }, bases.shape);

        var explicitWeights = Enumerable.Range(0, 3)
            .Select(r => (coefficients[r, 0] * bases[0]) + (coefficients[r, 1] * bases[1]))
            .ToArray();
        var weights = conv.RelationWeights();
        for (var r = 0; r < 3; r++)
            Assert.True(weights[r].allclose(explicitWeights[r], rtol: 1e-5, atol: 1e-6), $"W_{r} differs");

        using var block = Block.Create(
            new Dictionary<string, long> { ["a"] = 3, ["b"] = 2 },
            new Dictionary<string, long> { ["a"] = 2, ["b"] = 1 },
            new Dictionary<RelationKey, RelationEdges>
            {
                [r0] = new([1, 2, 0], [0, 0, 1]),
                [r1] = new([0, 1], [0, 0]),
                [r2] = new([2], [0]),
            });
        var xa = randn(3, 2);
        var xb = randn(2, 2);
        var output = conv.forward(block, new Dictionary<string, Tensor> { ["a"] = xa, ["b"] = xb });

        Tensor Row(Tensor x, int i) => x[i].unsqueeze(0);
        var bias = parameters["h_bias"];
        var a0 = Row(xa, 0).matmul(loop)
            + ((Row(xa, 1) + Row(xa, 2)).matmul(explicitWeights[0]) / 2)
            + ((Row(xb, 0) + Row(xb, 1)).matmul(explicitWeights[1]) / 2) + bias;
        var a1 = Row(xa, 1).matmul(loop) + Row(xa, 0).matmul(explicitWeights[0]) + bias;
        var b0 = Row(xb, 0).matmul(loop) + Row(xa, 2).matmul(explicitWeights[2]) + bias;
        Assert.True(output["a"].allclose(cat([a0, a1]), rtol: 1e-4, atol: 1e-5), "type a differs");
        Assert.True(output["b"].allclose(b0, rtol: 1e-4, atol: 1e-5), "type b differs");
    }

    [Fact]
    public void HeteroConv_sums_or_averages_the_relations_reaching_a_type_and_keeps_a_self_transform_for_unreached_types()
    {
        using var scope = NewDisposeScope();
        manual_seed(9);
        RelationKey ab = new("a", "r", "b"), bb = new("b", "s", "b");
        var convAb = new SageConv(2, 3, 4);
        var convBb = new SageConv(3, 3, 4);
        var convs = new Dictionary<RelationKey, nn.Module> { [ab] = convAb, [bb] = convBb };
        var inDims = new Dictionary<string, long> { ["a"] = 2, ["b"] = 3 };
        using var sum = new HeteroConv(convs, CrossRelationAggregation.Sum, inDims);
        using var mean = new HeteroConv(convs, CrossRelationAggregation.Mean, inDims);
        using var block = Block.Create(
            new Dictionary<string, long> { ["a"] = 3, ["b"] = 3 },
            new Dictionary<string, long> { ["a"] = 1, ["b"] = 2 },
            new Dictionary<RelationKey, RelationEdges>
            {
                [ab] = new([0, 1, 2], [0, 1, 1]),
                [bb] = new([2, 0], [0, 1]),
            });
        var features = new Dictionary<string, Tensor> { ["a"] = randn(3, 2), ["b"] = randn(3, 3) };
        using var _ = no_grad();

        var fromA = convAb.Forward(features["a"], features["b"].narrow(0, 0, 2), block.Edges[ab]);
        var fromB = convBb.Forward(features["b"], features["b"].narrow(0, 0, 2), block.Edges[bb]);
        var summed = sum.forward(block, features);
        var averaged = mean.forward(block, features);

        Assert.True(summed["b"].allclose(fromA + fromB, atol: 1e-6));
        Assert.True(averaged["b"].allclose((fromA + fromB) / 2, atol: 1e-6));
        Assert.Equal(new long[] { 1, 4 }, summed["a"].shape); // 'a' is reached by no relation: self transform
        Assert.Contains(sum.named_parameters(), p => p.name == "self_transforms.a.weight");
    }
}
