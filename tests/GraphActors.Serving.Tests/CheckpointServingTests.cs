// A checkpoint written by the trainer, loaded by TrainingCheckpointLoader, served by the engine: same answers as offline.
using GraphActors.Contracts;
using GraphActors.Graph;
using GraphActors.Sampling;
using GraphActors.Training;
using static TorchSharp.torch;

namespace GraphActors.Serving.Tests;

public sealed class CheckpointServingTests : IDisposable
{
    private readonly TestWorld _world = new();

    public void Dispose() => _world.Dispose();

    private static TrainingConfig Config(string featureNorm) => new()
    {
        ModelType = "sage", Task = "node_classification", Target = "user", HiddenChannels = 8, NumLayers = 2,
        Fanouts = [3, 3], BatchSize = 16, LearningRate = 0.01, Dropout = 0.1, Epochs = 2, Seed = 3,
        NodeSplit = "random", ReverseEdges = "add_reverse", FeatureNorm = featureNorm, Prefetch = 1,
    };

    private async Task<(Trainer Trainer, string Dir)> TrainAsync(string featureNorm)
    {
        var trainer = await Trainer.CreateAsync(_world.Store, Config(featureNorm));
        await trainer.TrainEpochAsync();
        await trainer.TrainEpochAsync();
        var dir = Path.Combine(_world.Root, "ckpt-" + featureNorm);
        Checkpoints.Save(trainer, dir, new Dictionary<string, double> { ["accuracy"] = 0.5 });
        return (trainer, dir);
    }

    [Theory]
    [InlineData("none")]
    [InlineData("row")]
    public async Task Served_checkpoint_matches_the_trainers_full_neighbourhood_output(string featureNorm)
    {
        var (trainer, dir) = await TrainAsync(featureNorm);
        using var _ = trainer;
        using var engine = new InferenceEngine(_world.Store, new TrainingCheckpointLoader(_world.Store), null);
        var entry = await engine.Models.RegisterAsync("ckpt", dir);
        Assert.Equal(ServingTask.NodeClassification, entry.Model.Info.Task);
        Assert.Equal([3, 3], entry.Model.Info.Fanouts);
        Assert.Equal(ReverseEdges.AddReverse, entry.Model.Info.ReverseEdges);

        Assert.Equal(3, await AssertServedMatchesTrainer(engine, "ckpt", trainer));
    }

    /// <summary>
    /// Four users predicted by the engine (full neighbourhoods) against the trainer's own output on the same blocks
    /// (<see cref="Trainer.Encode"/>: its feature normalisation and embeddings); returns the class count.
    /// </summary>
    private async Task<int> AssertServedMatchesTrainer(InferenceEngine engine, string model, Trainer trainer)
    {
        var business = new long[] { 1000, 1007, 1033, 1059 };
        var result = (NodePredictionResult)await engine.PredictAsync(new NodePredictionRequest
        {
            Model = model, NodeType = "user", Ids = business, FullNeighborhood = true,
        });
        var user = new NodeType("user");
        var local = new int[business.Length];
        await _world.Store.LookupIdsAsync(user, business, local);
        var sampler = new BlockSampler(_world.Store, new BlockSamplerOptions([-1, -1]) { ReverseEdges = ReverseEdges.AddReverse });
        var batch = await sampler.SampleAsync(new Dictionary<NodeType, int[]> { [user] = local }, 0);
        trainer.Model.eval();
        float[] expected;
        using (NewDisposeScope())
        using (no_grad())
            expected = trainer.Encode(batch)["user"].softmax(1).contiguous().data<float>().ToArray();
        var classes = expected.Length / business.Length;
        for (var i = 0; i < business.Length; i++)
        {
            var p = result.Predictions[i];
            Assert.Equal(business[i], p.Id);
            for (var c = 0; c < classes; c++) Assert.Equal(expected[i * classes + c], p.Probabilities![c], 1e-5f);
        }
        return classes;
    }

