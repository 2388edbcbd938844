using GraphActors.Contracts;
using GraphActors.Graph.Storage;
using GraphActors.Sampling;
using GraphActors.Training.Embeddings;
using Xunit.Abstractions;

namespace GraphActors.Training.Tests;

/// <summary>
/// Learnable node embeddings (training.embeddings): DGL's sparse optimizers row by row, tables that do not depend on the
/// partitioning, and training where only the embeddings carry the signal.
/// </summary>
[Collection(nameof(AccuracyCollection))]
public sealed class EmbeddingTests(ITestOutputHelper output)
{
    private static readonly NodeType User = new("user");

    private static GraphStoreSchema Schema(int users) => new([new StoreNodeType(User, users, 0, 0)], []);

    private static float[] Rows(SparseEmbeddings e, params int[] ids)
    {
        var rows = new float[ids.Length * e.Spec("user").Dim];
        e.Gather("user", ids, rows);
        return rows;
    }

    /// <summary>
    /// Owned tables (the cluster's): rows read ahead for a batch are used by its step without another read, only once,
    /// and only for the same ids; the step's gradients are kept for the owners, never applied here.
    /// </summary>
    [Fact]
    public void Owned_tables_use_rows_read_ahead_once_and_keep_the_gradients_for_their_owners()
    {
        var reads = 0;
        var specs = new Dictionary<string, EmbeddingSpec> { ["user"] = new() { Dim = 2 } };
        using var owned = new OwnedEmbeddings(specs, (type, ids, rows) =>
        {
            reads++;
            for (var i = 0; i < rows.Length; i++) rows[i] = -1;
        });
        owned.Prefetched("user", [4, 9], [1, 2, 3, 4]);
        var rows = new float[4];
        owned.Gather("user", [4, 9], rows);
        Assert.Equal([1f, 2, 3, 4], rows);
        Assert.Equal(0, reads);
        owned.Gather("user", [4, 9], rows); // used once: the next step reads again
        Assert.Equal(1, reads);
        owned.Prefetched("user", [4, 9], [1, 2, 3, 4]);
        owned.Gather("user", [9, 4], rows); // other ids: read, not the rows read ahead
        Assert.Equal([-1f, -1, -1, -1], rows);
        Assert.Equal(2, reads);

        owned.Apply("user", [4, 9], [0.5f, 0.5f, 0.25f, 0.25f]);
        var taken = Assert.Single(owned.TakeGradients());
        Assert.Equal("user", taken.Type);
        Assert.Equal([4, 9], taken.Ids);
        Assert.Equal([0.5f, 0.5f, 0.25f, 0.25f], taken.Gradients);
        Assert.Empty(owned.TakeGradients());
    }

    [Fact]
    public void Sparse_Adam_moves_only_the_rows_it_is_given_by_DGLs_update_and_keeps_a_step_count_per_row()
    {
        // 10 wide: the vectorised lanes and the scalar tail both meet the formula.
        const int dim = 10;
        var spec = new EmbeddingSpec { Dim = dim, LearningRate = 0.1 };
        using var e = new SparseEmbeddings(new Dictionary<string, EmbeddingSpec> { ["user"] = spec }, Schema(4), null, seed: 5);
        var before = Rows(e, 0, 1, 2, 3);
        float G(int row, int step, int j) => (float)Math.Sin(1 + row * 7 + step * 3 + j) * (j + 1) * 0.3f;

        // Step 1 on rows 1 and 3; step 2 on row 1 only: row 1's second step uses its own step count (2), row 3 is untouched.
        e.Apply("user", [1, 3], Enumerable.Range(0, dim).Select(j => G(1, 0, j)).Concat(Enumerable.Range(0, dim).Select(j => G(3, 0, j))).ToArray());
        e.Apply("user", [1], Enumerable.Range(0, dim).Select(j => G(1, 1, j)).ToArray());
        var after = Rows(e, 0, 1, 2, 3);

        // DGL's SparseAdam (dgl.optim.SparseAdam.update) by hand, in double.
        static double Adam(double w, params double[] grads)
        {
            double m = 0, v = 0;
            for (var t = 1; t <= grads.Length; t++)
            {
                var g = grads[t - 1];
                m = 0.9 * m + 0.1 * g;
                v = 0.999 * v + 0.001 * g * g;
                w -= 0.1 * (m / (1 - Math.Pow(0.9, t))) / (Math.Sqrt(v / (1 - Math.Pow(0.999, t))) + 1e-8);
            }
            return w;
        }
        Assert.Equal(before[..dim], after[..dim]);
        Assert.Equal(before[(2 * dim)..(3 * dim)], after[(2 * dim)..(3 * dim)]);
        for (var j = 0; j < dim; j++)
        {
            Assert.Equal(Adam(before[dim + j], G(1, 0, j), G(1, 1, j)), after[dim + j], 5);
            Assert.Equal(Adam(before[3 * dim + j], G(3, 0, j)), after[3 * dim + j], 5);
        }
    }

