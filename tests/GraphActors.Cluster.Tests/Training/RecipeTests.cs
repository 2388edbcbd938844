using GraphActors.Cluster.Tests.Support;
using GraphActors.Cluster.Trainers;
using GraphActors.Graph.Storage;
using GraphActors.Sampling;
using GraphActors.Training;
using Xunit.Abstractions;

namespace GraphActors.Cluster.Tests.Training;

/// <summary>
/// The shipped Cora recipes, read from hocon/ as a user's `graphactors train --config` reads them, reach the published
/// Planetoid figures: no recipe lives only in a test.
/// </summary>
[Collection(MultiNodeCollection.Name)]
public sealed class RecipeTests(ITestOutputHelper output)
{
    private async Task<double> TestAccuracy(string file)
    {
        var path = Path.Combine(RepoFiles.Root, "hocon", file);
        var recipe = TrainingHocon.Parse(File.ReadAllText(path), path).Config with { CheckpointDir = null };
        using var store = new PartitionedGraphStore(PartitionStore.Open(TrainingStores.Cora));
        using var trainer = await Trainer.CreateAsync(store, recipe);
        var result = await trainer.RunAsync();
        output.WriteLine($"{file}: best val {result.BestValidation} at epoch {result.BestEpoch} of {result.Epochs}; test {result.Test}");
        return result.Test!.Value;
    }

    [DatasetFact("cora")]
    public async Task The_GraphSAGE_recipe_reaches_0_80_on_the_Planetoid_split()
    {
        var test = await TestAccuracy("cora.hocon");
        Assert.True(test >= 0.80, $"test accuracy {test:F3} < 0.80");
    }

    [DatasetFact("cora")]
    public async Task The_GAT_recipe_reaches_the_published_0_815_on_the_Planetoid_split()
    {
        var test = await TestAccuracy("cora-gat.hocon");
        Assert.True(test >= 0.815, $"test accuracy {test:F3} < 0.815");
    }
}