    [Fact]
    public async Task Missing_file_bad_hash_and_schema_mismatch_are_ModelLoadExceptions()
    {
        var (trainer, dir) = await TrainAsync("none");
        trainer.Dispose();
        var loader = new TrainingCheckpointLoader(_world.Store);

        var missing = Assert.Throws<ModelLoadException>(() => loader.Load(Path.Combine(_world.Root, "nowhere"), default));
        Assert.Contains("Cannot read a checkpoint", missing.Message);

        var copy = Path.Combine(_world.Root, "damaged");
        Directory.CreateDirectory(copy);
        foreach (var f in Directory.GetFiles(dir)) File.Copy(f, Path.Combine(copy, Path.GetFileName(f)));
        File.Delete(Path.Combine(copy, Checkpoints.ModelName));
        Assert.Contains("missing", Assert.Throws<ModelLoadException>(() => loader.Load(copy, default)).Message);
        File.WriteAllBytes(Path.Combine(copy, Checkpoints.ModelName), [1, 2, 3]);
        Assert.Contains("sha256", Assert.Throws<ModelLoadException>(() => loader.Load(copy, default)).Message);

        // Another graph: users with 5 features instead of 4.
        var b = new HeteroGraphBuilder();
        var users = b.AddNodeType("user", AttributeSchema.Floats(5), labeled: true);
        var items = b.AddNodeType("item", AttributeSchema.Floats(3));
        var row = new float[5];
        for (var i = 0; i < 10; i++) users.TryAdd(1000 + i, row, i % 3, out _);
        for (var i = 0; i < 10; i++) items.TryAdd(5000 + i, row.AsSpan(0, 3), -1, out _);
        var clicks = b.AddEdgeType(new CanonicalEdgeType("user", "clicks", "item"), AttributeSchema.Empty, directed: false);
        clicks.Add(0, 0);
        var follows = b.AddEdgeType(new CanonicalEdgeType("user", "follows", "user"), AttributeSchema.Empty);
        follows.Add(0, 1);
        var other = new HeteroGraphStore(b.Build());
        var mismatch = Assert.Throws<ModelLoadException>(() => new TrainingCheckpointLoader(other).Load(dir, default));
        Assert.Contains("schema", mismatch.Message);
    }

    /// <summary>
    /// A checkpoint trained with learnable embeddings (items: concat, users: replace) serves with its trained rows: the
    /// engine's probabilities equal the trainer's own output on the same full-neighbourhood blocks.
    /// </summary>
    [Fact]
    public async Task A_checkpoint_with_learnable_embeddings_serves_with_its_trained_rows()
    {
        var dir = Path.Combine(_world.Root, "ckpt-embeddings");
        var config = Config("none") with
        {
            Embeddings = new Dictionary<string, GraphActors.Training.Embeddings.EmbeddingSpec>
            {
                ["item"] = new() { Dim = 4, Mode = "concat" },
                ["user"] = new() { Dim = 6, Mode = "replace", Optimizer = "sparse_adagrad" },
            },
        };
        using var trainer = await Trainer.CreateAsync(_world.Store, config);
        await trainer.TrainEpochAsync();
        Checkpoints.Save(trainer, dir, new Dictionary<string, double>());

        using var engine = new InferenceEngine(_world.Store, new TrainingCheckpointLoader(_world.Store), null);
        var entry = await engine.Models.RegisterAsync("emb", dir);
        Assert.Equal("item (4, concat), user (6, replace)", entry.Model.Info.Metadata["embeddings"]);
        await AssertServedMatchesTrainer(engine, "emb", trainer);

        // A manifest naming a table outside the checkpoint's folder is refused without reading it.
        var manifest = Checkpoints.Read(dir).Manifest;
        var manifestFile = Path.Combine(dir, Checkpoints.ManifestName);
        var original = File.ReadAllText(manifestFile);
        File.WriteAllText(manifestFile, original.Replace($"\"{manifest.Embeddings![0].File}\"", "\"../../etc/passwd\""));
        var outside = Assert.Throws<ModelLoadException>(() => new TrainingCheckpointLoader(_world.Store).Load(dir, default));
        Assert.Contains("'../../etc/passwd' of 'item' is not a file name in the checkpoint's folder", outside.Message);
        File.WriteAllText(manifestFile, original);

        // A damaged table is named, not served without it.
        var file = Path.Combine(dir, manifest.Embeddings![0].File);
        File.AppendAllText(file, "x");
        var refused = Assert.Throws<ModelLoadException>(() => new TrainingCheckpointLoader(_world.Store).Load(dir, default));
        Assert.Contains(file, refused.Message);
    }
}
