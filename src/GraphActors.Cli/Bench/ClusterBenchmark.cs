// `graphactors bench cluster`: mini-batches/s and bytes on the wire per mini-batch against the floor, in-process and over
// Akka.Remote with a second `graphactors node` process; and the time of one parameter-averaging round against its size.
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Threading.Channels;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Cluster.Tools.PublishSubscribe;
using Akka.Configuration;
using Akka.Streams;
using GraphActors.Cluster;
using GraphActors.Cluster.Coordination;
using GraphActors.Cluster.Hosting;
using GraphActors.Cluster.Partitions;
using GraphActors.Cluster.Sampling;
using GraphActors.Contracts;
using GraphActors.Contracts.Protocols;
using GraphActors.Contracts.Serialization;
using GraphActors.Graph;
using GraphActors.Graph.Cgdf;
using GraphActors.Graph.Tables;
using GraphActors.Graph.Partitioning;
using GraphActors.Graph.Storage;
using GraphActors.Sampling;
using Spectre.Console;
using static GraphActors.Contracts.Protocols.SamplingProtocol;
using static GraphActors.Contracts.Protocols.TrainingProtocol;

namespace GraphActors.Cli.Bench;

/// <summary>
/// Mini-batches: a generated heterogeneous graph (users with features and labels, items with features; user–follows→user,
/// user–clicks→item, item–clicked-by→user) in hash partitions, node classification on users, random_without_replacement.
/// Each case runs a warm-up epoch, then one timed epoch of <c>--batches</c> batches, consumed one message per batch by an
/// acking consumer (<see cref="MiniBatchWire.RunInto"/>, which rebuilds each <see cref="MiniBatch"/> as a trainer would):
/// <list type="number">
/// <item>in-process reference: BlockSampler + feature gather over a PartitionedGraphStore, one thread, no actors;</item>
/// <item>local: a SamplerActor over the same store in a local ActorSystem;</item>
/// <item>worker: this process is a cluster node (roles partition, trainer) hosting half the partitions; a second
/// `graphactors node` process (role partition) hosts the other half; the SamplerActor samples through a RemoteGraphStore;</item>
/// <item>worker with the trainer on another node: the same sampler, its SourceRef consumed by a second ActorSystem (role
/// trainer) of this process, so every mini-batch crosses Akka.Remote;</item>
/// <item>trainer-only node: the sampler and consumer on that second system, every partition remote.</item>
/// </list>
/// Bytes are counted by <see cref="WireTraffic"/> in GraphActorsSerializer. Every case's sampler runs in this process,
/// so a partition request is counted when written and a partition response when read (each crossing once, whichever
/// system answered), a mini-batch when written. The floor of a batch is what it needs: input node ids (4 B) and feature
/// rows (dim × 4 B), both endpoint indices of every block edge (8 B) and the seeds' labels (4 B); the remote floor is the
/// part owned by partitions on another node (edges by their destination's owner, who samples them).
/// <para>
/// Averaging: the TrainingCoordinatorActor singleton (SQLite journal) on this node, two trainers played by probe actors
/// in the second ActorSystem over Akka.Remote on 127.0.0.1: each registers, takes its EpochAssignment, and per round sends
/// its ParametersReady chunks (≤ 2^20 floats) and waits for every AveragedParameters chunk; the round time is from the
/// go of both to the last chunk back at the slower one. The in-memory ParameterAverager (2 trainers) is the reference.
/// </para>
/// </summary>
public static class ClusterBenchmark
{
    public static readonly NodeType User = new("user");
    public static readonly NodeType Item = new("item");
    public static readonly CanonicalEdgeType Follows = new("user", "follows", "user");
    public static readonly CanonicalEdgeType Clicks = new("user", "clicks", "item");
    public static readonly CanonicalEdgeType ClickedBy = new("item", "clicked-by", "user");

    // Answers and mini-batches larger than graphactors.wire.chunk-size cross as chunks (PCH, SMC), counted with them.
    private static readonly string[] RequestManifests = ["PGN", "PGF", "PGD", "PGI", "PGP", "SGN", "SGL", "PCA"];
    private static readonly string[] ResponseManifests = ["PNR", "PFR", "PDR", "PIR", "PPI", "PER", "SNR", "SLR", "PCH"];
    private static readonly string[] ControlManifests = ["SSE", "SEC", "SER", "SEJ", "SIN", "SAK", "SSC", "SSF"];
    private static readonly string[] MiniBatchManifests = ["SMB", "SMC"];
    private const string SamplerName = "bench-sampler";

    public sealed record Options(
        int Nodes, long Edges, int Dim, int Parts, int Batch, int[] Fanouts, int Batches, int Warmup,
        int[] Sizes, int Rounds, string[] Cases, int Seed, string? WorkDir, string? Json, string? Cora = null);

    /// <summary>One mini-batch case; byte figures are means per timed batch.</summary>
    public sealed record BatchCase(
        string Name, string Description, string Sampler, string Store, string Consumer, int Batches, double Seconds, double BatchesPerSecond,
        double EdgesPerBatch, double FloorBytes, double RemoteFloorBytes, double PayloadBytes,
        double RequestBytes, double ResponseBytes, double RequestMessages, double ResponseMessages,
        double MiniBatchWireBytes, double ControlBytes, IReadOnlyDictionary<string, WireCount> Manifests)
    {
        public double PartitionBytes => RequestBytes + ResponseBytes;
        public double PartitionToRemoteFloor => RemoteFloorBytes > 0 ? PartitionBytes / RemoteFloorBytes : 0;
        public double PartitionToFloor => FloorBytes > 0 ? PartitionBytes / FloorBytes : 0;
        public double MiniBatchToFloor => FloorBytes > 0 ? MiniBatchWireBytes / FloorBytes : 0;
    }

    /// <summary>One averaging size: round times (ms) over the timed rounds, bytes per round, and the floor 2 × 2 × floats × 4 B.</summary>
    public sealed record RoundCase(
        string Path, int Floats, int Chunks, int Rounds, double MedianMs, double MinMs, double MaxMs,
        double WireBytesPerRound, double FloorBytes)
    {
        public double WireToFloor => FloorBytes > 0 && WireBytesPerRound > 0 ? WireBytesPerRound / FloorBytes : 0;
        /// <summary>Parameter bytes moved per second: both trainers' vectors up and the mean back down to both.</summary>
        public double MegabytesPerSecond => MedianMs > 0 ? FloorBytes / 1e6 / (MedianMs / 1000) : 0;
    }

    public sealed record Result(string Machine, string LoadAverage, Options Options, string Graph, string Target, string SamplerSettings,
        IReadOnlyList<BatchCase> Batches, IReadOnlyList<RoundCase> Rounds);