    [Fact]
    public void Sparse_Adagrad_follows_DGL_and_an_id_given_twice_gets_the_mean_of_its_gradients()
    {
        const int dim = 9; // 8 vectorised lanes and a scalar tail
        var spec = new EmbeddingSpec { Dim = dim, Optimizer = "sparse_adagrad", LearningRate = 0.5 };
        using var e = new SparseEmbeddings(new Dictionary<string, EmbeddingSpec> { ["user"] = spec }, Schema(3), null, seed: 1);
        var before = Rows(e, 0, 1, 2);
        float[] Row(float x) => Enumerable.Range(0, dim).Select(j => x * (j + 1)).ToArray();
        e.Apply("user", [2, 0, 2], [.. Row(1f), .. Row(4f), .. Row(3f)]); // row 2: mean gradient 2·(j+1)
        var after = Rows(e, 0, 1, 2);
        Assert.Equal(before[dim..(2 * dim)], after[dim..(2 * dim)]);
        for (var j = 0; j < dim; j++)
        {
            double g0 = 4 * (j + 1), g2 = 2 * (j + 1);
            Assert.Equal(before[j] - 0.5 * g0 / Math.Sqrt(g0 * g0 + 1e-10), after[j], 5);
            Assert.Equal(before[2 * dim + j] - 0.5 * g2 / Math.Sqrt(g2 * g2 + 1e-10), after[2 * dim + j], 5);
        }
    }

    [Fact]
    public void A_row_starts_the_same_whatever_the_partitioning_and_lives_on_its_partitions_slab()
    {
        var specs = new Dictionary<string, EmbeddingSpec> { ["user"] = new() { Dim = 8 } };
        using var whole = new SparseEmbeddings(specs, Schema(10), null, seed: 3);
        using var parted = new SparseEmbeddings(specs, Schema(10), new PartitionBook(3, new Dictionary<NodeType, int[]> { [User] = [0, 4, 4, 10] }), seed: 3);
        int[] all = [9, 0, 5, 3, 4, 1];
        Assert.Equal(Rows(whole, all), Rows(parted, all));
        Assert.Equal([4, 0, 6], parted.Slabs("user").Select(s => s.Count));
        Assert.All(Rows(whole, all), v => Assert.InRange(v, -1f, 1f));
        Assert.NotEqual(Rows(whole, 0), Rows(whole, 1));

        // The same update on both layouts: the same rows after it.
        var grads = Enumerable.Range(0, all.Length * 8).Select(i => (float)Math.Sin(i)).ToArray();
        whole.Apply("user", all, grads);
        parted.Apply("user", all, grads);
        Assert.Equal(Rows(whole, Enumerable.Range(0, 10).ToArray()), Rows(parted, Enumerable.Range(0, 10).ToArray()));
    }

    [Theory]
    [InlineData("dim = 0", "embeddings.user.dim")]
    [InlineData("mode = stack", "embeddings.user.mode")]
    [InlineData("optimizer = sgd", "embeddings.user.optimizer")]
    [InlineData("learning_rate = -1", "embeddings.user.learning_rate")]
    public void A_bad_embedding_setting_is_refused_naming_its_key(string line, string key)
    {
        var spec = line.Split(" = ") switch
        {
            ["dim", var v] => new EmbeddingSpec { Dim = int.Parse(v) },
            ["mode", var v] => new EmbeddingSpec { Mode = v },
            ["optimizer", var v] => new EmbeddingSpec { Optimizer = v },
            [_, var v] => new EmbeddingSpec { LearningRate = double.Parse(v) },
            _ => throw new ArgumentException(line),
        };
        var config = SyntheticTrainingTests.Users("sage", 2, 0) with { Embeddings = new Dictionary<string, EmbeddingSpec> { ["user"] = spec } };
        var e = Assert.Throws<TrainingConfigException>(() => config.Validate());
        Assert.Equal(key, e.Key);
    }

