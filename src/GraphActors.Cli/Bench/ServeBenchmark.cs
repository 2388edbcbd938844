// `graphactors bench serve`: the HTTP serving path end to end on loopback, with and without the Redis feature cache.
using System.CommandLine;
using GraphActors.Cli.Commands;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Akka.Actor;
using Akka.Configuration;
using GraphActors.Cluster.Inference;
using GraphActors.Contracts;
using GraphActors.Graph;
using GraphActors.Graph.Cgdf;
using GraphActors.Models;
using GraphActors.Sampling;
using GraphActors.Serving;

namespace GraphActors.Cli.Bench;

/// <summary>
/// An in-process server (Kestrel on 127.0.0.1, the engine over an in-memory graph) and a bounded load: a fixed number
/// of POST /predictions requests from a few concurrent HttpClient loops, after a warm-up. Cases: 1 and 64 business ids
/// per request, features from the graph store only and from Redis (every row synced, so all hits). The model is a
/// 2-layer heterogeneous GraphSAGE with fresh weights (latency does not depend on the weights). Each case runs with
/// the host calling the engine directly ("direct", as the quickstart serves) and/or with every request Asked of an
/// InferenceActor ("actor", as an inference node serves); with both, the two alternate in rounds over one engine.
/// </summary>
public static class ServeBenchmark
{
    public static Command Create()
    {
        var users = new Option<int>("--users") { Description = "User nodes.", DefaultValueFactory = _ => 50_000 };
        var items = new Option<int>("--items") { Description = "Item nodes.", DefaultValueFactory = _ => 20_000 };
        var clicks = new Option<int>("--clicks") { Description = "User–item clicks (undirected).", DefaultValueFactory = _ => 500_000 };
        var dim = new Option<int>("--dim") { Description = "Feature size of both types.", DefaultValueFactory = _ => 32 };
        var requests = new Option<int>("--requests") { Description = "Timed requests per case.", DefaultValueFactory = _ => 1000 };
        var clients = new Option<int>("--clients") { Description = "Concurrent client loops.", DefaultValueFactory = _ => 4 };
        var workers = new Option<int>("--workers") { Description = "Torch worker threads.", DefaultValueFactory = _ => 1 };
        var fanouts = new Option<string>("--fanouts") { Description = "Fanouts, input layer first (-1 = all).", DefaultValueFactory = _ => "10,10" };
        var redis = new Option<string?>("--redis") { Description = "Redis HOST:PORT (default: start redis-server on a free port if installed)" };
        var path = new Option<string>("--path") { Description = "Request path: direct (host → engine), actor (host → InferenceActor → engine) or both", DefaultValueFactory = _ => "both" };
        var cmd = new Command("serve", "HTTP serving: requests/s and p50/p99 latency for 1- and 64-node requests, with and without Redis.");
        foreach (var o in new Option[] { users, items, clicks, dim, requests, clients, workers, fanouts, redis, path }) cmd.Options.Add(o);
        cmd.SetAction(pr =>
        {
            var p = pr.GetValue(path)!;
            if (p is not ("direct" or "actor" or "both"))
            {
                Console.Error.WriteLine($"error: --path {p} is not one of direct, actor, both.");
                return 2;
            }
            bool[] paths = p switch { "direct" => [false], "actor" => [true], _ => [false, true] };
            Run(pr.GetValue(users), pr.GetValue(items), pr.GetValue(clicks), pr.GetValue(dim), pr.GetValue(requests), pr.GetValue(clients),
                pr.GetValue(workers), CliOptions.PositiveInts(pr.GetValue(fanouts)!, "--fanouts"), pr.GetValue(redis), paths).GetAwaiter().GetResult();
            return 0;
        });
        return cmd;
    }

