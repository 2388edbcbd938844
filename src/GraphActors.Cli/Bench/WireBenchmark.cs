// `graphactors bench wire`: the largest message of each kind that grows with data, whole (without chunking) and as written.
using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Akka.Actor;
using Akka.Configuration;
using Akka.Streams;
using GraphActors.Cluster;
using GraphActors.Cluster.Hosting;
using GraphActors.Cluster.Partitions;
using GraphActors.Cluster.Sampling;
using GraphActors.Cluster.Wire;
using GraphActors.Contracts;
using GraphActors.Contracts.Protocols;
using GraphActors.Contracts.Serialization;
using GraphActors.Graph.Partitioning;
using GraphActors.Sampling;
using static GraphActors.Contracts.Protocols.SamplingProtocol;
using static GraphActors.Contracts.Protocols.TrainingProtocol;

namespace GraphActors.Cli.Bench;

/// <summary>
/// Sizes only, no timings (so the machine's load does not matter). Per feature width it writes a planted-community
/// graph (one node type, <c>--nodes</c> nodes, <c>--degree</c> edges per node, plus a hub, node 0, with <c>--hub</c>
/// out-edges) as 2 hash partitions, and starts two ActorSystems of this process on 127.0.0.1 as server mode lays them
/// out: A holds both partitions (and a SamplerActor), B is a trainer-only node, so every partition answer to B crosses
/// Akka.Remote. With <see cref="WireTraffic"/> counting (serialize-messages off: only what crosses is serialized) it
/// measures, per batch size: a training batch sampled on B (its feature and neighbour answers), the same batch streamed
/// from A's sampler to a consumer on B (the mini-batch through the SourceRef), and an evaluation batch of
/// max(batch, 1024) seeds with every neighbour on both layers (local mode's default eval_fanouts) gathered on B. Once:
/// <c>full</c> neighbours of the hub and a business-id lookup of <c>--lookup</c> ids. Computed from the serializer's
/// sizes, not sent: a parameter vector of a 2-layer GraphSAGE (mean) and a trainer's SampleEpoch share of
/// <c>--share</c> seeds. "Whole" is what the message would have been without chunking (for answers that were chunked,
/// WireTraffic's MaxChunked); "on the wire" the largest payload actually written for that kind, whole or as a chunk.
/// </summary>
public static class WireBenchmark
{
    private static readonly CanonicalEdgeType Edge = PlantedCommunitySource.EdgeType;
    private static readonly NodeType V = new("v");

    public sealed record Options(int[] Dims, int[] Batches, int Nodes, int Degree, int[] Fanouts, int Hub, int Lookup, int Hidden, int Classes,
        int Share, string? WorkDir, string? Json);

    /// <summary>One kind of message at one width and batch size: its largest payload whole, the largest written, and into how many chunks it was cut.</summary>
    public sealed record Row(string Kind, int Dim, int Batch, long Whole, long OnWire, int Chunks, bool Computed);

    public static Command Create()
    {
        var dims = new Option<string>("--dims") { Description = "Feature widths, one graph each.", DefaultValueFactory = _ => "128,500,4096" };
        var batches = new Option<string>("--batches") { Description = "Seeds per training batch.", DefaultValueFactory = _ => "1024,4096" };
        var nodes = new Option<int>("--nodes") { Description = "Nodes of each graph.", DefaultValueFactory = _ => 30_000 };
        var degree = new Option<int>("--degree") { Description = "Edges per node (planted communities of 1,000, 90 % inside).", DefaultValueFactory = _ => 10 };
        var fanouts = new Option<string>("--fanouts") { Description = "Training fanouts, DGL order (2 layers).", DefaultValueFactory = _ => "10,10" };
        var hub = new Option<int>("--hub") { Description = "Out-edges of the hub (node 0) whose `full` neighbours are fetched.", DefaultValueFactory = _ => 1_000_000 };
        var lookup = new Option<int>("--lookup") { Description = "Business ids of one id lookup.", DefaultValueFactory = _ => 1_000_000 };
        var hidden = new Option<int>("--hidden") { Description = "Hidden size of the GraphSAGE whose parameters are sized.", DefaultValueFactory = _ => 256 };
        var classes = new Option<int>("--classes") { Description = "Classes of that model.", DefaultValueFactory = _ => 10 };
        var share = new Option<int>("--share") { Description = "Seeds of one trainer's epoch share (1B nodes × 10 % train / 16 trainers).", DefaultValueFactory = _ => 6_250_000 };
        var work = new Option<string?>("--work-dir") { Description = "Where the stores go (default: a temp dir, deleted after)." };
        var json = new Option<string?>("--json") { Description = "Also write the rows as JSON to this file." };
        var cmd = new Command("wire", "The largest message of each kind that grows with data, whole and as written across nodes (sizes only).");
        foreach (var o in new Option[] { dims, batches, nodes, degree, fanouts, hub, lookup, hidden, classes, share, work, json }) cmd.Options.Add(o);
        cmd.SetAction(pr =>
        {
            var o = new Options(Ints(pr.GetValue(dims)!, "--dims"), Ints(pr.GetValue(batches)!, "--batches"), pr.GetValue(nodes), pr.GetValue(degree),
                Ints(pr.GetValue(fanouts)!, "--fanouts"), pr.GetValue(hub), pr.GetValue(lookup), pr.GetValue(hidden), pr.GetValue(classes),
                pr.GetValue(share), pr.GetValue(work), pr.GetValue(json));
            var rows = RunAsync(o, Console.Out).GetAwaiter().GetResult();
            Console.WriteLine();
            Console.Write(Render(rows, o));
            if (o.Json is { } path) Graph.AtomicFile.WriteAllText(path, JsonSerializer.Serialize(rows, new JsonSerializerOptions { WriteIndented = true }));
            return 0;
        });
        return cmd;
    }

