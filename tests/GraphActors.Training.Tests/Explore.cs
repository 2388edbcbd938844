using Xunit.Abstractions;
namespace GraphActors.Training.Tests;
[Collection(nameof(AccuracyCollection))]
public sealed class Explore(ITestOutputHelper output)
{
    [Fact(Skip = "manual sweep: dotnet test --filter Explore after removing Skip")]
    public async Task Sweep()
    {
        var t = new CoraTrainingTests(output);
        foreach (var (agg, hidden, drop) in new[] { ("gcn", 64, 0.5), ("mean", 16, 0.5), ("mean", 128, 0.7), ("gcn", 16, 0.5) })
            foreach (var seed in new[] { 0, 1 })
                await t.Run(CoraTrainingTests.CoraNodes("sage", seed) with { Aggregator = agg, HiddenChannels = hidden, Dropout = drop, EvalEvery = 2 });
    }
}