    private static async Task Run(int userCount, int itemCount, int clickCount, int dim, int requests, int clients, int workers, int[] fanouts, string? redisEndpoint, bool[] paths)
    {
        Console.WriteLine($".NET {Environment.Version}, {Environment.ProcessorCount} logical CPUs; torch workers {workers} × 1 intra-op thread, {clients} clients, fanouts [{string.Join(",", fanouts)}]");
        var root = Path.Combine(Path.GetTempPath(), $"ga-bench-serve-{Guid.NewGuid():N}");
        Process? redisProcess = null;
        try
        {
            var sw = Stopwatch.StartNew();
            var (graph, cgdf) = Build(root, userCount, itemCount, clickCount, dim);
            Console.WriteLine($"graph: {userCount:N0} users + {itemCount:N0} items (dim {dim}), {clickCount:N0} clicks ×2 directions, built + CGDF in {sw.Elapsed.TotalSeconds:F1} s");
            var store = new HeteroGraphStore(graph);
            var loader = Model(dim, fanouts);

            if (redisEndpoint is null && FindRedisServer() is { } exe)
            {
                var port = FreePort();
                redisProcess = Process.Start(new ProcessStartInfo(exe, $"--port {port} --save \"\" --appendonly no --bind 127.0.0.1")
                    { RedirectStandardOutput = true, UseShellExecute = false })!;
                redisEndpoint = $"127.0.0.1:{port}";
                await WaitForPort(port);
            }
            Console.WriteLine();
            Console.WriteLine($"{"features",-10} {"path",-7} {"ids/req",8} {"requests",9} {"req/s",9} {"nodes/s",10} {"p50 ms",8} {"p99 ms",8} {"cache hits",11}");
            await Case(store, loader, null, "store", paths, requests, clients, workers, userCount);
            if (redisEndpoint is not null)
            {
                var options = new RedisOptions { Endpoint = redisEndpoint, Graph = "bench" };
                await FeatureSync.RunAsync(options, cgdf, "user");
                await FeatureSync.RunAsync(options, cgdf, "item");
                await using var source = await RedisFeatureSource.ConnectAsync(options);
                await Case(store, loader, source, "redis", paths, requests, clients, workers, userCount);
            }
            else Console.WriteLine("redis: skipped (no --redis and no redis-server on PATH)");
        }
        finally
        {
            if (redisProcess is { HasExited: false }) { redisProcess.Kill(); redisProcess.WaitForExit(5000); }
            try { Directory.Delete(root, true); } catch (IOException) { }
        }
    }

    /// <summary>
    /// One feature source, every requested path over the same engine: with both, a direct host and the actor's host
    /// serve side by side and the timed requests alternate between them in rounds, so load from other processes on
    /// the machine falls on both paths alike.
    /// </summary>
    private static async Task Case(IGraphStore store, IModelLoader loader, IFeatureSource? features, string name, bool[] paths, int requests, int clients, int workers, int users)
    {
        var engine = new InferenceEngine(store, loader, features, new InferenceOptions { Workers = workers, MaxInFlight = 256 });
        // The benchmark never calls the management API: a token nobody knows keeps it shut.
        var serving = new ServingOptions { InferencePort = 0, ManagementPort = 0, MetricsPort = 0, ManagementToken = ManagementAuth.NewToken() };
        var targets = new List<(string Path, Uri Address)>();
        ActorSystem? system = null;
        ServingHost? direct = null;
        try
        {
            if (paths.Contains(true))
            {
                (system, var address) = await StartActorHost(engine, serving);
                targets.Add(("actor", address));
            }
            else await engine.Models.RegisterAsync("sage", "bench://sage");
            if (paths.Contains(false))
            {
                direct = await ServingHost.StartAsync(engine, serving);
                targets.Insert(0, ("direct", direct.InferenceAddress));
            }
            await Measure(engine, targets, name, features is not null, requests, clients, users);
        }
        finally
        {
            if (direct is not null) await direct.DisposeAsync();
            // The actor's PostStop stops its host and disposes the engine; without an actor the engine is ours.
            if (system is not null) await system.Terminate().WaitAsync(TimeSpan.FromSeconds(60));
            else engine.Dispose();
        }
    }

    /// <summary>
    /// An InferenceActor on its pinned dispatcher owning <paramref name="engine"/>, with model "sage" (bench://sage)
    /// registered: its host Asks it for every request, as an inference node serves. Terminating the system stops the
    /// host and disposes the engine.
    /// </summary>
    internal static async Task<(ActorSystem System, Uri Inference)> StartActorHost(InferenceEngine engine, ServingOptions serving)
    {
        var system = ActorSystem.Create("bench-serve", ConfigurationFactory.ParseString("""
            akka.loglevel = WARNING
            # The status page reads the cluster; these systems are not in one.
            graphactors.status.enabled = off
            """).WithFallback(InferenceSettings.DefaultConfig));
        var settings = new InferenceSettings { StorePath = "(in memory)", Models = [new InferenceModel("sage", "bench://sage")], Serving = serving };
        var inference = system.ActorOf(InferenceActor.Props(settings, (_, _) => Task.FromResult(new InferenceBackend(engine))), "inference");
        var answer = await inference.Ask<object>(InferenceActor.GetAddresses.Instance, TimeSpan.FromSeconds(60));
        if (answer is not InferenceActor.Started started)
        {
            await system.Terminate();
            throw new InvalidOperationException($"The inference actor did not start: {(answer as InferenceActor.StartFailed)?.Reason}");
        }
        return (system, started.Inference);
    }

    /// <summary>The benchmarks' model: a 2-layer heterogeneous GraphSAGE over users and items with fresh weights, as bench://sage.</summary>
    internal static InProcessModelLoader Model(int dim, int[] fanouts)
    {
        var config = new ModelConfig
        {
            ModelType = ModelType.Sage,
            InDims = new Dictionary<string, int> { ["user"] = dim, ["item"] = dim },
            Relations = [new RelationKey("user", "clicks", "item"), new RelationKey("item", "clicks_reverse", "user")],
            HiddenChannels = 64, NumLayers = 2, OutDim = 8, Dropout = 0,
        };
        return new InProcessModelLoader().Add("bench://sage", config, null, new ServableModelInfo { Fanouts = fanouts });
    }

