using System.Diagnostics;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace GraphActors.Models.Tests;

// TorchSharp's random generator is process-wide: tests running alongside would draw from it and
// change the dropout masks, so the seeded Cora runs get the process to themselves.
[CollectionDefinition(nameof(CoraAccuracyTests), DisableParallelization = true)]
public sealed class CoraCollection;

/// <summary>Full-batch Cora node classification on the standard Planetoid split (140/500/1000).</summary>
[Collection(nameof(CoraAccuracyTests))]
public sealed class CoraAccuracyTests(ITestOutputHelper output)
{
    private static readonly Lazy<CoraData> Cora = new(() => CoraData.Load(SharedData.Require("cora")));

    [DatasetFact("cora")]
    public void HeteroGraphSAGE_mean_reaches_at_least_0_78_test_accuracy_on_Cora_full_batch()
    {
        var cora = Cora.Value;
        var config = ModelConfig.Homogeneous(ModelType.Sage, cora.NumFeatures, cora.NumClasses) with
        {
            // Hidden 16, not 256: on this 2-core machine 256 cost about 3x the time per epoch
            // (1433x256 input projections and their Adam updates) for no gain in accuracy here.
            HiddenChannels = 16,
            NumLayers = 2,
            Dropout = 0.5,
            Aggregator = SageAggregator.Mean,
        };
        var test = Train(cora, config, learningRate: 0.01, weightDecay: 5e-4, patience: 50);
        Assert.True(test >= 0.78, $"test accuracy {test:F3} < 0.78");
    }

    [DatasetFact("cora")]
    public void HeteroGAT_reaches_at_least_0_78_test_accuracy_on_Cora_full_batch()
    {
        // The GAT paper's Cora settings: 8 heads of 8 hidden units, ELU, dropout 0.6 on features and attention.
        var cora = Cora.Value;
        var config = ModelConfig.Homogeneous(ModelType.Gat, cora.NumFeatures, cora.NumClasses) with
        {
            HiddenChannels = 8,
            Heads = 8,
            OutputHeads = 1,
            NumLayers = 2,
            Dropout = 0.6,
            Activation = Activation.Elu,
        };
        var test = Train(cora, config, learningRate: 0.005, weightDecay: 5e-4, patience: 100);
        Assert.True(test >= 0.78, $"test accuracy {test:F3} < 0.78");
    }

    // Model selection looks at validation accuracy every few epochs; a full evaluation every epoch
    // would cost a third of the run for no change in what the test checks.
    private const int EvaluateEvery = 5;

    /// <summary>
    /// Trains at most 200 epochs with a fixed seed, stopping once validation accuracy has not improved
    /// for <paramref name="patience"/> epochs (the GAT paper uses 100); returns the test accuracy at the
    /// epoch of best validation accuracy.
    /// </summary>
    private double Train(CoraData cora, ModelConfig config, double learningRate, double weightDecay, int patience, int epochs = 200)
    {
        using var outer = NewDisposeScope();
        manual_seed(0);
        using var block = Block.Homogeneous(cora.NumNodes, new RelationEdges(cora.EdgeSrc, cora.EdgeDst));
        var blocks = Enumerable.Repeat(block, config.NumLayers).ToList();
        var features = new Dictionary<string, Tensor> { ["_N"] = tensor(cora.Features, [cora.NumNodes, cora.NumFeatures]) };
        var labels = tensor(cora.Labels);
        var train = tensor(cora.Train);
        var val = tensor(cora.Val);
        var test = tensor(cora.Test);
        using var model = ModelFactory.Create(config);
        using var optimizer = optim.Adam(model.parameters(), lr: learningRate, weight_decay: weightDecay);

        double bestVal = -1, testAtBest = 0;
        var bestEpoch = 0;
        var watch = Stopwatch.StartNew();
        for (var epoch = 0; epoch < epochs; epoch++)
        {
            using (NewDisposeScope())
            {
                model.train();
                optimizer.zero_grad();
                var logits = model.forward(blocks, features)["_N"];
                var loss = TaskLosses.NodeClassification(logits.index_select(0, train), labels.index_select(0, train));
                loss.backward();
                optimizer.step();
            }
            if (epoch % EvaluateEvery != 0 && epoch != epochs - 1)
                continue;
            using (NewDisposeScope())
            using (no_grad())
            {
                model.eval();
                var predicted = model.forward(blocks, features)["_N"].argmax(1);
                var valAccuracy = Accuracy(predicted, labels, val);
                if (valAccuracy > bestVal)
                {
                    bestVal = valAccuracy;
                    testAtBest = Accuracy(predicted, labels, test);
                    bestEpoch = epoch;
                }
            }
            if (epoch - bestEpoch >= patience)
                break;
        }
        var secondsPerEpoch = watch.Elapsed.TotalSeconds / (epochs == 0 ? 1 : Math.Min(epochs, bestEpoch + patience + 1));
        output.WriteLine($"{config.ModelType} hidden {config.HiddenChannels}: best val {bestVal:F3} at epoch {bestEpoch}, test {testAtBest:F3}, {secondsPerEpoch * 1000:F1} ms per epoch (train step + evaluation every {EvaluateEvery}), {watch.Elapsed.TotalSeconds:F1} s in all");
        return testAtBest;
    }

    private static double Accuracy(Tensor predicted, Tensor labels, Tensor index) =>
        predicted.index_select(0, index).eq(labels.index_select(0, index)).to_type(ScalarType.Float32).mean().item<float>();
}
