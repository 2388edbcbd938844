// The rolling reload: a two-node cluster switches to a store brought up to date from its own while predictions keep coming.
using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.TestKit.Xunit2;
using GraphActors.Cluster.Coordination;
using GraphActors.Cluster.Hosting;
using GraphActors.Cluster.Partitions;
using GraphActors.Cluster.Sampling;
using GraphActors.Cluster.Tests.Support;
using GraphActors.Contracts;
using GraphActors.Graph.Storage;
using GraphActors.Models;
using GraphActors.Sampling;
using GraphActors.Serving;
using Xunit;
using static GraphActors.Contracts.Protocols.StoreProtocol;
using static TorchSharp.torch;

namespace GraphActors.Cluster.Tests.Partitions;

public sealed class StoreReloadSpec : TestKit, IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private static readonly int PortA = TestNodes.FreePort();
    private static readonly ModelConfig Model = new()
    {
        ModelType = ModelType.Sage,
        InDims = new Dictionary<string, int> { ["user"] = TestStore.UserFeatureDim, ["item"] = 2 },
        Relations = [new RelationKey("user", "click", "item"), new RelationKey("user", "follow", "user")],
        HiddenChannels = 16,
        NumLayers = 2,
        OutDim = 4,
    };

    private readonly string _journal;
    private readonly ActorSystem _b;
    // TestStore.Updated is written by `partition --update` from a store of its own, beside it.
    private static readonly string Old = Path.Combine(Path.GetDirectoryName(TestStore.Updated)!, "store");
    private readonly string _old = Old, _new = TestStore.Updated;

    // A journal of its own per test: the singleton must start at version 0.
    public StoreReloadSpec() : this(Path.Combine(Path.GetTempPath(), "ga-store-reload-" + Guid.NewGuid().ToString("N"))) { }

    private StoreReloadSpec(string journal) : base(Config(PortA, journal), "graphactors")
    {
        _journal = journal;
        _b = ActorSystem.Create(Names.ActorSystem, Config(TestNodes.FreePort(), journal));
    }

    private static Akka.Configuration.Config Config(int port, string journal) => NodeConfig.WithPersistence(TestNodes.Node(port, [PortA], "partition", Old, $"""
        graphactors.persistence.sqlite-path = {NodeConfig.Quote(Path.Combine(journal, "journal.db"))}
        graphactors.store-versions.drain = 2s
        graphactors.store-versions.poll-interval = 1s
        """));

    public async Task InitializeAsync()
    {
        await Task.WhenAll(TestNodes.AwaitUp(Sys, 2, Wait), TestNodes.AwaitUp(_b, 2, Wait));
        foreach (var system in new[] { Sys, _b })
        {
            var partitions = PartitionSettings.Create(system);
            system.StartPartitionSharding(partitions);
            system.StartStoreVersions(partitions, CoordinatorSettings.Create(system.Settings.Config));
        }
        await TestNodes.AwaitRegions(Sys.PartitionRegion(), 2, Wait);
    }

    public async Task DisposeAsync()
    {
        await _b.Terminate();
        try { Directory.Delete(_journal, recursive: true); } catch (IOException) { }
    }

    private Task<StoreReloaded> Reload(string path) =>
        Sys.ActorSelection("/user/" + Names.StoreVersionsProxy).Ask<StoreReloaded>(new ReloadStore(path, 20_000), Wait);

    [Fact]
    public async Task Predictions_fired_through_the_switch_all_succeed_each_from_one_version_and_the_old_version_retires()
    {
        var state = Path.Combine(_journal, "model.pt");
        Directory.CreateDirectory(_journal);
        using (var network = ModelFactory.Create(Model)) ModelState.Save(network, state);
        var users = Enumerable.Range(0, 200).Select(i => 10_000L + i * 7).ToArray();
        var batches = users.Chunk(25).ToArray();

        // What each version answers: the same engine over each store's files in this process.
        var oldAnswers = await PredictAll(new PartitionedGraphStore(PartitionStore.Open(_old)), state, batches);
        var newAnswers = await PredictAll(new PartitionedGraphStore(PartitionStore.Open(_new)), state, batches);
        var differing = 0;
        for (var b = 0; b < batches.Length; b++)
            if (MaxDifference(oldAnswers[b], newAnswers[b]) > 1e-3) differing++;
        Assert.True(differing == batches.Length, $"every batch should tell the versions apart; {differing} of {batches.Length} do");

        using var remote = RemoteGraphStore.FromStore(_b, _old, TimeSpan.FromSeconds(10));
        using var engine = Engine(remote, state);
        await engine.Models.RegisterAsync("m", "test://m");

        var seen = new ConcurrentDictionary<string, int>();
        var failures = new ConcurrentQueue<string>();
        using var stop = new CancellationTokenSource();
        var reloaded = new TaskCompletionSource();
        async Task Fire(int worker)
        {
            for (var k = worker; !stop.IsCancellationRequested; k += 3)
            {
                var b = k % batches.Length;
                try
                {
                    var rows = Rows(await engine.PredictAsync(Request(batches[b])));
                    var kind = MaxDifference(rows, oldAnswers[b]) < 1e-5 ? "old" : MaxDifference(rows, newAnswers[b]) < 1e-5 ? "new" : "mixed";
                    seen.AddOrUpdate(kind + (reloaded.Task.IsCompleted ? " after" : " before"), 1, (_, n) => n + 1);
                    if (kind == "mixed") failures.Enqueue($"batch {b}: an answer equal to neither version");
                }
                catch (Exception e)
                {
                    failures.Enqueue($"batch {b}: {e.GetBaseException().Message}");
                }
            }
        }
        var firing = Enumerable.Range(0, 3).Select(w => Task.Run(() => Fire(w))).ToArray();

        await Task.Delay(1500);
        var answer = await Reload(_new);
        Assert.True(answer.Ok, answer.Message);
        Assert.Equal(1, answer.Version);
        reloaded.SetResult();
        // Every node's store follows; the client's within moments.
        AwaitCondition(() => remote.StoreVersion == 1, Wait);
        await Task.Delay(1500);
        stop.Cancel();
        await Task.WhenAll(firing);

        Assert.True(failures.IsEmpty, string.Join("\n", failures.Take(10)));
        Assert.True(seen.GetValueOrDefault("old before") > 0, Describe(seen));
        Assert.True(seen.GetValueOrDefault("new after") > 0, Describe(seen));
        var after = Rows(await engine.PredictAsync(Request(batches[0])));
        Assert.True(MaxDifference(after, newAnswers[0]) < 1e-5);

        // The version is the cluster's: asked again, from either node.
        var current = await _b.ActorSelection("/user/" + Names.StoreVersionsProxy).Ask<StoreVersionChanged>(GetStoreVersion.Instance, Wait);
        Assert.Equal((1, _new, 0), (current.Version, current.Path, current.Previous));
        Assert.Equal(1, StoreVersions.Get(Sys).Current.Version);

        // After the drain only version 1's entities remain: "0@1" and "1@1", no "0" or "1".
        await AwaitAssertAsync(async () =>
        {
            var entities = new List<string>();
            foreach (var system in new[] { Sys, _b })
            {
                var region = await system.PartitionRegion().Ask<CurrentShardRegionState>(GetShardRegionState.Instance, Wait);
                entities.AddRange(region.Shards.SelectMany(s => s.EntityIds));
            }
            Assert.Equal(["0@1", "1@1"], entities.Order(StringComparer.Ordinal));
        }, Wait, TimeSpan.FromMilliseconds(250));
    }

    [Fact]
    public async Task A_store_not_brought_up_to_date_from_the_current_one_or_the_current_one_itself_is_refused_and_nothing_changes()
    {
        var fresh = TestStore.Build(parts: 2);
        var refused = await Reload(fresh);
        Assert.False(refused.Ok);
        Assert.Contains("was not brought up to date from the current store", refused.Message);
        Assert.Contains("partition --update", refused.Message);

        var same = await Reload(_old);
        Assert.False(same.Ok);
        Assert.Contains("already the current store", same.Message);

        var missing = await Reload(Path.Combine(_journal, "no-such-store"));
        Assert.False(missing.Ok);
        Assert.Contains("does not open as a partition store", missing.Message);

        var threeParts = TestStore.Build(parts: 3);
        var wrongParts = await Reload(threeParts);
        Assert.False(wrongParts.Ok);
        Assert.Contains("has 3 partitions", wrongParts.Message);

        var current = await Sys.ActorSelection("/user/" + Names.StoreVersionsProxy).Ask<StoreVersionChanged>(GetStoreVersion.Instance, Wait);
        Assert.Equal((0, _old), (current.Version, current.Path));
    }

    [Fact]
    public async Task The_version_survives_a_restart_of_the_cluster_and_a_journal_of_another_store_starts_over()
    {
        var answer = await Reload(_new);
        Assert.True(answer.Ok, answer.Message);

        // A cluster started again on the same journal and store-path serves version 1: its partitions start as "p@1"
        // at the first request and find the path through the singleton.
        var again = await StartAlone(Old);
        try
        {
            var recovered = await again.ActorSelection("/user/" + Names.StoreVersionsProxy).Ask<StoreVersionChanged>(GetStoreVersion.Instance, Wait);
            Assert.Equal((1, _new), (recovered.Version, recovered.Path));
            // As a partition node that started its partitions before hearing the version: version 0's entities.
            foreach (var p in new[] { "0", "1" }) again.PartitionRegion().Tell(new ShardRegion.StartEntity(p));
            using var remote = RemoteGraphStore.FromStore(again, Old, TimeSpan.FromSeconds(10));
            AwaitCondition(() => remote.StoreVersion == 1, Wait);
            // User 229 is one of the 30 the refreshed store added: only version 1 holds it.
            var ids = new int[1];
            await remote.LookupIdsAsync("user", new[] { 10_000L + 229 * 7 }, ids);
            Assert.True(ids[0] >= 200, $"user 229 should have an id of the new generation, got {ids[0]}");
            var features = new float[TestStore.UserFeatureDim];
            await remote.GatherFeaturesAsync("user", ids, features);
            Assert.Equal(229f, features[0]);
            // The singleton retires the earlier versions' entities after the drain: only version 1's are left.
            await AwaitAssertAsync(async () =>
            {
                var region = await again.PartitionRegion().Ask<CurrentShardRegionState>(GetShardRegionState.Instance, Wait);
                Assert.Equal(["0@1", "1@1"], region.Shards.SelectMany(s => s.EntityIds).Order(StringComparer.Ordinal));
            }, Wait, TimeSpan.FromMilliseconds(250));
        }
        finally
        {
            await again.Terminate();
        }

        // Started on another store, the same journal's versions do not apply: version 0 is that store.
        var other = TestStore.Build(parts: 2);
        var fresh = await StartAlone(other);
        try
        {
            await AwaitAssertAsync(async () =>
            {
                var v = await fresh.ActorSelection("/user/" + Names.StoreVersionsProxy).Ask<StoreVersionChanged>(GetStoreVersion.Instance, Wait);
                Assert.Equal((0, other), (v.Version, v.Path));
            }, Wait, TimeSpan.FromMilliseconds(250));
        }
        finally
        {
            await fresh.Terminate();
        }
    }

    /// <summary>A one-node cluster of its own on this test's journal, started on <paramref name="store"/>.</summary>
    private async Task<ActorSystem> StartAlone(string store)
    {
        var port = TestNodes.FreePort();
        var config = NodeConfig.WithPersistence(TestNodes.Node(port, [port], "partition", store, $"""
            graphactors.persistence.sqlite-path = {NodeConfig.Quote(Path.Combine(_journal, "journal.db"))}
            graphactors.store-versions.drain = 1s
            """));
        var system = ActorSystem.Create(Names.ActorSystem, config);
        await TestNodes.AwaitUp(system, 1, Wait);
        var partitions = PartitionSettings.Create(system);
        system.StartPartitionSharding(partitions);
        system.StartStoreVersions(partitions, CoordinatorSettings.Create(system.Settings.Config));
        return system;
    }

    private static string Describe(ConcurrentDictionary<string, int> seen) => string.Join(", ", seen.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key}: {kv.Value}"));

    private static NodePredictionRequest Request(long[] ids) => new() { Model = "m", NodeType = "user", Ids = ids, Embeddings = true, FullNeighborhood = true };

    private static InferenceEngine Engine(IGraphStore store, string state) =>
        new(store, new InProcessModelLoader().Add("test://m", Model, state, new ServableModelInfo()), features: null);

    private static async Task<float[][]> PredictAll(PartitionedGraphStore store, string state, long[][] batches)
    {
        using (store)
        using (var engine = Engine(store, state))
        {
            await engine.Models.RegisterAsync("m", "test://m");
            var answers = new float[batches.Length][];
            for (var b = 0; b < batches.Length; b++) answers[b] = Rows(await engine.PredictAsync(Request(batches[b])));
            return answers;
        }
    }

    private static float[] Rows(PredictionResult result) =>
        ((NodePredictionResult)result).Predictions.SelectMany(p => p.Embedding!).ToArray();

    private static double MaxDifference(float[] a, float[] b)
    {
        if (a.Length != b.Length) return double.PositiveInfinity;
        var max = 0.0;
        for (var i = 0; i < a.Length; i++) max = Math.Max(max, Math.Abs(a[i] - b[i]));
        return max;
    }
}
