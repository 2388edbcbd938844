using GraphActors.Sampling;
using Xunit.Abstractions;

namespace GraphActors.Training.Tests;

/// <summary>
/// The generated user/item graph (docs/DATA.md): a user's label is the majority community of the items it clicked,
/// so it is in its neighbourhood, not its features. Chance is 1/8; a features-only MLP is capped by the noise.
/// </summary>
[Collection(nameof(AccuracyCollection))]
public sealed class SyntheticTrainingTests(ITestOutputHelper output)
{
    public const double Chance = 1.0 / 8;

    internal static TrainingConfig Users(string model, int layers, int seed) => new()
    {
        ModelType = model,
        Task = "node_classification",
        Target = "user",
        HiddenChannels = 32,
        Heads = 2,
        NumLayers = layers,
        Fanouts = layers == 0 ? [] : [10, 10],
        EvalFanouts = layers == 0 ? null : [10, 10],
        BatchSize = 256,
        LearningRate = 0.01,
        Dropout = 0.2,
        ReverseEdges = "add_reverse", // users only send clicks: without click_reverse they would receive nothing
        Epochs = 8,
        EvalEvery = 2,
        Seed = seed,
        Threads = 2,
    };

    private static readonly Lazy<double> MlpBaseline = new(() => RunUsers(Users("sage", 0, 0), null).GetAwaiter().GetResult());

    internal static async Task<double> RunUsers(TrainingConfig config, ITestOutputHelper? output)
    {
        using var store = TestStores.Synthetic();
        using var trainer = await Trainer.CreateAsync(store, config);
        var r = await trainer.RunAsync();
        output?.WriteLine($"{(config.NumLayers == 0 ? "mlp" : config.ModelType)} seed {config.Seed}: val {r.BestValidation}, test {r.Test}");
        return r.Test!.Value;
    }

    [Theory]
    [InlineData("sage")]
    [InlineData("gat")]
    [InlineData("rgcn")]
    public async Task A_GNN_beats_chance_and_the_features_only_MLP_on_generated_users(string model)
    {
        var mlp = MlpBaseline.Value;
        output.WriteLine($"features-only MLP: test accuracy {mlp:F3} (chance {Chance:F3})");
        var gnn = await RunUsers(Users(model, 2, 0), output);
        Assert.True(gnn > 3 * Chance, $"{model} test accuracy {gnn:F3} is not clearly above chance {Chance:F3}");
        Assert.True(gnn > mlp + 0.1, $"{model} test accuracy {gnn:F3} does not clearly beat the MLP's {mlp:F3}");
    }
}

[Collection(nameof(AccuracyCollection))]
public sealed class GraphClassificationTests(ITestOutputHelper output)
{
    internal static (double Val, double Test) Run(string model, int seed)
    {
        var graphs = StructureGraphs.Generate(600, seed);
        using var trainer = new GraphClassificationTrainer(new TrainingConfig
        {
            Task = "graph_classification", ModelType = model, HiddenChannels = 32, NumLayers = 2, Fanouts = [-1, -1],
            BatchSize = 32, LearningRate = 0.01, Dropout = 0.0, Readout = "mean", Epochs = 15, Seed = seed, Threads = 2,
        });
        return trainer.Run(graphs.Take(400).ToList(), graphs.Skip(400).Take(100).ToList(), graphs.Skip(500).ToList());
    }

    [Fact]
    public void Cycles_and_trees_are_told_apart_well_above_the_chance_level_of_one_half()
    {
        var (val, test) = Run("sage", 0);
        output.WriteLine($"graph classification (sage, mean readout): val {val:F3}, test {test:F3}, chance 0.5");
        Assert.True(test >= 0.8, $"test accuracy {test:F3} is not clearly above chance 0.5");
    }
}
