using GraphActors.Cluster.Tests.Support;
using GraphActors.Cluster.Trainers;
using GraphActors.Graph.Storage;
using GraphActors.Sampling;
using GraphActors.Training;
using Xunit.Abstractions;

namespace GraphActors.Cluster.Tests.Training;

/// <summary>
/// The shipped recipes, read from hocon/ as a user's `graphactors train --config` reads them, reach their figures: the
/// published Planetoid ones on Cora, and the MovieLens link recipe's with embeddings. No recipe lives only in a test.
/// </summary>
[Collection(MultiNodeCollection.Name)]
public sealed class RecipeTests(ITestOutputHelper output)
{
    private async Task<double> TestAccuracy(string file) => await TestMetric(file, TrainingStores.Cora);

    private async Task<double> TestMetric(string file, string storePath)
    {
        var path = Path.Combine(RepoFiles.Root, "hocon", file);
        var recipe = TrainingHocon.Parse(File.ReadAllText(path), path).Config with { CheckpointDir = null };
        using var store = new PartitionedGraphStore(PartitionStore.Open(storePath));
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

    [Fact]
    public async Task The_MovieLens_link_recipe_with_learnable_embeddings_reaches_0_85_test_AUC()
    {
        var auc = await TestMetric("movielens-links.hocon", TrainingStores.MovieLens);
        Assert.True(auc >= 0.85, $"test AUC {auc:F3} < 0.85");
    }
}
