using System.Diagnostics;
using GraphActors.Sampling;
using Xunit.Abstractions;

namespace GraphActors.Training.Tests;

// The torch RNG is process-wide: seeded accuracy runs get the process to themselves.
[CollectionDefinition(nameof(AccuracyCollection), DisableParallelization = true)]
public sealed class AccuracyCollection;

/// <summary>Mini-batch training on Cora through the whole pipeline (LINQS import → CGDF → hash partitions → store).</summary>
[Collection(nameof(AccuracyCollection))]
public sealed class CoraTrainingTests(ITestOutputHelper output)
{
    // Cora as DGL and PyG use it: row-normalised features, citations made undirected (bidirected).
    internal static TrainingConfig CoraNodes(string model, int seed) => new()
    {
        ModelType = model,
        Task = "node_classification",
        Target = "paper",
        HiddenChannels = model == "gat" ? 8 : 128,
        Heads = 8,
        NumLayers = 2,
        Fanouts = [10, 10],
        BatchSize = 1024,
        LearningRate = model == "gat" ? 0.005 : 0.01,
        WeightDecay = 5e-4,
        Dropout = model == "gat" ? 0.6 : 0.7,
        Activation = model == "gat" ? "elu" : "relu",
        FeatureNorm = "row",
        ReverseEdges = "bidirected",
        Epochs = 200,
        Patience = 40,
        EvalEvery = 2,
        Seed = seed,
        Threads = 2,
    };

    internal async Task<TrainingResult> Run(TrainingConfig config)
    {
        using var store = TestStores.Cora();
        using var trainer = await Trainer.CreateAsync(store, config);
        var clock = Stopwatch.StartNew();
        var result = await trainer.RunAsync();
        output.WriteLine($"{config.ModelType} {config.Task} seed {config.Seed}: best val {result.BestValidation} at epoch {result.BestEpoch} of {result.Epochs}; test {result.Test}; {clock.Elapsed.TotalSeconds:F1} s");
        return result;
    }

    [DatasetFact("cora")]
    public async Task Minibatch_HeteroGraphSAGE_reaches_0_80_test_accuracy_on_the_Planetoid_split()
    {
        var r = await Run(CoraNodes("sage", 0));
        Assert.True(r.Test!.Value >= 0.80, $"test accuracy {r.Test.Value:F3} < 0.80");
    }

    [DatasetFact("cora")]
    public async Task Minibatch_HeteroGAT_reaches_0_80_test_accuracy_on_the_Planetoid_split()
    {
        var r = await Run(CoraNodes("gat", 0));
        Assert.True(r.Test!.Value >= 0.80, $"test accuracy {r.Test.Value:F3} < 0.80");
    }

    [DatasetFact("cora")]
    public async Task Minibatch_HeteroGraphSAGE_reaches_0_85_test_accuracy_on_a_random_60_20_20_split()
    {
        var r = await Run(CoraNodes("sage", 0) with { NodeSplit = "random", Epochs = 60, Patience = 20 });
        Assert.True(r.Test!.Value >= 0.85, $"test accuracy {r.Test.Value:F3} < 0.85");
    }

    internal static TrainingConfig CoraLinks(int seed) => new()
    {
        ModelType = "sage",
        Task = "link_prediction",
        Target = "cites",
        HiddenChannels = 64,
        NumLayers = 2,
        Fanouts = [10, 10],
        BatchSize = 512,
        LearningRate = 0.005,
        Dropout = 0.2,
        FeatureNorm = "row",
        ReverseEdges = "bidirected",
        Negatives = 1,
        ValFraction = 0.05,
        TestFraction = 0.1,
        Epochs = 15,
        EvalEvery = 5,
        EvalNegatives = 10,
        Seed = seed,
        Threads = 2,
    };

    [DatasetFact("cora")]
    public async Task Link_prediction_on_Cora_reaches_0_90_test_AUC_on_held_out_edges()
    {
        var r = await Run(CoraLinks(0));
        Assert.True(r.Test!.Metrics["auc"] >= 0.90, $"test AUC {r.Test.Metrics["auc"]:F3} < 0.90");
    }
}
