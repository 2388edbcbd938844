using TorchSharp;
using static TorchSharp.torch;

namespace GraphActors.Models.Tests;

public sealed class SageConvTests
{
    // Block used by the hand-computed cases: three nodes, all of them destinations; node 0 hears
    // from 1 and 2, node 1 from 2, node 2 from nobody.
    private static readonly float[] Features = [1, 2, 3, 7, 5, 6];
    private static readonly long[] EdgeSrc = [1, 2, 2];
    private static readonly long[] EdgeDst = [0, 0, 1];

    [Theory]
    [InlineData(SageAggregator.Mean)]
    [InlineData(SageAggregator.Gcn)]
    [InlineData(SageAggregator.Pool)]
    public void Training_steps_produce_non_zero_gradients_and_reduce_the_loss(SageAggregator aggregator)
    {
        using var outer = NewDisposeScope();
        manual_seed(42);
        using var conv = new SageConv(inDim: 4, outDim: 3, aggregator);
        var x = randn(6, 4);
        var src = tensor(new long[] { 1, 2, 3, 4, 5, 0, 5 });
        var dst = tensor(new long[] { 0, 0, 1, 2, 2, 3, 3 });
        var target = randn(4, 3);
        var optimizer = optim.SGD(conv.parameters(), learningRate: 0.05);

        var losses = new List<float>();
        for (var step = 0; step < 20; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var loss = nn.functional.mse_loss(conv.forward(x, src, dst, 4), target);
            loss.backward();
            if (step == 0)
            {
                foreach (var (name, parameter) in conv.named_parameters())
                {
                    Assert.True(parameter.grad is not null, $"{name} has no gradient");
                    Assert.True(parameter.grad!.abs().sum().item<float>() > 0, $"{name} has an all-zero gradient");
                }
            }
            optimizer.step();
            losses.Add(loss.item<float>());
        }

        Assert.True(losses[^1] < 0.8f * losses[0], $"loss went from {losses[0]} to {losses[^1]}");
    }

    [Fact]
    public void Mean_aggregator_matches_a_hand_computed_block()
    {
        // means: node 0 ([3,7]+[5,6])/2 = [4,6.5], node 1 [5,6], node 2 none = [0,0];
        // out = swap(h) + [[1,0],[1,1]]·mean + [0.5,-0.5].
        AssertBlockOutput(SageAggregator.Mean, [6.5f, 11f, 12.5f, 13.5f, 6.5f, 4.5f]);
    }

    [Fact]
    public void Gcn_aggregator_averages_neighbours_together_with_the_node_itself()
    {
        // node 0 ([3,7]+[5,6]+[1,2])/3 = [3,5], node 1 ([5,6]+[3,7])/2 = [4,6.5], node 2 [5,6]/1;
        // out = [[1,0],[1,1]]·that + [0.5,-0.5] (gcn has no self weight).
        AssertBlockOutput(SageAggregator.Gcn, [3.5f, 7.5f, 4.5f, 10f, 5.5f, 10.5f]);
    }

    [Fact]
    public void Pool_aggregator_takes_the_elementwise_maximum_and_zero_for_isolated_nodes()
    {
        // identity pool: node 0 max([3,7],[5,6]) = [5,7], node 1 [5,6], node 2 none = [0,0].
        AssertBlockOutput(SageAggregator.Pool, [7.5f, 12.5f, 12.5f, 13.5f, 6.5f, 4.5f]);
    }

    [Fact]
    public void Destination_nodes_are_the_first_rows_of_the_source_features()
    {
        using var scope = NewDisposeScope();
        using var conv = new SageConv(2, 2);
        using var _ = no_grad();
        var output = conv.forward(tensor(Features, [3, 2]), tensor(EdgeSrc), tensor(EdgeDst), numDst: 2);
        Assert.Equal(new long[] { 2, 2 }, output.shape);
    }

    private static void AssertBlockOutput(SageAggregator aggregator, float[] expected)
    {
        using var scope = NewDisposeScope();
        using var conv = new SageConv(2, 2, aggregator);
        using var _ = no_grad();
        var weights = new Dictionary<string, float[]>
        {
            ["fc_self.weight"] = [0, 1, 1, 0],
            ["fc_neigh.weight"] = [1, 0, 1, 1],
            ["fc_pool.weight"] = [1, 0, 0, 1],
            ["fc_pool.bias"] = [0, 0],
            ["bias"] = [0.5f, -0.5f],
        };
        foreach (var (name, parameter) in conv.named_parameters())
            parameter.copy_(tensor(weights[name], parameter.shape));

        var output = conv.forward(tensor(Features, [3, 2]), tensor(EdgeSrc), tensor(EdgeDst), numDst: 3);

        Assert.Equal(new long[] { 3, 2 }, output.shape);
        var actual = output.data<float>().ToArray();
        for (var i = 0; i < expected.Length; i++)
            Assert.Equal(expected[i], actual[i], precision: 5);
    }
}