    public static async Task<List<Row>> RunAsync(Options o, TextWriter log)
    {
        if (o.Batches.Any(b => b < 1 || b > o.Nodes)) throw new ArgumentException($"--batches must lie in 1..--nodes ({o.Nodes}).");
        var root = o.WorkDir ?? Path.Combine(Path.GetTempPath(), $"ga-bench-wire-{Guid.NewGuid():N}");
        var rows = new List<Row>();
        WireTraffic.Enabled = true;
        try
        {
            foreach (var dim in o.Dims)
            {
                var store = Path.Combine(root, $"d{dim}");
                log.WriteLine($"d = {dim}: writing {o.Nodes:N0} nodes × {dim} floats, {o.Nodes * (long)o.Degree + o.Hub:N0} edges to {store}");
                GraphPartitioner.Run(new Source(o.Nodes, o.Nodes * (long)o.Degree, dim, o.Hub), new PartitionOptions(store, 2, "hash") { Overwrite = true });
                await using var nodes = await TwoNodes.StartAsync(store);
                rows.AddRange(await MeasureAsync(nodes, dim, o, first: dim == o.Dims[0], log));
                rows.Add(Parameters(dim, o));
            }
            rows.Add(EpochShare(o));
            return rows;
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
    }

    private static async Task<List<Row>> MeasureAsync(TwoNodes n, int dim, Options o, bool first, TextWriter log)
    {
        var rows = new List<Row>();
        var rng = new Random(dim);
        foreach (var batch in o.Batches)
        {
            var seeds = Enumerable.Range(0, o.Nodes).OrderBy(_ => rng.Next()).Take(batch).ToArray();

            WireTraffic.Reset();
            var train = new BlockSampler(n.StoreB, new BlockSamplerOptions(o.Fanouts) { Strategy = SamplingStrategy.RandomWithoutReplacement });
            var sampled = await train.SampleAsync(new Dictionary<NodeType, int[]> { [V] = seeds }, 7);
            var traffic = WireTraffic.Snapshot();
            rows.Add(Measured("features result (training batch)", dim, batch, traffic, "PFR"));
            rows.Add(Measured($"neighbours result (fanouts [{string.Join(",", o.Fanouts)}])", dim, batch, traffic, "PNR"));
            log.WriteLine($"  batch {batch}: {sampled.InputNodes[0].Length:N0} input nodes");

            WireTraffic.Reset();
            var (count, payload) = await n.StreamAsync(new SampleEpoch(dim * 10L + batch, 0, V, seeds, batch, o.Fanouts, NeighborStrategy.RandomWithoutReplacement, false, 7));
            rows.Add(Measured("mini-batch through the SourceRef", dim, batch, WireTraffic.Snapshot(), "SMB"));
            log.WriteLine($"  batch {batch}: {count} mini-batch of {payload / 1048576.0:0.0} MiB payload streamed A → B");

            WireTraffic.Reset();
            var evalSeeds = Enumerable.Range(0, o.Nodes).OrderBy(_ => rng.Next()).Take(Math.Max(batch, 1024)).ToArray();
            var eval = new BlockSampler(n.StoreB, new BlockSamplerOptions(o.Fanouts.Select(_ => -1).ToArray()));
            var evaluated = await eval.SampleAsync(new Dictionary<NodeType, int[]> { [V] = evalSeeds }, 7);
            rows.Add(Measured($"evaluation gather ({evalSeeds.Length} seeds, every neighbour)", dim, batch, WireTraffic.Snapshot(), "PFR"));
            log.WriteLine($"  evaluation batch of {evalSeeds.Length}: {evaluated.InputNodes[0].Length:N0} input nodes");
        }
        if (first)
        {
            WireTraffic.Reset();
            using (var full = await n.StoreB.SampleNeighborsAsync(Edge, false, new[] { 0 }, 1, SamplingStrategy.Full, 1, withWeights: true))
                log.WriteLine($"  hub: {full.Count:N0} neighbours");
            rows.Add(Measured($"neighbours result (`full`, a {o.Hub:N0}-edge hub)", 0, 0, WireTraffic.Snapshot(), "PNR"));

            WireTraffic.Reset();
            var business = Enumerable.Range(0, o.Lookup).Select(i => (long)(i * 3L % (2L * o.Nodes))).ToArray();
            await n.StoreB.LookupIdsAsync(V, business, new int[business.Length]);
            var ids = WireTraffic.Snapshot();
            // A request is split before it is sent, so the whole request is what the unsplit one would have been.
            var whole = WireChunks.SerializedSize(new PartitionProtocol.GetIds(0, 0, V, business, 0));
            var request = ids.GetValueOrDefault("PGI");
            rows.Add(new Row($"ids request (GetIds of {o.Lookup:N0} business ids)", 0, 0, whole, request.MaxWritten, (int)(request.MessagesWritten / 2), false));
            rows.Add(Measured($"ids result ({o.Lookup:N0} ids)", 0, 0, ids, "PIR"));
        }
        return rows;
    }

    private static Row Measured(string kind, int dim, int batch, IReadOnlyDictionary<string, WireCount> traffic, string manifest)
    {
        var c = traffic.GetValueOrDefault(manifest);
        var chunks = c.MaxChunked > 0 ? WireChunks.CountOf((int)c.MaxChunked, WireSettings.Create(NodeConfig.Defaults).ChunkSize) : 1;
        return new Row(kind, dim, batch, c.LargestWhole, c.LargestOnWire, chunks, false);
    }

    /// <summary>
    /// The flat parameter vector of a 2-layer GraphSAGE (mean): per layer a self and a neighbour weight and one bias;
    /// whole as one ParametersReady, and as trainers send it (TrainingProtocol.MaxChunkFloats per chunk).
    /// </summary>
    private static Row Parameters(int dim, Options o)
    {
        var floats = 2L * dim * o.Hidden + o.Hidden + 2L * o.Hidden * o.Classes + o.Classes;
        var whole = WireChunks.SerializedSize(new ParametersReady("job", 0, 0, 0, 0, 1, 1024, 0, new float[floats]));
        var chunk = WireChunks.SerializedSize(new ParametersReady("job", 0, 0, 0, 0, 1, 1024, 0, new float[Math.Min(floats, MaxChunkFloats)]));
        return new Row($"parameter chunk (SAGE 2 × {o.Hidden}, {floats:N0} floats)", dim, 0, whole, chunk, (int)((floats + MaxChunkFloats - 1) / MaxChunkFloats), true);
    }

    private static Row EpochShare(Options o)
    {
        var epoch = new SampleEpoch(1, 0, V, new int[o.Share], 4096, [10, 10], NeighborStrategy.RandomWithoutReplacement, false, 1);
        var whole = WireChunks.SerializedSize(epoch);
        var chunk = WireSettings.Create(NodeConfig.Defaults).ChunkSize;
        var chunks = WireChunks.CountOf((int)whole, chunk);
        var last = WireChunks.SerializedSize(new SampleEpochChunk(1, 0, chunks, (int)whole, new byte[Math.Min(chunk, (int)whole)]));
        return new Row($"SampleEpoch to a sampler node ({o.Share:N0} seeds)", 0, 0, whole, last, chunks, true);
    }

    public static string Render(IReadOnlyList<Row> rows, Options o)
    {
        var chunk = WireSettings.Create(NodeConfig.Defaults).ChunkSize;
        var b = new StringBuilder();
        b.AppendLine($"graph: {o.Nodes:N0} nodes, {o.Degree} edges per node, hub of {o.Hub:N0}; 2 hash partitions on node A; requests from node B; " +
                     $"training fanouts [{string.Join(", ", o.Fanouts)}]; chunk size {chunk / 1048576.0:0.#} MiB, frame 16 MiB");
        b.AppendLine("| message | d | batch | whole: before (bytes) | largest written: after (bytes) | chunks |");
        b.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: |");
        foreach (var r in rows)
            b.AppendLine($"| {r.Kind}{(r.Computed ? " (computed)" : "")} | {(r.Dim == 0 ? "–" : r.Dim.ToString(CultureInfo.InvariantCulture))} | " +
                         $"{(r.Batch == 0 ? "–" : r.Batch.ToString("N0", CultureInfo.InvariantCulture))} | {Size(r.Whole)} | {Size(r.OnWire)} | {r.Chunks} |");
        b.AppendLine("(✗: above the 16 MiB frame, so Akka.Remote would drop it as one message. A chunk's payload is its slice plus a header of about 40 bytes.)");
        return b.ToString();
    }

    private static string Size(long bytes) =>
        bytes.ToString("N0", CultureInfo.InvariantCulture) +
        (bytes >= 1 << 20 ? $" ({(bytes / 1048576.0).ToString("0.0", CultureInfo.InvariantCulture)} MiB){(bytes > 16L << 20 ? " ✗" : "")}" : "");

    private static int[] Ints(string text, string option)
    {
        try
        {
            return text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        }
        catch (FormatException)
        {
            throw new ArgumentException($"{option} = '{text}' is not a comma-separated list of integers.");
        }
    }

    /// <summary>The planted-community graph with wide rows written a thousand at a time, and a hub: node 0's extra out-edges.</summary>
    private sealed class Source(int nodes, long edges, int dim, int hub) : IPartitionSource
    {
        private const int Rows = 1024;
        private readonly PlantedCommunitySource _planted = new(nodes, edges, dim);

        public IReadOnlyList<SourceNodeType> NodeTypes { get; } = [new(V, nodes, dim, 10, HasMasks: false)];
        public IReadOnlyList<SourceEdgeType> EdgeTypes { get; } = [new(Edge, edges + hub)];

        public IEnumerable<EdgeChunk> ReadEdges(CanonicalEdgeType type)
        {
            foreach (var c in _planted.ReadEdges(type)) yield return c;
            var rng = new Random(hub);
            var src = new int[1 << 16];
            var dst = new int[1 << 16];
            var w = new float[1 << 16];
            for (var start = 0; start < hub; start += src.Length)
            {
                var len = Math.Min(src.Length, hub - start);
                for (var i = 0; i < len; i++) { dst[i] = rng.Next(nodes); w[i] = 1f; }
                yield return new EdgeChunk(src.AsMemory(0, len), dst.AsMemory(0, len), w.AsMemory(0, len));
            }
        }

        public IEnumerable<NodeChunk> ReadNodes(NodeType type)
        {
            var ids = new int[Rows];
            var business = new long[Rows];
            var labels = new int[Rows];
            var features = new float[Rows * dim];
            for (var start = 0; start < nodes; start += Rows)
            {
                var len = Math.Min(Rows, nodes - start);
                for (var i = 0; i < len; i++)
                {
                    var v = start + i;
                    ids[i] = v;
                    business[i] = 3L * v;
                    labels[i] = v / 1000 % 10;
                    for (var d = 0; d < dim; d++) features[i * dim + d] = (v * 31 + d) % 97 / 97f;
                }
                yield return new NodeChunk(ids.AsMemory(0, len), business.AsMemory(0, len), features.AsMemory(0, len * dim), labels.AsMemory(0, len));
            }
        }
    }

    /// <summary>Node A (both partitions, a sampler) and node B (trainer only, the requester), in this process.</summary>
    private sealed class TwoNodes : IAsyncDisposable
    {
        private sealed record Streamed(int Batches, long PayloadBytes) : INoSerializationVerificationNeeded;

        private TwoNodes(ActorSystem a, ActorSystem b, RemoteGraphStore storeA, RemoteGraphStore storeB, IActorRef sampler)
        {
            A = a; B = b; StoreA = storeA; StoreB = storeB; Sampler = sampler;
        }

        public ActorSystem A { get; }
        public ActorSystem B { get; }
        public RemoteGraphStore StoreA { get; }
        public RemoteGraphStore StoreB { get; }
        public IActorRef Sampler { get; }

        private static Config Node(int port, int seed, string roles, string store) => ConfigurationFactory.ParseString($$"""
            akka.loglevel = WARNING
            akka.stdout-loglevel = WARNING
            akka.actor.serialize-messages = off
            akka.remote.dot-netty.tcp.port = {{port}}
            akka.cluster.seed-nodes = ["akka.tcp://{{Names.ActorSystem}}@127.0.0.1:{{seed}}"]
            akka.cluster.roles = [{{roles}}]
            # Sizes, not speed: a loaded machine may pause heartbeats for seconds while hundreds of MiB are copied.
            akka.cluster.failure-detector.acceptable-heartbeat-pause = 30s
            akka.remote.watch-failure-detector.acceptable-heartbeat-pause = 30s
            graphactors.partitions.store-path = {{NodeConfig.Quote(store)}}
            graphactors.partitions.start-on-up = off
            """).WithFallback(NodeConfig.Defaults);

        public static async Task<TwoNodes> StartAsync(string store)
        {
            var port = FreePort();
            var a = ActorSystem.Create(Names.ActorSystem, Node(port, port, "partition, sampler", store));
            var b = ActorSystem.Create(Names.ActorSystem, Node(FreePort(), port, "trainer", store));
            var settings = PartitionSettings.Create(a);
            a.StartPartitionSharding(settings);
            b.StartPartitionShardingProxy(PartitionSettings.Create(b));
            var deadline = DateTime.UtcNow.AddSeconds(90);
            while (Akka.Cluster.Cluster.Get(a).State.Members.Count(m => m.Status == Akka.Cluster.MemberStatus.Up) < 2)
            {
                if (DateTime.UtcNow > deadline) throw new TimeoutException("The two bench nodes did not form a cluster within 90 s.");
                await Task.Delay(100);
            }
            var storeA = RemoteGraphStore.FromStore(a, store, TimeSpan.FromSeconds(120));
            var storeB = RemoteGraphStore.FromStore(b, store, TimeSpan.FromSeconds(120));
            var sampler = a.StartSampler(storeA, SamplerSettings.Create(a).WithParallelism(1).WithPrefetch(1).WithSubscriptionTimeout(TimeSpan.FromSeconds(120)),
                name: "bench-wire-sampler");
            // Both partitions load (and JIT) before anything is measured.
            await storeB.GetDegreesAsync(Edge, false, new[] { 0, 1, 2, 3 }, new int[4]);
            return new TwoNodes(a, b, storeA, storeB, sampler);
        }

        /// <summary>Runs one epoch of <paramref name="epoch"/> from A's sampler into a consumer on B: (batches, payload bytes).</summary>
        public async Task<(int Batches, long PayloadBytes)> StreamAsync(SampleEpoch epoch)
        {
            var done = new TaskCompletionSource<(int, long)>(TaskCreationOptions.RunContinuationsAsynchronously);
            var path = Sampler.Path.ToStringWithAddress(Akka.Cluster.Cluster.Get(A).SelfAddress);
            B.ActorOf(Props.Create(() => new Consumer(B.ActorSelection(path), epoch, done)));
            return await done.Task.WaitAsync(TimeSpan.FromMinutes(5));
        }

        private sealed class Consumer : ReceiveActor
        {
            public Consumer(ActorSelection sampler, SampleEpoch epoch, TaskCompletionSource<(int, long)> done)
            {
                var batches = 0;
                var bytes = 0L;
                Receive<EpochStreamReady>(r => r.Stream.RunInto(Self, r.RequestId, Context.Materializer()));
                Receive<EpochRejected>(r => done.TrySetException(new InvalidOperationException($"The sampler refused the epoch: {r.Problem}")));
                Receive<StreamInit>(_ => Sender.Tell(StreamAck.Instance));
                Receive<MiniBatchData>(m =>
                {
                    batches++;
                    bytes += m.PayloadBytes;
                    Sender.Tell(StreamAck.Instance);
                });
                Receive<StreamCompleted>(_ => { done.TrySetResult((batches, bytes)); Context.Stop(Self); });
                Receive<StreamFailed>(f => { done.TrySetException(new InvalidOperationException($"The stream failed: {f.Problem}")); Context.Stop(Self); });
                sampler.Tell(epoch);
            }
        }

        private static int FreePort()
        {
            using var l = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
            l.Start();
            return ((System.Net.IPEndPoint)l.LocalEndpoint).Port;
        }

        public async ValueTask DisposeAsync()
        {
            StoreA.Dispose();
            StoreB.Dispose();
            await Task.WhenAll(B.Terminate(), A.Terminate()).WaitAsync(TimeSpan.FromSeconds(30));
        }
    }
}