    [Fact]
    public async Task An_unknown_type_and_add_over_another_width_are_refused_naming_them()
    {
        using var store = TestStores.Synthetic();
        var config = SyntheticTrainingTests.Users("sage", 2, 0);
        var unknown = await Assert.ThrowsAsync<TrainingConfigException>(() => Trainer.CreateAsync(store,
            config with { Embeddings = new Dictionary<string, EmbeddingSpec> { ["movie"] = new() } }));
        Assert.Equal("embeddings.movie", unknown.Key);
        var add = await Assert.ThrowsAsync<TrainingConfigException>(() => Trainer.CreateAsync(store,
            config with { Embeddings = new Dictionary<string, EmbeddingSpec> { ["user"] = new() { Mode = "add", Dim = 3 } } }));
        Assert.Equal("embeddings.user.dim", add.Key);
    }

    /// <summary>
    /// The generated users' labels are the majority community of the items they click. With mode = replace on both types
    /// no feature reaches the model: what it learns, it learns in the item and user rows. Frozen rows (a learning rate
    /// of 1e-12) stay at their random start and leave the GNN near chance.
    /// </summary>
    [Fact]
    public async Task With_features_replaced_only_the_learned_rows_carry_the_labels()
    {
        static TrainingConfig Config(double lr) => SyntheticTrainingTests.Users("sage", 2, 0) with
        {
            Epochs = 10,
            Embeddings = new Dictionary<string, EmbeddingSpec>
            {
                ["item"] = new() { Dim = 16, LearningRate = lr },
                ["user"] = new() { Dim = 16, LearningRate = lr },
            },
        };
        using var store = TestStores.Synthetic();
        using var learned = await Trainer.CreateAsync(store, Config(0.05));
        var r = await learned.RunAsync();
        using var frozen = await Trainer.CreateAsync(store, Config(1e-12));
        var f = await frozen.RunAsync();
        output.WriteLine($"learned rows: test {r.Test!.Value:F3}; frozen rows: test {f.Test!.Value:F3}; chance {SyntheticTrainingTests.Chance:F3}; " +
            $"tables {learned.Embeddings!.Bytes / 1024} KiB over {learned.Embeddings.Slabs("item").Count} partitions");
        Assert.True(r.Test.Value > 3 * SyntheticTrainingTests.Chance, $"test accuracy {r.Test.Value:F3} with learned rows is not clearly above chance");
        Assert.True(r.Test.Value > f.Test.Value + 0.15, $"learned rows {r.Test.Value:F3} do not clearly beat frozen ones {f.Test.Value:F3}");
    }

    /// <summary>
    /// The issue's rating graph: with only demographic and genre attributes, link prediction underfits (training AUC
    /// stays low); learnable user and movie rows, concatenated to the attributes, learn the tastes the attributes do not
    /// show. MovieLens-100K-shaped generated data (the real files are not redistributable).
    /// </summary>
    [Fact]
    public async Task On_MovieLens_shaped_ratings_embeddings_lift_link_prediction_past_the_attributes_alone()
    {
        static TrainingConfig Config(bool embeddings) => new()
        {
            ModelType = "sage", Task = "link_prediction", Target = "rates", HiddenChannels = 64, NumLayers = 2, Fanouts = [10, 10],
            BatchSize = 1024, LearningRate = 0.005, Dropout = 0, Epochs = 6, EvalEvery = 3, ReverseEdges = "add_reverse", Threads = 2, Seed = 1,
            Embeddings = embeddings
                ? new Dictionary<string, EmbeddingSpec> { ["user"] = new() { Dim = 32, Mode = "concat", LearningRate = 0.05 }, ["movie"] = new() { Dim = 32, Mode = "concat", LearningRate = 0.05 } }
                : new Dictionary<string, EmbeddingSpec>(),
        };
        using var store = TestStores.MovieLens();
        using var plain = await Trainer.CreateAsync(store, Config(false));
        var p = await plain.RunAsync();
        using var embedded = await Trainer.CreateAsync(store, Config(true));
        var e = await embedded.RunAsync();
        output.WriteLine($"attributes only: train auc {p.History[^1].TrainMetric:F3}, test auc {p.Test!.Value:F3}; " +
            $"with embeddings: train auc {e.History[^1].TrainMetric:F3}, test auc {e.Test!.Value:F3}");
        Assert.True(e.Test.Value > p.Test.Value + 0.04, $"test AUC {e.Test.Value:F3} with embeddings against {p.Test.Value:F3} without");
        Assert.True(e.History[^1].TrainMetric > p.History[^1].TrainMetric + 0.05, "the embeddings did not lift the training AUC");
    }

