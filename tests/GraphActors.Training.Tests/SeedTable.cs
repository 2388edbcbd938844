using Xunit.Abstractions;
namespace GraphActors.Training.Tests;

/// <summary>The figures of docs/TRAINING.md for seeds 0–2; skipped by default (about 8 minutes). Remove Skip to run.</summary>
[Collection(nameof(AccuracyCollection))]
public sealed class SeedTable(ITestOutputHelper output)
{
    [Fact(Skip = "manual: the docs/TRAINING.md table; remove Skip and run with --filter SeedTable")]
    public async Task Three_seeds()
    {
        var cora = new CoraTrainingTests(output);
        foreach (var seed in new[] { 0, 1, 2 })
        {
            await cora.Run(CoraTrainingTests.CoraNodes("sage", seed));
            await cora.Run(CoraTrainingTests.CoraNodes("gat", seed));
            await cora.Run(CoraTrainingTests.CoraNodes("sage", seed) with { NodeSplit = "random", Epochs = 60, Patience = 20 });
            await cora.Run(CoraTrainingTests.CoraLinks(seed));
            await SyntheticTrainingTests.RunUsers(SyntheticTrainingTests.Users("sage", 0, seed), output);
            foreach (var m in new[] { "sage", "gat", "rgcn" }) await SyntheticTrainingTests.RunUsers(SyntheticTrainingTests.Users(m, 2, seed), output);
            var (v, t) = GraphClassificationTests.Run("sage", seed);
            output.WriteLine($"graph classification seed {seed}: val {v:F3} test {t:F3}");
        }
    }
}