    public static Command Create()
    {
        var nodes = new Option<int>("--nodes") { Description = "Nodes of the generated graph (2/3 users, 1/3 items).", DefaultValueFactory = _ => 300_000 };
        var edges = new Option<long>("--edges") { Description = "Stored edges: 1/2 follows, 1/4 clicks, 1/4 clicked-by (the clicks reversed).", DefaultValueFactory = _ => 3_000_000 };
        var dim = new Option<int>("--dim") { Description = "Feature size of users (items have half).", DefaultValueFactory = _ => 32 };
        var parts = new Option<int>("--parts") { Description = "Hash partitions (split between the two partition nodes).", DefaultValueFactory = _ => 2 };
        var batch = new Option<int>("--batch") { Description = "Seeds per mini-batch.", DefaultValueFactory = _ => 512 };
        var fanouts = new Option<string>("--fanouts") { Description = "Fanouts, DGL order (input layer first).", DefaultValueFactory = _ => "10,5" };
        var batches = new Option<int>("--batches") { Description = "Timed mini-batches per case.", DefaultValueFactory = _ => 40 };
        var warmup = new Option<int>("--warmup") { Description = "Mini-batches of the untimed warm-up epoch per case.", DefaultValueFactory = _ => 8 };
        var sizes = new Option<string>("--sizes") { Description = "Parameter vector sizes (floats) of the averaging rounds.", DefaultValueFactory = _ => "100000,1000000,4000000,16000000" };
        var rounds = new Option<int>("--rounds") { Description = "Timed averaging rounds per size (after one warm-up round).", DefaultValueFactory = _ => 5 };
        var cases = new Option<string>("--cases") { Description = "Comma-separated: local, remote, averaging.", DefaultValueFactory = _ => "local,remote,averaging" };
        var seed = new Option<int>("--seed") { Description = "Seed of the graph, the seeds and the sampler.", DefaultValueFactory = _ => 42 };
        var work = new Option<string?>("--work-dir") { Description = "Where the store and journal go (default: a temp dir, deleted after)." };
        var cora = new Option<string?>("--cora") { Description = "A LINQS Cora folder (e.g. ../shared/data/cora): sample its 2,708 papers instead of the generated graph (seeds are distinct: use e.g. --batch 64)." };
        var json = new Option<string?>("--json") { Description = "Also write the results as JSON to this file (written to a temp name, then renamed)." };
        var cmd = new Command("cluster", "Mini-batches/s and wire bytes per mini-batch against the floor (local, 2-process worker mode); averaging round time against parameter size.");
        foreach (var o in new Option[] { nodes, edges, dim, parts, batch, fanouts, batches, warmup, sizes, rounds, cases, seed, work, cora, json }) cmd.Options.Add(o);
        cmd.SetAction(pr =>
        {
            var options = new Options(pr.GetValue(nodes), pr.GetValue(edges), pr.GetValue(dim), pr.GetValue(parts), pr.GetValue(batch),
                ParseInts(pr.GetValue(fanouts)!, "--fanouts"), pr.GetValue(batches), pr.GetValue(warmup),
                ParseInts(pr.GetValue(sizes)!, "--sizes"), pr.GetValue(rounds),
                pr.GetValue(cases)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries), pr.GetValue(seed),
                pr.GetValue(work), pr.GetValue(json), pr.GetValue(cora));
            Validate(options);
            var result = RunAsync(options, Console.Out).GetAwaiter().GetResult();
            Render(result);
            if (options.Json is { } path) AtomicFile.WriteAllText(path, ToJson(result));
            return 0;
        });
        return cmd;
    }

    private static int[] ParseInts(string text, string option)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var values = new int[parts.Length];
        for (var i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out values[i]))
                throw new GraphActors.Graph.BadInputException($"{option}: '{parts[i]}' is not an integer (expected a comma-separated list such as '10,5').");
        return values;
    }

    private static void Validate(Options o)
    {
        static void Check(bool ok, string message) { if (!ok) throw new GraphActors.Graph.BadInputException(message); }
        Check(o.Nodes >= 3, $"--nodes {o.Nodes}: need at least 3 (users and items).");
        Check(o.Edges >= 4 && o.Edges / 2 <= int.MaxValue, $"--edges {o.Edges}: need 4 .. 2^32 (one edge type holds at most 2^31 - 1).");
        Check(o.Dim >= 2, $"--dim {o.Dim}: need at least 2 (items get half).");
        Check(o.Parts >= 2, $"--parts {o.Parts}: need at least 2, one per partition node.");
        Check(o.Batch >= 1, $"--batch {o.Batch}: need at least 1.");
        Check(o.Fanouts.Length > 0 && o.Fanouts.All(f => f >= 1), $"--fanouts [{string.Join(",", o.Fanouts)}]: need positive fanouts, one per layer.");
        Check(o.Batches >= 1 && o.Warmup >= 0, $"--batches {o.Batches} / --warmup {o.Warmup}: need at least 1 timed batch and no negative warm-up.");
        Check(o.Sizes.All(s => s >= 1), $"--sizes [{string.Join(",", o.Sizes)}]: every size needs at least 1 float.");
        Check(o.Rounds >= 1, $"--rounds {o.Rounds}: need at least 1.");
        var known = new[] { "local", "remote", "averaging" };
        foreach (var c in o.Cases) Check(known.Contains(c), $"--cases: unknown case '{c}' (known: {string.Join(", ", known)}).");
        Check(o.Cases.Length > 0, "--cases is empty.");
    }

    // ==== the run ====

    public static async Task<Result> RunAsync(Options o, TextWriter log)
    {
        var machine = $".NET {Environment.Version}, {Environment.ProcessorCount} logical CPUs, {RuntimeInformation.OSDescription}, " +
                      $"{GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1L << 30)} GB";
        log.WriteLine(machine);
        var root = o.WorkDir ?? Path.Combine(Path.GetTempPath(), $"ga-bench-cluster-{Guid.NewGuid():N}");
        var store = Path.Combine(root, "store");
        var batches = new List<BatchCase>();
        var rounds = new List<RoundCase>();
        var graphLine = "";
        var samplerLine = "";
        var wantBatches = o.Cases.Contains("local") || o.Cases.Contains("remote");
        var target = User;
        try
        {
            Directory.CreateDirectory(root);
            var targetCount = o.Nodes * 2 / 3;
            if (wantBatches && o.Cora is { } cora)
            {
                if (Directory.Exists(store)) Directory.Delete(store, recursive: true);
                (graphLine, target, targetCount) = ImportCora(cora, root, store, o.Parts);
                log.WriteLine($"graph: {graphLine}");
            }
            else if (wantBatches)
            {
                var users = targetCount;
                var sw = Stopwatch.StartNew();
                var graph = Generate(o.Nodes, o.Edges, o.Dim, o.Seed);
                var build = sw.Elapsed.TotalSeconds;
                sw.Restart();
                if (Directory.Exists(store)) Directory.Delete(store, recursive: true);
                GraphPartitioner.Run(new HeteroGraphSource(graph), new PartitionOptions(store, o.Parts, HashPartitioner.MethodName));
                graphLine = $"{users:N0} users (dim {o.Dim}, labelled) + {o.Nodes - users:N0} items (dim {o.Dim / 2}); " +
                            $"{o.Edges / 2:N0} follows + {o.Edges / 4:N0} clicks + {o.Edges / 4:N0} clicked-by; {o.Parts} hash partitions; " +
                            $"built in {build:F1} s, partitioned in {sw.Elapsed.TotalSeconds:F1} s";
                log.WriteLine($"graph: {graphLine}");
            }
            var seeds = Seeds(targetCount, o.Batch * (o.Batches + o.Warmup), o.Seed);
            WireTraffic.Enabled = true;

            if (o.Cases.Contains("local"))
            {
                batches.Add(await InProcessReference(store, target, seeds, o));
                log.WriteLine($"  {batches[^1].Name}: {batches[^1].BatchesPerSecond:F1} mini-batches/s");
                using var local = ActorSystem.Create("graphactors-local", ConfigurationFactory.ParseString("""
                    akka.actor.provider = local
                    akka.loglevel = WARNING
                    akka.stdout-loglevel = WARNING
                    """).WithFallback(NodeConfig.Defaults));
                using var localStore = new PartitionedGraphStore(PartitionStore.Open(store));
                var settings = SamplerSettings.Create(local);
                samplerLine = Describe(settings);
                var sampler = local.StartSampler(localStore, settings, name: SamplerName);
                batches.Add(await Epochs(local, sampler, localStore.Book, target, new bool[o.Parts], seeds, o,
                    "local actor", "SamplerActor over the in-process PartitionedGraphStore, consumer in the same (local) ActorSystem",
                    "this process", "in-process PartitionedGraphStore", "same ActorSystem"));
                log.WriteLine($"  {batches[^1].Name}: {batches[^1].BatchesPerSecond:F1} mini-batches/s");
                await CoordinatedShutdown.Get(local).Run(CoordinatedShutdown.ClrExitReason.Instance).WaitAsync(TimeSpan.FromSeconds(30));
            }

            if (o.Cases.Contains("remote") || o.Cases.Contains("averaging"))
                await ClusterCases(o, root, store, target, seeds, batches, rounds, log, s => samplerLine = s);

            if (o.Cases.Contains("averaging"))
                foreach (var size in o.Sizes) rounds.Add(InMemoryAveraging(size, o.Rounds));
        }
        finally
        {
            WireTraffic.Enabled = false;
            if (o.WorkDir is null)
            {
                try { Directory.Delete(root, recursive: true); }
                catch (IOException e) { log.WriteLine($"(could not delete {root}: {e.Message})"); }
            }
        }
        return new Result(machine, BenchLoad.Read(), o, graphLine, target.Name, samplerLine, batches, rounds);
    }

    private static string Describe(SamplerSettings s) =>
        $"parallelism {s.Parallelism}, prefetch {s.Prefetch}";

    /// <summary>Cora through the importers (LINQS → tables → CGDF → hash partitions); the papers are the seeds.</summary>
    private static (string Line, NodeType Target, int Count) ImportCora(string coraDir, string root, string store, int parts)
    {
        var sw = Stopwatch.StartNew();
        var tables = Path.Combine(root, "cora-tables");
        var cgdf = Path.Combine(root, "cora-cgdf");
        LinqsImporter.Run(coraDir, "cora", tables, "2024-01-01");
        HiveToCgdf.Run(new EtlOptions(tables, "2024-01-01", cgdf));
        GraphPartitioner.Run(new CgdfPartitionSource(cgdf), new PartitionOptions(store, parts, HashPartitioner.MethodName));
        var manifest = PartitionStore.Open(store);
        var paper = new NodeType("paper");
        var schema = PartitionedGraphStore.SchemaOf(manifest.Manifest);
        var info = schema.Node(paper);
        var edges = string.Join(" + ", schema.EdgeTypes.Select(e => e.Type.ToString()));
        return ($"Cora from {coraDir}: {info.Count:N0} papers (dim {info.FeatureDim}); edge types {edges}; {parts} hash partitions; " +
                $"imported and partitioned in {sw.Elapsed.TotalSeconds:F1} s", paper, info.Count);
    }

    /// <summary>Distinct seeds of the target type, shuffled (the epoch's warm-up batches come from the end of the list).</summary>
    private static int[] Seeds(int users, int count, int seed)
    {
        var all = new int[users];
        for (var i = 0; i < users; i++) all[i] = i;
        var shuffled = EpochPlan.Shuffle(all, (ulong)seed, 1_000_000);
        return shuffled.AsSpan(0, Math.Min(count, users)).ToArray();
    }

    /// <summary>Users (labels 0..9) and items with uniform features, uniformly random edges; business id = dense id.</summary>
    public static HeteroGraph Generate(int nodes, long edges, int dim, int seed)
    {
        var users = nodes * 2 / 3;
        var items = nodes - users;
        var itemDim = dim / 2;
        var follows = (int)(edges / 2);
        var clicks = (int)(edges / 4);
        var rng = new Random(seed);
        var b = new HeteroGraphBuilder();
        var u = b.AddNodeType(User, AttributeSchema.Floats(dim), labeled: true, capacity: users);
        var row = new float[dim];
        for (var i = 0; i < users; i++)
        {
            for (var k = 0; k < dim; k++) row[k] = (float)(rng.NextDouble() * 2 - 1);
            u.TryAdd(i, row, rng.Next(10), out _);
        }
        var it = b.AddNodeType(Item, AttributeSchema.Floats(itemDim), capacity: items);
        for (var i = 0; i < items; i++)
        {
            for (var k = 0; k < itemDim; k++) row[k] = (float)(rng.NextDouble() * 2 - 1);
            it.TryAdd(i, row.AsSpan(0, itemDim), -1, out _);
        }
        var f = b.AddEdgeType(Follows, AttributeSchema.Empty, capacity: follows);
        for (var e = 0; e < follows; e++) f.Add(rng.Next(users), rng.Next(users));
        var c = b.AddEdgeType(Clicks, AttributeSchema.Empty, capacity: clicks);
        var r = b.AddEdgeType(ClickedBy, AttributeSchema.Empty, capacity: clicks);
        for (var e = 0; e < clicks; e++)
        {
            var (src, dst) = (rng.Next(users), rng.Next(items));
            c.Add(src, dst);
            r.Add(dst, src);
        }
        return b.Build();
    }

    // ---- mini-batches ----

    private static SampleEpoch Request(long requestId, int epoch, NodeType target, int[] seeds, Options o) =>
        new(requestId, epoch, target.Name, seeds, o.Batch, o.Fanouts, NeighborStrategy.RandomWithoutReplacement, false, (ulong)o.Seed);

    private static (int[] Warmup, int[] Timed) Split(int[] seeds, Options o)
    {
        var timed = Math.Min(seeds.Length, o.Batch * o.Batches);
        return (seeds[timed..], seeds[..timed]);
    }

    /// <summary>The sampler's pipeline without actors, one batch at a time, for reference.</summary>
    private static async Task<BatchCase> InProcessReference(string storePath, NodeType target, int[] seeds, Options o)
    {
        using var store = new PartitionedGraphStore(PartitionStore.Open(storePath));
        var sampler = new BlockSampler(store, new BlockSamplerOptions(o.Fanouts) { Strategy = SamplingStrategy.RandomWithoutReplacement });
        var floor = new BatchFloor(store.Book, new bool[o.Parts]);
        var (warm, timedSeeds) = Split(seeds, o);
        async Task Run(int[] epochSeeds, int epoch, BatchFloor? measure)
        {
            var order = EpochPlan.Shuffle(epochSeeds, (ulong)o.Seed, epoch);
            var count = EpochPlan.BatchCount(order.Length, o.Batch, false);
            for (var b = 0; b < count; b++)
            {
                var batch = await sampler.SampleAsync(new Dictionary<NodeType, int[]> { [target] = EpochPlan.Batch(order, o.Batch, b).ToArray() },
                    EpochPlan.BatchSeed((ulong)o.Seed, epoch, b));
                measure?.Add(batch.ToData(0, epoch, b));
            }
        }
        if (warm.Length > 0) await Run(warm, 0, null);
        var sw = Stopwatch.StartNew();
        await Run(timedSeeds, 1, floor);
        var seconds = sw.Elapsed.TotalSeconds;
        return Case("in-process", "BlockSampler + feature gather over a PartitionedGraphStore, one thread, no actors (reference)",
            "this process", "in-process PartitionedGraphStore", "same thread",
            floor, seconds, new Dictionary<string, WireCount>());
    }

    /// <summary>A warm-up epoch, then the timed epoch, through <paramref name="sampler"/> into a consumer on <paramref name="consumerSystem"/>.</summary>
    private static async Task<BatchCase> Epochs(ActorSystem consumerSystem, IActorRef sampler, PartitionBook book, NodeType target, bool[] remote, int[] seeds, Options o,
        string name, string description, string samplerWhere, string storeKind, string consumerWhere)
    {
        var (warm, timedSeeds) = Split(seeds, o);
        if (warm.Length > 0) await RunEpoch(consumerSystem, sampler, Request(NextRequestId(), 0, target, warm, o), new BatchFloor(book, remote));
        var before = WireTraffic.Snapshot();
        var floor = new BatchFloor(book, remote);
        var seconds = await RunEpoch(consumerSystem, sampler, Request(NextRequestId(), 1, target, timedSeeds, o), floor);
        var traffic = WireTraffic.Since(before, WireTraffic.Snapshot());
        return Case(name, description, samplerWhere, storeKind, consumerWhere, floor, seconds, traffic);
    }

    private static long _requestId = DateTime.UtcNow.Ticks;
    private static long NextRequestId() => Interlocked.Increment(ref _requestId);

    private static async Task<double> RunEpoch(ActorSystem system, IActorRef sampler, SampleEpoch request, BatchFloor floor)
    {
        var done = new TaskCompletionSource<double>(TaskCreationOptions.RunContinuationsAsynchronously);
        var consumer = system.ActorOf(Props.Create(() => new EpochConsumer(sampler, request, floor, done)));
        var batches = EpochPlan.BatchCount(request.Seeds.Length, request.BatchSize, request.DropLast);
        var timeout = TimeSpan.FromSeconds(60 + 5.0 * batches);
        try
        {
            return await done.Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"Epoch {request.Epoch} ({batches} mini-batches from {sampler.Path}) did not complete within {timeout.TotalSeconds:0} s; " +
                                       $"{floor.Batches} arrived.");
        }
        finally
        {
            system.Stop(consumer);
        }
    }

    private static BatchCase Case(string name, string description, string sampler, string store, string consumer, BatchFloor floor, double seconds,
        IReadOnlyDictionary<string, WireCount> traffic)
    {
        double n = Math.Max(1, floor.Batches);
        long Sum(string[] manifests, Func<WireCount, long> f)
        {
            long s = 0;
            foreach (var m in manifests) if (traffic.TryGetValue(m, out var c)) s += f(c);
            return s;
        }
        return new BatchCase(name, description, sampler, store, consumer, floor.Batches, seconds, floor.Batches / seconds, floor.Edges / n,
            floor.Floor / n, floor.RemoteFloor / n, floor.Payload / n,
            Sum(RequestManifests, c => c.BytesWritten) / n, Sum(ResponseManifests, c => c.BytesRead) / n,
            Sum(RequestManifests, c => c.MessagesWritten) / n, Sum(ResponseManifests, c => c.MessagesRead) / n,
            Sum(MiniBatchManifests, c => c.BytesWritten) / n, Sum(ControlManifests, c => c.BytesWritten) / n, traffic);
    }

    /// <summary>
    /// Sums, over the batches it is shown, the floor of each batch (input ids, feature rows, block edge endpoints, seed
    /// labels), the part of it owned by remote partitions, the serializer's array payload and the block edges.
    /// Called from one consumer at a time.
    /// </summary>
    public sealed class BatchFloor(PartitionBook book, bool[] remote)
    {
        public int Batches { get; private set; }
        public long Floor { get; private set; }
        public long RemoteFloor { get; private set; }
        public long Payload { get; private set; }
        public long Edges { get; private set; }

        public void Add(MiniBatchData d)
        {
            long floor = 0, remoteFloor = 0;
            var types = new NodeType[d.NodeTypes.Length];
            for (var t = 0; t < types.Length; t++) types[t] = new NodeType(d.NodeTypes[t]);
            var input = d.Blocks[0].SrcNodes;
            for (var t = 0; t < types.Length; t++)
            {
                var row = 4L + 4L * d.FeatureDims[t];
                foreach (var id in input[t])
                {
                    floor += row;
                    if (remote[book.Owner(types[t], id)]) remoteFloor += row;
                }
            }
            foreach (var block in d.Blocks)
                for (var e = 0; e < d.EdgeTypes.Length; e++)
                {
                    var dstType = Array.IndexOf(d.NodeTypes, d.EdgeTypes[e].Dst.Name);
                    var dstIds = block.SrcNodes[dstType];
                    var dsts = block.EdgeDst[e];
                    Edges += dsts.Length;
                    foreach (var local in dsts)
                    {
                        floor += 8;
                        if (remote[book.Owner(types[dstType], dstIds[local])]) remoteFloor += 8;
                    }
                }
            var last = d.Blocks[^1];
            for (var t = 0; t < types.Length; t++)
            {
                if (d.Labels[t] is null) continue;
                for (var i = 0; i < last.NumDst[t]; i++)
                {
                    floor += 4;
                    if (remote[book.Owner(types[t], last.SrcNodes[t][i])]) remoteFloor += 4;
                }
            }
            Floor += floor;
            RemoteFloor += remoteFloor;
            Payload += d.PayloadBytes;
            Batches++;
        }
    }

    /// <summary>A trainer's end of the stream: asks for the epoch, runs the SourceRef into the ack sink, rebuilds and acks each batch.</summary>
    private sealed class EpochConsumer : ReceiveActor
    {
        public EpochConsumer(IActorRef sampler, SampleEpoch request, BatchFloor floor, TaskCompletionSource<double> done)
        {
            var clock = Stopwatch.StartNew();
            Receive<EpochStreamReady>(r => r.Stream.RunInto(Self, r.RequestId, Context.Materializer()));
            Receive<EpochRejected>(r => done.TrySetException(new InvalidOperationException($"The sampler refused epoch {r.Epoch}: {r.Problem}")));
            Receive<StreamInit>(_ => Sender.Tell(StreamAck.Instance));
            Receive<MiniBatchData>(b =>
            {
                var batch = b.ToMiniBatch();
                if (batch.Blocks.Length != request.Fanouts.Length)
                    done.TrySetException(new InvalidOperationException($"Mini-batch {b.Index} has {batch.Blocks.Length} blocks; {request.Fanouts.Length} layers were asked."));
                floor.Add(b);
                Sender.Tell(StreamAck.Instance);
            });
            Receive<StreamCompleted>(_ => done.TrySetResult(clock.Elapsed.TotalSeconds));
            Receive<StreamFailed>(f => done.TrySetException(new InvalidOperationException($"The mini-batch stream of epoch {request.Epoch} failed: {f.Problem}")));
            sampler.Tell(request);
        }
    }

    // ---- the cluster: this node (A), a `graphactors node` process (C), a trainer-only system in this process (B) ----

    private static async Task ClusterCases(Options o, string root, string store, NodeType target, int[] seeds, List<BatchCase> batches, List<RoundCase> rounds,
        TextWriter log, Action<string> samplerLine)
    {
        var remote = o.Cases.Contains("remote");
        var averaging = o.Cases.Contains("averaging");
        var portA = FreePort();
        var seedNode = $"akka.tcp://{Names.ActorSystem}@127.0.0.1:{portA}";
        var roundTimeout = TimeSpan.FromSeconds(120);
        string Node(int port, string roles, string extra = "") => $$"""
            akka.loglevel = WARNING
            akka.stdout-loglevel = WARNING
            akka.remote.dot-netty.tcp.hostname = "127.0.0.1"
            akka.remote.dot-netty.tcp.port = {{port}}
            akka.cluster.seed-nodes = ["{{seedNode}}"]
            akka.cluster.roles = [{{roles}}]
            akka.cluster.sharding.rebalance-interval = 1s
            # Several-MiB frames and full cores on a small machine pause heartbeats for seconds: a benchmark measures
            # throughput, so it tolerates longer pauses than a production failure detector would before it downs a node.
            akka.cluster.failure-detector.acceptable-heartbeat-pause = 30s
            akka.remote.watch-failure-detector.acceptable-heartbeat-pause = 30s
            akka.cluster.split-brain-resolver.stable-after = 60s
            graphactors.partitions.store-path = {{Quote(store)}}
            graphactors.persistence.sqlite-path = {{Quote(Path.Combine(root, "journal", "coordinator.db"))}}
            graphactors.training-coordinator {
              # The probe trainers measure the coordinator's own averaging (`bench allreduce` compares it with the ring).
              averaging = star
              min-trainers = 2
              plan-delay = 200ms
              round-timeout = {{(int)roundTimeout.TotalSeconds}}s
              progress-timeout = {{(int)roundTimeout.TotalSeconds}}s
            }
            {{extra}}
            """;

        var roundSeeds = new RoundSeeds();
        var clock = Stopwatch.StartNew();
        // Every node's ClusterClientReceptionist (NodeHost) gossips with the pub-sub mediators of the others: these nodes run one too.
        var defaults = NodeConfig.Defaults.WithFallback(DistributedPubSub.DefaultConfig());
        var a = ActorSystem.Create(Names.ActorSystem, NodeConfig.WithPersistence(
            ConfigurationFactory.ParseString(Node(portA, remote ? "partition, trainer" : "trainer")).WithFallback(defaults)));
        DistributedPubSub.Get(a);
        ActorSystem? b = null;
        NodeProcess? c = null;
        try
        {
            var partitionSettings = PartitionSettings.Create(a);
            if (remote) a.StartPartitionSharding(partitionSettings);
            else a.StartPartitionShardingProxy(partitionSettings);
            if (averaging)
            {
                var coordinator = CoordinatorSettings.Create(a);
                a.StartTrainingCoordinator(coordinator, roundSeeds);
                a.StartTrainingCoordinatorProxy(coordinator);
            }
            await AwaitUp(a, 1, TimeSpan.FromSeconds(30));
            if (remote)
            {
                var hocon = Path.Combine(root, "node-c.hocon");
                File.WriteAllText(hocon, Node(0, "partition", $"graphactors.node.data-dir = {Quote(Path.Combine(root, "node-c"))}"));
                c = NodeProcess.Start(hocon, store);
            }
            b = ActorSystem.Create(Names.ActorSystem, ConfigurationFactory.ParseString(Node(0, "trainer")).WithFallback(defaults));
            DistributedPubSub.Get(b);
            b.StartPartitionShardingProxy(PartitionSettings.Create(b));
            if (averaging) b.StartTrainingCoordinatorProxy(CoordinatorSettings.Create(b));
            await AwaitUp(a, remote ? 3 : 2, TimeSpan.FromSeconds(90), c);
            log.WriteLine($"cluster up in {clock.Elapsed.TotalSeconds:F1} s: {string.Join(", ", Akka.Cluster.Cluster.Get(a).State.Members.Select(m => $"{m.Address} [{string.Join(",", m.Roles)}]"))}");

            if (remote)
            {
                var remoteOfA = await AwaitPlacement(a, o.Parts, TimeSpan.FromSeconds(90), c!);
                log.WriteLine($"partitions of node A (this process): [{string.Join(", ", Enumerable.Range(0, o.Parts).Where(p => !remoteOfA[p]))}], " +
                              $"of node C (`graphactors node` process {c!.Pid}): [{string.Join(", ", Enumerable.Range(0, o.Parts).Where(p => remoteOfA[p]))}]");
                using var storeA = RemoteGraphStore.FromStore(a, store);
                using var storeB = RemoteGraphStore.FromStore(b, store);
                var settings = SamplerSettings.Create(a);
                samplerLine(Describe(settings));
                var samplerA = a.StartSampler(storeA, settings, name: SamplerName);
                var samplerB = b.StartSampler(storeB, settings, name: SamplerName);
                var samplerAfromB = await b.ActorSelection(new RootActorPath(Akka.Cluster.Cluster.Get(a).SelfAddress) / "user" / SamplerName)
                    .ResolveOne(TimeSpan.FromSeconds(10));
                var allRemote = Enumerable.Repeat(true, o.Parts).ToArray();
                // The node process starts cold: JIT its partition server (and the remote paths here) on every partition
                // before the first timed case, or that case pays for it alone.
                var (warm, _) = Split(seeds, o);
                if (warm.Length > 0)
                    for (var e = 0; e < 3; e++)
                        await RunEpoch(b, samplerB, Request(NextRequestId(), 100 + e, target, warm, o), new BatchFloor(storeB.Book, allRemote));

                batches.Add(await Epochs(a, samplerA, storeA.Book, target, remoteOfA, seeds, o,
                    "worker", "SamplerActor on node A (this process; roles partition, trainer) over a RemoteGraphStore; the other half of the " +
                    "partitions on node C (a `graphactors node` process, role partition); consumer on A",
                    "node A", "RemoteGraphStore: A + C", "node A"));
                log.WriteLine($"  {batches[^1].Name}: {batches[^1].BatchesPerSecond:F1} mini-batches/s");
                batches.Add(await Epochs(b, samplerAfromB, storeA.Book, target, remoteOfA, seeds, o,
                    "worker → B", "the same sampler on A, its SourceRef consumed on node B (an ActorSystem of this process, role trainer): " +
                    "every mini-batch crosses Akka.Remote",
                    "node A", "RemoteGraphStore: A + C", "node B (SourceRef)"));
                log.WriteLine($"  {batches[^1].Name}: {batches[^1].BatchesPerSecond:F1} mini-batches/s");
                batches.Add(await Epochs(b, samplerB, storeB.Book, target, allRemote, seeds, o,
                    "trainer-only B", "SamplerActor and consumer on node B (role trainer, no partitions): every partition remote (on A and C)",
                    "node B", "RemoteGraphStore: all remote", "node B"));
                log.WriteLine($"  {batches[^1].Name}: {batches[^1].BatchesPerSecond:F1} mini-batches/s");
                b.Stop(samplerB);
                a.Stop(samplerA);
            }

            if (averaging)
            {
                var trainers = await StartTrainers(b);
                foreach (var size in o.Sizes)
                {
                    rounds.Add(await CoordinatorRounds(a, trainers, roundSeeds, size, o.Rounds, Path.Combine(root, "checkpoints"), roundTimeout));
                    log.WriteLine($"  averaging {size:N0} floats: median {rounds[^1].MedianMs:F1} ms per round");
                }
                foreach (var (trainer, _) in trainers) b.Stop(trainer);
            }
        }
        finally
        {
            if (b is not null) await Leave(b, log);
            if (c is not null)
            {
                var exit = await c.TerminateAsync(TimeSpan.FromSeconds(30));
                if (exit != 0) log.WriteLine($"(the `graphactors node` process exited with {exit})\n{c.Tail()}");
                c.Dispose();
            }
            await Leave(a, log);
        }
    }

    private static async Task Leave(ActorSystem system, TextWriter log)
    {
        try
        {
            await CoordinatedShutdown.Get(system).Run(CoordinatedShutdown.ClrExitReason.Instance).WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (TimeoutException)
        {
            log.WriteLine($"({system.Name} did not shut down within 30 s; terminating it)");
            await system.Terminate().WaitAsync(TimeSpan.FromSeconds(10));
        }
    }

    private static async Task AwaitUp(ActorSystem system, int count, TimeSpan timeout, NodeProcess? child = null)
    {
        var cluster = Akka.Cluster.Cluster.Get(system);
        var deadline = DateTime.UtcNow + timeout;
        while (cluster.State.Members.Count(m => m.Status == Akka.Cluster.MemberStatus.Up) < count)
        {
            if (child is { HasExited: true })
                throw new InvalidOperationException($"The `graphactors node` process exited with {child.ExitCode} before joining.\n{child.Tail()}");
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"{cluster.SelfAddress} saw [{string.Join(", ", cluster.State.Members.Select(m => $"{m.Address} {m.Status}"))}] " +
                                           $"after {timeout.TotalSeconds:0} s; expected {count} members up.{(child is null ? "" : "\n" + child.Tail())}");
            await Task.Delay(100);
        }
    }

    /// <summary>
    /// Waits until every partition is hosted on its home node (PartitionPlacement) and answers which ones are hosted by
    /// another node than <paramref name="system"/>.
    /// </summary>
    private static async Task<bool[]> AwaitPlacement(ActorSystem system, int parts, TimeSpan timeout, NodeProcess child)
    {
        var region = system.PartitionRegion();
        var cluster = Akka.Cluster.Cluster.Get(system);
        var deadline = DateTime.UtcNow + timeout;
        var started = false;
        var seen = "nothing yet";
        while (DateTime.UtcNow < deadline)
        {
            if (child.HasExited) throw new InvalidOperationException($"The `graphactors node` process exited with {child.ExitCode}.\n{child.Tail()}");
            var members = PartitionPlacement.Ordered(cluster.State.Members.Where(m => m.HasRole(ClusterRoles.Partition))
                .Select(m => new PlacementMember(m.Address, m.Status == Akka.Cluster.MemberStatus.Up)));
            var regions = await region.Ask<CurrentRegions>(GetCurrentRegions.Instance, TimeSpan.FromSeconds(10));
            if (regions.Regions.Count >= 2 && !started)
            {
                // Only now: with both regions known, each partition is allocated straight to its home node.
                system.StartAllPartitions(PartitionSettings.Create(system));
                started = true;
            }
            var stats = await region.Ask<ClusterShardingStats>(new GetClusterShardingStats(TimeSpan.FromSeconds(5)), TimeSpan.FromSeconds(10));
            var host = new Address?[parts];
            foreach (var (address, regionStats) in stats.Regions)
                foreach (var shard in regionStats.Stats.Keys)
                    if (int.TryParse(shard, NumberStyles.None, CultureInfo.InvariantCulture, out var p) && p < parts) host[p] = address;
            seen = string.Join(", ", Enumerable.Range(0, parts).Select(p => $"{p}@{host[p]?.ToString() ?? "-"}"));
            var home = true;
            for (var p = 0; p < parts; p++) home &= host[p] is { } h && h == PartitionPlacement.Home(p, members);
            if (home) return host.Select(h => h != cluster.SelfAddress).ToArray();
            await Task.Delay(250);
        }
        throw new TimeoutException($"The partitions were not all on their home nodes after {timeout.TotalSeconds:0} s (last seen: {seen}).\n{child.Tail()}");
    }

    // ---- averaging ----

    private sealed record Go(int Round);

    private sealed record TrainerNote(string Kind, int Round = -1, long Timestamp = 0, string Detail = "");

    /// <summary>
    /// The seeds of the averaging jobs: 2 × <see cref="Rounds"/> ids, the even ones owned by partition 0 and the odd ones by
    /// partition 1: with batch size 2 and K = 1 the epoch has <see cref="Rounds"/> global steps and averaging rounds, and
    /// each global batch is split one seed to each trainer (even counts).
    /// </summary>
    private sealed class RoundSeeds : ISeedSource
    {
        private volatile int _rounds = 1;

        public int Rounds
        {
            get => _rounds;
            set => _rounds = value;
        }

        public SeedSet Load(TrainingConfig config)
        {
            var seeds = new int[Rounds * 2];
            for (var i = 0; i < seeds.Length; i++) seeds[i] = i;
            return new SeedSet(seeds, id => id % 2);
        }
    }

    /// <summary>
    /// Plays a trainer towards the coordinator: registers with its local partition, takes its EpochAssignment, sends its
    /// parameter chunks of a round on <see cref="Go"/>, checks every averaged chunk (two contributors, the mean of the
    /// two constant vectors) and notes the time when the last one is back.
    /// </summary>
    private sealed class ProbeTrainer : ReceiveActor
    {
        private float[][] _chunks = [];
        private float _expectedMean;
        private string _job = "";
        private int _epoch;
        private int _attempt;
        private EpochAssignment? _pieces;
        private int _round = -1;
        private int _got;

        public ProbeTrainer(IActorRef coordinator, int partition, ChannelWriter<TrainerNote> notes)
        {
            Receive<TrainerRegistered>(_ => notes.TryWrite(new TrainerNote("registered")));
            Receive<(float[][] Chunks, float Mean)>(m => { _chunks = m.Chunks; _expectedMean = m.Mean; });
            Receive<EpochAssignment>(m =>
            {
                _job = m.JobId;
                _epoch = m.Epoch;
                _attempt = m.Attempt;
                _pieces = m;
                notes.TryWrite(new TrainerNote("assigned", Detail: m.JobId));
            });
            Receive<Go>(g =>
            {
                _round = g.Round;
                _got = 0;
                // The piece of global step `round` this trainer holds: its seed count and checksum weight the contribution.
                var piece = _pieces?.SeedsOfSteps(g.Round, g.Round + 1) ?? [];
                var (seeds, checksum) = (piece.Length, SeedChecksum(piece));
                for (var i = 0; i < _chunks.Length; i++)
                    coordinator.Tell(new ParametersReady(_job, _epoch, _attempt, g.Round, i, _chunks.Length, seeds, checksum, _chunks[i]));
            });
            Receive<AveragedParameters>(m =>
            {
                if (m.JobId != _job || m.Round != _round)
                {
                    notes.TryWrite(new TrainerNote("error", Detail: $"averaged chunk of {m.JobId} round {m.Round} while waiting for {_job} round {_round}"));
                    return;
                }
                if (m.Contributors != 2 || m.Chunk.Length != _chunks[m.ChunkIndex].Length || m.Chunk[0] != _expectedMean || m.Chunk[^1] != _expectedMean)
                {
                    notes.TryWrite(new TrainerNote("error", Detail: $"averaged chunk {m.ChunkIndex} of round {m.Round}: {m.Contributors} contributors, " +
                                                                   $"{m.Chunk.Length} floats, first {m.Chunk.FirstOrDefault()} (expected 2, {_chunks[m.ChunkIndex].Length}, {_expectedMean})"));
                    return;
                }
                if (++_got == m.ChunkCount) notes.TryWrite(new TrainerNote("averaged", m.Round, Stopwatch.GetTimestamp()));
            });
            Receive<TrainingHalted>(m => notes.TryWrite(new TrainerNote("halted", Detail: m.Reason)));
            coordinator.Tell(new RegisterTrainer(Self, Akka.Cluster.Cluster.Get(Context.System).SelfAddress.ToString(), [partition]));
        }
    }

    private static async Task<TrainerNote> Next(ChannelReader<TrainerNote> notes, string kind, TimeSpan timeout, string what)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            while (true)
            {
                var note = await notes.ReadAsync(cts.Token);
                if (note.Kind == "error") throw new InvalidOperationException($"{what}: {note.Detail}");
                if (note.Kind == kind) return note;
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"{what}: nothing within {timeout.TotalSeconds:0} s.");
        }
    }

    /// <summary>Two probe trainers on <paramref name="b"/>, registered with the coordinator through b's proxy.</summary>
    private static async Task<(IActorRef Actor, ChannelReader<TrainerNote> Notes)[]> StartTrainers(ActorSystem b)
    {
        var proxy = await b.ActorSelection($"/user/{Names.TrainingCoordinatorProxy}").ResolveOne(TimeSpan.FromSeconds(10));
        var trainers = new (IActorRef, ChannelReader<TrainerNote>)[2];
        for (var t = 0; t < 2; t++)
        {
            var channel = Channel.CreateUnbounded<TrainerNote>();
            var (partition, writer) = (t, channel.Writer);
            trainers[t] = (b.ActorOf(Props.Create(() => new ProbeTrainer(proxy, partition, writer)), $"probe-trainer-{t}"), channel.Reader);
            // The proxy buffers while the singleton starts and recovers its journal: a generous bound.
            await Next(channel.Reader, "registered", TimeSpan.FromSeconds(60), $"trainer {t} registering with the coordinator");
        }
        return trainers;
    }

    private static async Task<RoundCase> CoordinatorRounds(ActorSystem a, (IActorRef Actor, ChannelReader<TrainerNote> Notes)[] trainers, RoundSeeds seeds,
        int floats, int timedRounds, string checkpointDir, TimeSpan timeout)
    {
        var aProxy = await a.ActorSelection($"/user/{Names.TrainingCoordinatorProxy}").ResolveOne(TimeSpan.FromSeconds(10));
        for (var t = 0; t < 2; t++)
        {
            var vector = new float[floats];
            Array.Fill(vector, t + 1f);
            trainers[t].Actor.Tell((ParameterAverager.Split(vector), 1.5f));
        }
        var chunks = (floats + MaxChunkFloats - 1) / MaxChunkFloats;
        var total = timedRounds + 1;
        seeds.Rounds = total;
        var job = $"bench-averaging-{floats}-{Guid.NewGuid():N}";
        var config = new TrainingConfig("graphsage", "node-classification", User.Name, 64, 2, 2, 0.01f, [10, 5], 1, 1, 1, 0, "val_acc", checkpointDir, "");
        var started = await aProxy.Ask<JobCommandResult>(new StartJob(job, config), TimeSpan.FromSeconds(30));
        if (!started.Accepted) throw new InvalidOperationException($"The coordinator refused the averaging job: {started.Message}");
        for (var t = 0; t < 2; t++) await Next(trainers[t].Notes, "assigned", TimeSpan.FromSeconds(30), $"trainer {t} waiting for its epoch assignment");

        var times = new List<double>();
        WireCount up = default, down = default;
        for (var r = 0; r < total; r++)
        {
            var before = WireTraffic.Snapshot();
            var t0 = Stopwatch.GetTimestamp();
            foreach (var (trainer, _) in trainers) trainer.Tell(new Go(r));
            long last = 0;
            for (var t = 0; t < 2; t++)
            {
                var note = await Next(trainers[t].Notes, "averaged", timeout, $"round {r} of {floats:N0} floats at trainer {t}");
                if (note.Round != r) throw new InvalidOperationException($"Trainer {t} finished round {note.Round} while round {r} was running.");
                last = Math.Max(last, note.Timestamp);
            }
            if (r == 0) continue; // warm-up
            times.Add(Stopwatch.GetElapsedTime(t0, last).TotalMilliseconds);
            var delta = WireTraffic.Since(before, WireTraffic.Snapshot());
            up = Add(up, delta.GetValueOrDefault("TPW"));
            down = Add(down, delta.GetValueOrDefault("TAW"));
        }
        var stopped = await aProxy.Ask<JobCommandResult>(new StopJob(job), TimeSpan.FromSeconds(30));
        if (!stopped.Accepted) throw new InvalidOperationException($"The coordinator did not stop the averaging job: {stopped.Message}");
        times.Sort();
        // Both ends are in this process: each chunk is counted once written (trainer → coordinator, coordinator → trainer).
        var wire = (double)(up.BytesWritten + down.BytesWritten) / times.Count;
        return new RoundCase("coordinator over Akka.Remote", floats, chunks, times.Count,
            times[times.Count / 2], times[0], times[^1], wire, 16.0 * floats);
    }

    private static WireCount Add(WireCount x, WireCount y) =>
        new(x.MessagesWritten + y.MessagesWritten, x.BytesWritten + y.BytesWritten, x.MessagesRead + y.MessagesRead, x.BytesRead + y.BytesRead);

    /// <summary>The averaging math alone: two trainers' chunks added, then the mean.</summary>
    private static RoundCase InMemoryAveraging(int floats, int rounds)
    {
        var a = new float[floats];
        var b = new float[floats];
        Array.Fill(a, 1f);
        Array.Fill(b, 2f);
        var ca = ParameterAverager.Split(a);
        var cb = ParameterAverager.Split(b);
        var times = new List<double>();
        for (var r = 0; r <= rounds; r++)
        {
            var sw = Stopwatch.StartNew();
            var averager = new ParameterAverager();
            for (var i = 0; i < ca.Length; i++)
            {
                if (averager.Add("a", i, ca.Length, 1, ca[i]) is { } p1) throw new InvalidOperationException(p1);
                if (averager.Add("b", i, cb.Length, 1, cb[i]) is { } p2) throw new InvalidOperationException(p2);
            }
            var (mean, contributors) = averager.Average();
            var ms = sw.Elapsed.TotalMilliseconds;
            if (contributors != 2 || mean[0][0] != 1.5f) throw new InvalidOperationException($"ParameterAverager gave {mean[0][0]} from {contributors} contributors.");
            if (r > 0) times.Add(ms);
        }
        times.Sort();
        return new RoundCase("ParameterAverager in memory", floats, ca.Length, times.Count, times[times.Count / 2], times[0], times[^1], 0, 16.0 * floats);
    }

    // ---- output ----

    private static string ToJson(Result r) => JsonSerializer.Serialize(r, new JsonSerializerOptions { WriteIndented = true });

    private static void Render(Result r)
    {
        var inv = CultureInfo.InvariantCulture;
        AnsiConsole.WriteLine();
        AnsiConsole.WriteLine($"{r.Machine}; load average {r.LoadAverage}");
        if (r.Batches.Count > 0)
        {
            var o = r.Options;
            AnsiConsole.WriteLine($"Mini-batches: {r.Graph}");
            AnsiConsole.WriteLine($"batch {o.Batch} '{r.Target}' seeds, fanouts [{string.Join(",", o.Fanouts)}] (DGL order), random_without_replacement, {o.Batches} timed batches after {o.Warmup} warm-up; sampler {r.SamplerSettings}");
            var t = new Table().AddColumns("case", "batches/s", "edges/batch", "floor KB", "remote floor KB", "partition req + resp KB",
                "req/resp msgs", "÷ remote floor", "÷ floor", "mini-batch on wire KB", "÷ floor");
            foreach (var c in r.Batches)
                t.AddRow(Markup.Escape(c.Name), c.BatchesPerSecond.ToString("F1", inv), c.EdgesPerBatch.ToString("N0", inv),
                    Kb(c.FloorBytes), Kb(c.RemoteFloorBytes),
                    c.PartitionBytes > 0 ? $"{Kb(c.RequestBytes)} + {Kb(c.ResponseBytes)}" : "0",
                    c.RequestMessages > 0 ? $"{c.RequestMessages:F1} / {c.ResponseMessages:F1}" : "-",
                    c.RemoteFloorBytes > 0 ? c.PartitionToRemoteFloor.ToString("F2", inv) : "-",
                    c.PartitionBytes > 0 ? c.PartitionToFloor.ToString("F2", inv) : "-",
                    c.MiniBatchWireBytes > 0 ? Kb(c.MiniBatchWireBytes) : "0",
                    c.MiniBatchWireBytes > 0 ? c.MiniBatchToFloor.ToString("F2", inv) : "-");
            AnsiConsole.Write(t);
            foreach (var c in r.Batches) AnsiConsole.WriteLine($"  {c.Name}: {c.Description}");
            AnsiConsole.WriteLine("  Per mini-batch. Floor: input ids (4 B) + feature rows (dim × 4 B) + block edges (2 × 4 B) + seed labels (4 B); " +
                                  "remote floor: the part owned by partitions on another node. Partition requests counted as written, responses as read, " +
                                  "by this process; the mini-batch as written by the sampler.");
        }
        if (r.Rounds.Count > 0)
        {
            AnsiConsole.WriteLine("Parameter averaging, 2 trainers, chunks of ≤ 2^20 floats; floor = 2 vectors up + the mean down to both = 16 B × floats");
            var t = new Table().AddColumns("path", "floats", "chunks", "rounds", "median ms", "min ms", "max ms", "wire MB/round", "floor MB", "ratio", "MB/s (floor)");
            foreach (var c in r.Rounds.OrderBy(c => c.Floats).ThenBy(c => c.Path))
                t.AddRow(Markup.Escape(c.Path), c.Floats.ToString("N0", inv), c.Chunks.ToString(inv), c.Rounds.ToString(inv),
                    c.MedianMs.ToString("F1", inv), c.MinMs.ToString("F1", inv), c.MaxMs.ToString("F1", inv),
                    c.WireBytesPerRound > 0 ? (c.WireBytesPerRound / 1e6).ToString("F2", inv) : "-", (c.FloorBytes / 1e6).ToString("F2", inv),
                    c.WireBytesPerRound > 0 ? c.WireToFloor.ToString("F4", inv) : "-", c.MegabytesPerSecond.ToString("F0", inv));
            AnsiConsole.Write(t);
        }
    }

    private static string Kb(double bytes) => (bytes / 1024).ToString("N1", CultureInfo.InvariantCulture);


    private static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    private static string Quote(string s) => "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";

    /// <summary>A `graphactors node` child process (this very executable), its output kept for error messages.</summary>
    private sealed class NodeProcess : IDisposable
    {
        [DllImport("libc", SetLastError = true)]
        private static extern int kill(int pid, int sig);

        private readonly Process _process;
        private readonly Queue<string> _tail = new();

        private NodeProcess(Process process)
        {
            _process = process;
            _process.OutputDataReceived += (_, e) => Keep(e.Data);
            _process.ErrorDataReceived += (_, e) => Keep(e.Data);
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
        }

        public int Pid => _process.Id;
        public bool HasExited => _process.HasExited;
        public int ExitCode => _process.ExitCode;

        public static NodeProcess Start(string hocon, string store)
        {
            // The child's configuration is the file: GA_* variables of this shell must not steer it.
            var psi = ChildCli.StartInfo(["node", "--config", hocon, "--store", store], withoutGaVariables: true);
            return new NodeProcess(Process.Start(psi) ?? throw new InvalidOperationException($"Could not start {psi.FileName} node."));
        }

        private void Keep(string? line)
        {
            if (line is null) return;
            lock (_tail)
            {
                _tail.Enqueue(line);
                while (_tail.Count > 40) _tail.Dequeue();
            }
        }

        public string Tail()
        {
            lock (_tail) return $"--- last lines of the `graphactors node` process {_process.Id} ---\n{string.Join("\n", _tail)}";
        }

        /// <summary>SIGTERM (the node leaves the cluster), then a kill if it has not exited within <paramref name="timeout"/>.</summary>
        public async Task<int> TerminateAsync(TimeSpan timeout)
        {
            if (_process.HasExited) return _process.ExitCode;
            kill(_process.Id, 15);
            using var cts = new CancellationTokenSource(timeout);
            try
            {
                await _process.WaitForExitAsync(cts.Token);
                return _process.ExitCode;
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
                return -1;
            }
        }

        public void Dispose()
        {
            try
            {
                if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // Exited meanwhile.
            }
            _process.Dispose();
        }
    }
}