    /// <summary>With a checkpoint_dir the best epoch's rows come back from best/ (no second copy of the tables in memory).</summary>
    [Fact]
    public async Task A_run_ends_with_the_best_epochs_rows_read_back_from_best()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"ga-embeddings-best-{Guid.NewGuid():N}");
        try
        {
            var config = SyntheticTrainingTests.Users("sage", 2, 0) with
            {
                Epochs = 4, EvalEvery = 1, CheckpointDir = dir, LearningRate = 0.05,
                Embeddings = new Dictionary<string, EmbeddingSpec> { ["item"] = new() { Dim = 8, Mode = "concat", LearningRate = 0.5 } },
            };
            using var store = TestStores.Synthetic();
            using var trainer = await Trainer.CreateAsync(store, config);
            var r = await trainer.RunAsync();
            var items = Enumerable.Range(0, store.Schema.Node(new NodeType("item")).Count).ToArray();
            var rows = new float[items.Length * 8];
            trainer.Embeddings!.Gather("item", items, rows);
            var (manifest, bestDir) = Checkpoints.Read(Path.Combine(dir, "best"));
            using var best = Checkpoints.LoadEmbeddings(manifest, bestDir, store.Schema)!;
            var saved = new float[items.Length * 8];
            best.Gather("item", items, saved);
            output.WriteLine($"best epoch {r.BestEpoch} of {r.Epochs}");
            Assert.Equal(saved, rows);
            Assert.Equal(r.BestEpoch, manifest.Epoch);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task A_checkpoint_holds_the_tables_and_a_resume_continues_from_them_and_a_damaged_table_is_named()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"ga-embeddings-{Guid.NewGuid():N}");
        try
        {
            var config = SyntheticTrainingTests.Users("sage", 2, 0) with
            {
                Epochs = 2,
                EvalEvery = 1,
                CheckpointDir = dir,
                Embeddings = new Dictionary<string, EmbeddingSpec> { ["item"] = new() { Dim = 8, Mode = "concat", Optimizer = "sparse_adagrad" } },
            };
            using var store = TestStores.Synthetic();
            float[] trained;
            int[] items = Enumerable.Range(0, store.Schema.Node(new NodeType("item")).Count).ToArray();
            using (var trainer = await Trainer.CreateAsync(store, config))
            {
                for (var e = 0; e < config.Epochs; e++) await trainer.TrainEpochAsync();
                Checkpoints.Save(trainer, Path.Combine(dir, "last"), new Dictionary<string, double>());
                trained = new float[items.Length * 8];
                trainer.Embeddings!.Gather("item", items, trained);
            }
            var (manifest, _) = Checkpoints.Read(Path.Combine(dir, "last"));
            Assert.Equal(2, manifest.Embeddings!.Count); // two partitions of items
            using (var resumed = await Trainer.ResumeAsync(store, Path.Combine(dir, "last")))
            {
                var rows = new float[items.Length * 8];
                resumed.Embeddings!.Gather("item", items, rows);
                Assert.Equal(trained, rows);
                Assert.Equal(2, resumed.CompletedEpochs);
            }

            var file = Path.Combine(dir, "last", manifest.Embeddings[1].File);
            var bytes = File.ReadAllBytes(file);
            bytes[^1] ^= 0xFF;
            File.WriteAllBytes(file, bytes);
            var damaged = await Assert.ThrowsAsync<InvalidDataException>(() => Trainer.ResumeAsync(store, Path.Combine(dir, "last")));
            Assert.Contains(file, damaged.Message);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }
}
