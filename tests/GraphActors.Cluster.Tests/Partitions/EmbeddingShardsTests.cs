using GraphActors.Cluster.Partitions;
using GraphActors.Cluster.Trainers;
using GraphActors.Contracts;
using GraphActors.Contracts.Protocols;
using GraphActors.Graph.Storage;
using GraphActors.Training;
using GraphActors.Training.Embeddings;
using static GraphActors.Contracts.Protocols.EmbeddingProtocol;
using static GraphActors.Contracts.Protocols.PartitionProtocol;

namespace GraphActors.Cluster.Tests.Partitions;

/// <summary>
/// The owner's side of the embedding protocol on its own: a partition applies each step's gradients once, summed in
/// piece order whatever order they came in, as local mode's tables apply the whole batch's; a newer attempt voids what
/// older ones sent from its start; a late gradient is refused, never dropped; a moved partition's hand-off carries
/// rows, optimizer state and gradients not applied yet; and the checkpoint's slab files read back as the rows.
/// </summary>
public sealed class EmbeddingShardsTests : IDisposable
{
    private const int Dim = 4;
    private static readonly NodeType User = new("user");
    private static readonly PartitionBook Book = new(2, new Dictionary<NodeType, int[]> { [User] = [0, 5, 10] });
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "ga-embedding-shards-" + Guid.NewGuid().ToString("N"));
    private readonly TrainingProtocol.TrainingConfig _job;
    private readonly TrainingConfig _config;

    public EmbeddingShardsTests()
    {
        var file = TrainingHocon.Parse("""
            training {
              task = node_classification
              target = user
              seed = 11
              averaging_period = 1
              embeddings { user { dim = 4, optimizer = sparse_adam, lr = 0.1 } }
            }
            """, "test");
        _job = TrainingHocon.ToJob(file, "", _dir);
        _config = TrainingHocon.FromJob(_job, "j");
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private EmbeddingShards Opened(int partition, long clock = 0, long attempt = 0)
    {
        var shards = new EmbeddingShards(partition, Book);
        Assert.IsType<EmbeddingsOpened>(shards.Open(new OpenEmbeddings(1, partition, "j", _job, clock, attempt, "", false, 0)));
        return shards;
    }

    private static float[] Rows(EmbeddingShards shards, int partition, long clock, int[] ids, long attempt = 0, long from = 0) =>
        Assert.IsType<FeaturesResult>(shards.Rows(new GetEmbeddingRows(2, partition, "j", "user", clock, attempt, from, ids, 0))).Data;

    private static IPartitionResponse Push(EmbeddingShards shards, int partition, long clock, int piece, int[] ids, float[] gradients, long attempt = 0,
        long from = 0) => shards.Push(new PushEmbeddingGradients(3, partition, "j", "user", clock, attempt, from, piece, 0, ids, gradients, 0));

    private static float[] Gradients(int rows, int salt) =>
        Enumerable.Range(0, rows * Dim).Select(i => MathF.Sin(i * 0.7f + salt) * (1 + salt) * 1e-3f).ToArray();

    [Fact]
    public void A_step_is_applied_once_with_its_pieces_summed_in_piece_order_as_local_mode_applies_the_batch()
    {
        using var local = new SparseEmbeddings(_config.Embeddings, new GraphActors.Sampling.GraphStoreSchema(
            [new GraphActors.Sampling.StoreNodeType(User, 10, 0, 0)], []), Book, (ulong)_config.Seed);
        var initial = Rows(local, [5, 6, 7, 8, 9]);
        // Three pieces of one step name overlapping rows of partition 1 (ids 5..9).
        int[][] ids = [[5, 7], [7, 9, 6], [9, 5]];
        var grads = new[] { Gradients(2, 1), Gradients(3, 2), Gradients(2, 3) };
        float[] Applied(int[] order)
        {
            using var shards = Opened(1);
            Assert.Equal(Rows(local, [5, 6, 7, 8, 9]), Rows(shards, 1, Clock(0, 0), [5, 6, 7, 8, 9])); // the seed's rows, as local mode's
            foreach (var i in order) Assert.IsType<EmbeddingGradientsTaken>(Push(shards, 1, Clock(0, 0), i, ids[i], grads[i]));
            return Rows(shards, 1, Clock(0, 1), [5, 6, 7, 8, 9]);
        }
        var forward = Applied([0, 1, 2]);
        Assert.Equal(forward, Applied([2, 0, 1]));

        // Local mode: the batch's rows once, each with the sum of the pieces' gradients (added in piece order).
        var sums = new Dictionary<int, float[]>();
        for (var p = 0; p < 3; p++)
            for (var r = 0; r < ids[p].Length; r++)
            {
                if (!sums.TryGetValue(ids[p][r], out var s)) sums[ids[p][r]] = s = new float[Dim];
                for (var j = 0; j < Dim; j++) s[j] += grads[p][r * Dim + j];
            }
        var order = sums.Keys.ToArray();
        local.Apply("user", order, order.SelectMany(k => sums[k]).ToArray());
        Assert.Equal(Rows(local, [5, 6, 7, 8, 9]), forward);
        // Only the rows named changed (DGL's sparse optimizers): row 8 is its initial row, row 6 is not.
        Assert.Equal(initial.AsSpan(3 * Dim, Dim).ToArray(), forward.AsSpan(3 * Dim, Dim).ToArray());
        Assert.NotEqual(initial.AsSpan(1 * Dim, Dim).ToArray(), forward.AsSpan(1 * Dim, Dim).ToArray());
    }

    private static float[] Rows(SparseEmbeddings local, int[] ids)
    {
        var rows = new float[ids.Length * Dim];
        local.Gather("user", ids, rows);
        return rows;
    }

    [Fact]
    public void A_newer_attempt_voids_what_older_ones_sent_from_its_start_and_a_late_gradient_is_refused_not_dropped()
    {
        using var shards = Opened(0);
        var before = Rows(shards, 0, Clock(0, 3), [1, 2]);
        Push(shards, 0, Clock(0, 3), 0, [1, 2], Gradients(2, 5), attempt: AttemptKey(0, 0), from: Clock(0, 0));
        // Attempt 1 re-plans the epoch from step 3: attempt 0's gradients of step 3 never count.
        Assert.Equal(before, Rows(shards, 0, Clock(0, 4), [1, 2], attempt: AttemptKey(0, 1), from: Clock(0, 3)));
        // A straggler of attempt 0 is taken as nothing.
        Assert.Equal(0, Assert.IsType<EmbeddingGradientsTaken>(Push(shards, 0, Clock(0, 4), 0, [1], Gradients(1, 1), attempt: AttemptKey(0, 0))).Rows);
        // Steps below 4 are applied: a gradient of step 3 now would be lost, and says so.
        var e = Assert.Throws<InvalidOperationException>(() => Push(shards, 0, Clock(0, 3), 1, [1], Gradients(1, 1), attempt: AttemptKey(0, 1), from: Clock(0, 3)));
        Assert.Contains("would be lost", e.Message);
        Assert.Contains("0:3", e.Message);
    }

    [Fact]
    public void A_moved_partition_takes_over_rows_state_and_unapplied_gradients_from_the_hand_off_and_only_then()
    {
        using var original = Opened(1);
        Push(original, 1, Clock(0, 0), 0, [5, 8], Gradients(2, 7));
        Rows(original, 1, Clock(0, 1), [5]); // step 0 applied
        Push(original, 1, Clock(0, 1), 0, [8, 9], Gradients(2, 8)); // step 1 still pending
        original.HandOff();
        var path = EmbeddingShards.HandoffPath(_dir, "j", 1);
        Assert.True(File.Exists(path));

        using var reference = Opened(1);
        Push(reference, 1, Clock(0, 0), 0, [5, 8], Gradients(2, 7));
        Push(reference, 1, Clock(0, 1), 0, [8, 9], Gradients(2, 8));
        var expected = Rows(reference, 1, Clock(0, 2), [5, 6, 7, 8, 9]);

        using var moved = new EmbeddingShards(1, Book);
        var e = Assert.Throws<InvalidOperationException>(() => Rows(moved, 1, Clock(0, 2), [5]));
        Assert.Contains(EmbeddingShards.NotHeld, e.Message);
        Assert.IsType<EmbeddingsOpened>(moved.Open(new OpenEmbeddings(4, 1, "j", _job, Clock(0, 2), 0, "", true, 0)));
        Assert.Equal(expected, Rows(moved, 1, Clock(0, 2), [5, 6, 7, 8, 9]));
        Assert.False(File.Exists(path)); // used once

        // Without a hand-off (the host crashed) the rows are lost, and the refusal says what to do.
        using var crashed = new EmbeddingShards(1, Book);
        var lost = Assert.Throws<InvalidOperationException>(() => crashed.Open(new OpenEmbeddings(5, 1, "j", _job, Clock(0, 2), 0, "", true, 0)));
        Assert.Contains("resume the job from its last checkpoint", lost.Message);
    }

    [Fact]
    public void The_slabs_an_owner_writes_into_a_checkpoint_read_back_as_its_rows_after_every_step_below_the_clock()
    {
        using var shards = Opened(0);
        Push(shards, 0, Clock(1, 4), 0, [0, 3], Gradients(2, 9));
        var written = Assert.IsType<EmbeddingsWritten>(shards.Write(new WriteEmbeddings(6, 0, "j", Clock(2, 0), 0, 0, _dir, false, 0)));
        Assert.Equal(["user"], written.Types);
        Assert.Equal(["embedding-user-0.bin"], written.Files);
        Assert.Equal(Checkpoints.Sha256(Path.Combine(_dir, written.Files[0])), written.Sha256[0]);
        using var slab = new EmbeddingSlab(_config.Embeddings["user"], "user", 0, 5, 99);
        using (var stream = File.OpenRead(Path.Combine(_dir, written.Files[0]))) slab.ReadFrom(stream, "test");
        var fromFile = new float[5 * Dim];
        slab.Gather([0, 1, 2, 3, 4], [0, 1, 2, 3, 4], fromFile);
        Assert.Equal(Rows(shards, 0, Clock(2, 0), [0, 1, 2, 3, 4]), fromFile);

        // The last epoch's checkpoint releases the tables: the partition holds nothing more, and hands nothing off.
        var last = Assert.IsType<EmbeddingsWritten>(shards.Write(new WriteEmbeddings(7, 0, "j", Clock(2, 0), 0, 0, _dir, true, 0)));
        Assert.Equal(0, shards.Bytes);
        shards.HandOff();
        Assert.False(File.Exists(EmbeddingShards.HandoffPath(_dir, "j", 0)));

        // A second writer of that checkpoint (the first failed after the owners wrote) gets the files already there;
        // another checkpoint, or the same one with its files gone, finds no tables.
        var again = Assert.IsType<EmbeddingsWritten>(shards.Write(new WriteEmbeddings(8, 0, "j", Clock(2, 0), 0, 0, _dir, true, 0)));
        Assert.Equal((8L, last.Files, last.Sha256), (again.RequestId, again.Files, again.Sha256));
        var other = Path.Combine(_dir, "other");
        Assert.Contains(EmbeddingShards.NotHeld, Assert.Throws<InvalidOperationException>(() => shards.Write(new WriteEmbeddings(9, 0, "j", Clock(2, 0), 0, 0, other, true, 0))).Message);
        File.Delete(Path.Combine(_dir, last.Files[0]));
        Assert.Contains(EmbeddingShards.NotHeld, Assert.Throws<InvalidOperationException>(() => shards.Write(new WriteEmbeddings(10, 0, "j", Clock(2, 0), 0, 0, _dir, true, 0))).Message);
    }

    [Fact]
    public void On_a_refreshed_store_an_owner_holds_every_range_of_its_ids_as_local_mode_does_and_writes_local_modes_slab_files()
    {
        // Two generations (partition --update): partition 0 owns [0, 5) ∪ [10, 12), partition 1 owns [5, 10) ∪ [12, 15).
        var book = new PartitionBook(2, new Dictionary<NodeType, IReadOnlyList<int[]>> { [User] = [[0, 5, 10], [10, 12, 15]] });
        var schema = new GraphActors.Sampling.GraphStoreSchema([new GraphActors.Sampling.StoreNodeType(User, 15, 0, 0)], []);
        using var local = new SparseEmbeddings(_config.Embeddings, schema, book, (ulong)_config.Seed);
        using var p0 = new EmbeddingShards(0, book);
        using var p1 = new EmbeddingShards(1, book);
        foreach (var (shards, p) in new[] { (p0, 0), (p1, 1) })
            Assert.IsType<EmbeddingsOpened>(shards.Open(new OpenEmbeddings(1, p, "j", _job, 0, 0, "", false, 0)));
        Assert.Equal((7L, 8L), (p0.RowCount, p1.RowCount));

        int[] owned1 = [5, 9, 12, 14, 6];
        Assert.Equal(Rows(local, owned1), Rows(p1, 1, Clock(0, 0), owned1)); // the seed's rows, as local mode's, in both ranges
        Assert.Equal(Rows(local, [0, 11]), Rows(p0, 0, Clock(0, 0), [0, 11]));

        // One step over both ranges of partition 1: applied as local mode applies it.
        var grads = Gradients(4, 5);
        Assert.IsType<EmbeddingGradientsTaken>(Push(p1, 1, Clock(0, 0), 0, [13, 5, 9, 12], grads));
        local.Apply("user", [13, 5, 9, 12], grads);
        Assert.Equal(Rows(local, [5, 6, 9, 12, 13, 14]), Rows(p1, 1, Clock(0, 1), [5, 6, 9, 12, 13, 14]));
        // An id of the other partition's new range is refused, naming the ranges this one holds.
        var e = Assert.Throws<ArgumentException>(() => Push(p1, 1, Clock(0, 1), 0, [10], Gradients(1, 1)));
        Assert.Contains("[5, 10) ∪ [12, 15)", e.Message);

        // The checkpoint: range s is file s, as local mode numbers them, so local mode loads the owners' files.
        var w0 = Assert.IsType<EmbeddingsWritten>(p0.Write(new WriteEmbeddings(6, 0, "j", Clock(0, 1), 0, 0, _dir, false, 0)));
        var w1 = Assert.IsType<EmbeddingsWritten>(p1.Write(new WriteEmbeddings(6, 1, "j", Clock(0, 1), 0, 0, _dir, false, 0)));
        Assert.Equal(["embedding-user-0.bin", "embedding-user-2.bin"], w0.Files);
        Assert.Equal(["embedding-user-1.bin", "embedding-user-3.bin"], w1.Files);
        using var loaded = SparseEmbeddings.Load(_config.Embeddings, schema, w0.Files.Concat(w1.Files).Select(f => Path.Combine(_dir, f)));
        var all = Enumerable.Range(0, 15).ToArray();
        Assert.Equal(Rows(local, all), Rows(loaded, all));

        // A move hands every range over.
        p1.HandOff();
        using var moved = new EmbeddingShards(1, book);
        Assert.IsType<EmbeddingsOpened>(moved.Open(new OpenEmbeddings(4, 1, "j", _job, Clock(0, 1), 0, "", true, 0)));
        Assert.Equal(Rows(local, [5, 6, 9, 12, 13, 14]), Rows(moved, 1, Clock(0, 1), [5, 6, 9, 12, 13, 14]));
    }
}
