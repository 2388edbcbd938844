using TorchSharp;
using static TorchSharp.torch;

namespace GraphActors.Models.Tests;

public sealed class HeadAndMetricTests
{
    [Fact]
    public void Accuracy_and_macro_F1_match_hand_computed_values()
    {
        int[] predicted = [0, 1, 2, 1], labels = [0, 1, 1, 1];
        Assert.Equal(0.75, Metrics.Accuracy(predicted, labels), 12);
        // F1 per class: 0 → 1, 1 → 2·2/(2·2+0+1) = 0.8, 2 (predicted only) → 0.
        Assert.Equal(0.6, Metrics.MacroF1(predicted, labels), 12);
    }

    [Fact]
    public void Roc_auc_counts_tied_pairs_as_half()
    {
        Assert.Equal(0.75, Metrics.RocAuc([0.1, 0.4, 0.35, 0.8], [false, false, true, true]), 12);
        // pairs (pos, neg): (.5,.5) tie = .5, (.5,.2) = 1, (.9,.5) = 1, (.9,.2) = 1 → 3.5 / 4.
        Assert.Equal(0.875, Metrics.RocAuc([0.5, 0.5, 0.2, 0.9], [true, false, false, true]), 12);
    }

    [Fact]
    public void Mrr_and_hits_at_k_rank_each_positive_against_its_own_negatives()
    {
        double[] positives = [0.9, 0.5, 0.3];
        double[][] negatives = [[0.1, 0.2], [0.6, 0.5], [0.4, 0.8]];
        // ranks 1, 2.5 (one above, one tied), 3.
        Assert.Equal(new[] { 1, 2.5, 3 }, Metrics.Ranks(positives, negatives));
        Assert.Equal((1 + 0.4 + (1 / 3.0)) / 3, Metrics.MeanReciprocalRank(positives, negatives), 12);
        Assert.Equal(1 / 3.0, Metrics.HitsAtK(positives, negatives, 1), 12);
        Assert.Equal(1 / 3.0, Metrics.HitsAtK(positives, negatives, 2), 12);
        Assert.Equal(1.0, Metrics.HitsAtK(positives, negatives, 3), 12);
    }

    [Theory]
    [InlineData(ReadoutKind.Sum, new float[] { 2, -3, 0, 0, 5, 0 })]
    [InlineData(ReadoutKind.Mean, new float[] { 2 / 3f, -1, 0, 0, 5, 0 })]
    [InlineData(ReadoutKind.Max, new float[] { 3, 2, 0, 0, 5, 0 })]
    public void Graph_readout_pools_each_graphs_nodes_and_reads_zeros_for_an_empty_graph(ReadoutKind kind, float[] expected)
    {
        using var scope = NewDisposeScope();
        var h = tensor(new float[] { 1, 2, 3, -1, 5, 0, -2, -4 }, [4, 2]);
        var graph = tensor(new long[] { 0, 0, 2, 0 });
        var actual = GraphReadout.Apply(h, graph, 3, kind).data<float>().ToArray();
        for (var i = 0; i < expected.Length; i++)
            Assert.Equal(expected[i], actual[i], 5);
    }

    [Fact]
    public void Graph_classifier_max_readout_passes_gradient_to_the_winning_nodes()
    {
        using var scope = NewDisposeScope();
        using var classifier = new GraphClassifier(2, 3, ReadoutKind.Max);
        var h = tensor(new float[] { 1, 2, 3, -1, 5, 0 }, [3, 2]).requires_grad_(true);
        var logits = classifier.forward(h, tensor(new long[] { 0, 0, 1 }), 2);
        Assert.Equal(new long[] { 2, 3 }, logits.shape);
        TaskLosses.NodeClassification(logits, tensor(new long[] { 0, 2 })).backward();
        var grad = h.grad!.abs().data<float>().ToArray();
        Assert.Equal(0f, grad[0]); // node 0, feature 0 lost to node 1
        Assert.Equal(0f, grad[3]); // node 1, feature 1 lost to node 0
        Assert.True(grad[1] > 0 && grad[2] > 0);
    }

    [Fact]
    public void Link_scorers_give_one_score_per_pair_and_the_loss_falls_with_training()
    {
        using var scope = NewDisposeScope();
        manual_seed(2);
        var hu = tensor(new float[] { 1, 2, 0, 1 }, [2, 2]);
        var hv = tensor(new float[] { 3, 1, 2, 2 }, [2, 2]);
        using var dot = new DotProductScorer();
        Assert.Equal(new float[] { 5, 2 }, dot.forward(hu, hv).data<float>().ToArray());

        using var mlp = new MlpScorer(2, 8);
        var optimizer = optim.Adam(mlp.parameters(), lr: 0.05);
        var first = 0f;
        var last = 0f;
        for (var step = 0; step < 30; step++)
        {
            using var s = NewDisposeScope();
            optimizer.zero_grad();
            var loss = TaskLosses.LinkPrediction(mlp.forward(hu, hv), mlp.forward(hv, hu));
            loss.backward();
            optimizer.step();
            last = loss.item<float>();
            if (step == 0)
                first = last;
        }
        Assert.Equal(new long[] { 2 }, mlp.forward(hu, hv).shape);
        Assert.True(last < first / 2, $"link loss went from {first} to {last}");
    }
}