    private static async Task Measure(InferenceEngine engine, List<(string Path, Uri Address)> targets, string name, bool cached, int requests, int clients, int users)
    {
        const int rounds = 5;
        var http = targets.Select(t => new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = clients }) { BaseAddress = t.Address }).ToArray();
        try
        {
            foreach (var size in new[] { 1, 64 })
            {
                foreach (var h in http) await Load(h, size, Math.Max(requests / 10, 20), clients, users, seed: 1); // warm-up
                var latencies = targets.Select(_ => new List<double>(requests)).ToArray();
                var wall = new double[targets.Count];
                var hits = new long[targets.Count];
                for (var r = 0; r < rounds; r++)
                {
                    var n = requests / rounds + (r < requests % rounds ? 1 : 0);
                    for (var t = 0; t < targets.Count; t++)
                    {
                        var hits0 = engine.Metrics.CacheHits;
                        var (w, l) = await Load(http[t], size, n, clients, users, seed: 2 + r);
                        wall[t] += w;
                        latencies[t].AddRange(l);
                        hits[t] += engine.Metrics.CacheHits - hits0;
                    }
                }
                for (var t = 0; t < targets.Count; t++)
                {
                    var sorted = latencies[t].ToArray();
                    Array.Sort(sorted);
                    Console.WriteLine($"{name,-10} {targets[t].Path,-7} {size,8} {requests,9:N0} {requests / wall[t],9:N0} {requests * size / wall[t],10:N0} {Pct(sorted, 0.50),8:F2} {Pct(sorted, 0.99),8:F2} {(cached ? hits[t].ToString("N0") : "-"),11}");
                }
            }
        }
        finally
        {
            foreach (var h in http) h.Dispose();
        }
    }

    private static async Task<(double Wall, double[] LatenciesMs)> Load(HttpClient http, int size, int requests, int clients, int users, int seed)
    {
        var latencies = new double[requests];
        var next = -1;
        var wall = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
        {
            var rng = new Random(seed * 1000 + c);
            int i;
            while ((i = Interlocked.Increment(ref next)) < requests)
            {
                var ids = string.Join(",", Enumerable.Range(0, size).Select(_ => rng.Next(users)));
                using var content = new StringContent($$"""{"node_type":"user","ids":[{{ids}}]}""", Encoding.UTF8, "application/json");
                var t = Stopwatch.GetTimestamp();
                using var response = await http.PostAsync("/predictions/sage", content);
                await response.Content.LoadIntoBufferAsync();
                latencies[i] = Stopwatch.GetElapsedTime(t).TotalMilliseconds;
                if (response.StatusCode != HttpStatusCode.OK) throw new InvalidOperationException($"request {i}: HTTP {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }
        })));
        return (wall.Elapsed.TotalSeconds, latencies);
    }

    private static double Pct(double[] sorted, double q) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];

    /// <summary>Users and items with random features (business id = dense id), written to CGDF too for the Redis sync.</summary>
    internal static (HeteroGraph, string) Build(string root, int users, int items, int clicks, int dim)
    {
        var rng = new Random(7);
        var b = new HeteroGraphBuilder();
        var cgdf = Path.Combine(root, "cgdf");
        var writer = new CgdfWriter(cgdf, "bench", null);
        var row = new float[dim];
        foreach (var (type, count) in new[] { ("user", users), ("item", items) })
        {
            var table = b.AddNodeType(type, AttributeSchema.Floats(dim), capacity: count);
            using var w = writer.BeginNodeType(type, dim, hasMasks: false);
            for (var i = 0; i < count; i++)
            {
                for (var k = 0; k < dim; k++) row[k] = (float)(rng.NextDouble() * 2 - 1);
                table.TryAdd(i, row, -1, out _);
                w.Add(i, row, -1);
            }
            w.Complete();
        }
        writer.Complete();
        var edges = b.AddEdgeType(new CanonicalEdgeType("user", "clicks", "item"), AttributeSchema.Empty, directed: false, capacity: clicks);
        for (var e = 0; e < clicks; e++) edges.Add(rng.Next(users), rng.Next(items));
        return (b.Build(), cgdf);
    }

    private static string? FindRedisServer() => FindOnPath("redis-server");

    /// <summary>The first <paramref name="exe"/> on PATH, or null.</summary>
    internal static string? FindOnPath(string exe) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, exe)).FirstOrDefault(File.Exists);

    private static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    private static async Task WaitForPort(int port)
    {
        for (var i = 0; i < 100; i++)
        {
            try { using var c = new TcpClient(); await c.ConnectAsync(IPAddress.Loopback, port); return; }
            catch (SocketException) { await Task.Delay(50); }
        }
        throw new TimeoutException($"redis-server did not listen on {port} within 5 s.");
    }
}
