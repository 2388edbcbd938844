// `graphactors bench overload`: the serving path under more load than it can take, from wrk in another process.
using System.Collections.Concurrent;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Akka.Actor;
using GraphActors.Cli.Commands;
using GraphActors.Graph;
using GraphActors.Sampling;
using GraphActors.Serving;

namespace GraphActors.Cli.Bench;

/// <summary>
/// An inference host (by default as an inference node serves it: the InferenceActor behind the HTTP edge) over an
/// in-memory graph, loaded by wrk (Debian's package) from a separate process. First its capacity: successful
/// predictions per second from a few connections, all admitted. Then overload as many users make it: N connections
/// that each wait a random (exponential) think time between requests, offering k × capacity; and a flood: N
/// connections with no think time (every answer brings the next request at once, the worst a client can do).
/// Reported per phase: goodput (200s per second over all connections) against capacity, the latency per status at 32
/// timed probe connections (what a 200 and a 503 cost a client; an eighth of 256 users, so a 99th percentile rests on
/// hundreds of answers, not on the few dozen that 4 probes saw), and whether the server's counters
/// (ts_inference_requests_total by code) saw what wrk saw.
/// </summary>
public static class OverloadBenchmark
{
    /// <summary>Most connections wrk times (one thread each, so each thread's request and response pair up).</summary>
    private const int MaxTimedConnections = 32;

    private const int ProbeConnections = MaxTimedConnections;

    public static Command Create()
    {
        var users = new Option<int>("--users") { Description = "User nodes.", DefaultValueFactory = _ => 50_000 };
        var items = new Option<int>("--items") { Description = "Item nodes.", DefaultValueFactory = _ => 20_000 };
        var clicks = new Option<int>("--clicks") { Description = "User–item clicks (undirected).", DefaultValueFactory = _ => 500_000 };
        var dim = new Option<int>("--dim") { Description = "Feature size of both types.", DefaultValueFactory = _ => 32 };
        var ids = new Option<int>("--ids") { Description = "Business ids per request.", DefaultValueFactory = _ => 1 };
        var connections = new Option<int>("--connections") { Description = $"Connections of the overload phases (an untimed crowd + {ProbeConnections} timed probes).", DefaultValueFactory = _ => 256 };
        var capacityConnections = new Option<string>("--capacity-connections")
        {
            Description = "Connection counts of the capacity phases, all admitted (default: 8, 16, 32 … up to max-in-flight); capacity is the best of them.",
        };
        var clientCpus = new Option<string>("--client-cpus")
        {
            Description = "CPUs for wrk (taskset list, e.g. 1 or 2-3), the server keeps the others, as if the load came from another machine; " +
                          "none = wrk and the server share every CPU (default: the last CPU when this process may use two or more).",
        };
        var seconds = new Option<int>("--seconds") { Description = "Length of each timed phase.", DefaultValueFactory = _ => 10 };
        var offered = new Option<string>("--offered") { Description = "Offered loads of the many-users phases, as multiples of capacity.", DefaultValueFactory = _ => "2,4" };
        var maxInFlight = new Option<int>("--max-in-flight") { Description = "graphactors.inference.max-in-flight of the server.", DefaultValueFactory = _ => new InferenceOptions().MaxInFlight };
        var workers = new Option<int>("--workers") { Description = "Torch worker threads.", DefaultValueFactory = _ => 1 };
        var fanouts = new Option<string>("--fanouts") { Description = "Fanouts, input layer first (-1 = all).", DefaultValueFactory = _ => "10,10" };
        var path = new Option<string>("--path") { Description = "actor (host → InferenceActor → engine, as a node serves) or direct (host → engine)", DefaultValueFactory = _ => "actor" };
        var allocations = new Option<bool>("--allocations") { Description = "Also list the types the server allocated most during the capacity phase (the runtime's allocation samples, one per ~100 KB; the listener slows that phase, so use it for looking, not for figures)" };
        var cmd = new Command("overload", "Serving under overload (wrk): goodput against capacity, what a 503 and a 200 cost a client, 503s counted.");
        foreach (var o in new Option[] { users, items, clicks, dim, ids, connections, capacityConnections, seconds, offered, maxInFlight, workers, fanouts, path, allocations, clientCpus }) cmd.Options.Add(o);
        cmd.SetAction(pr =>
        {
            var p = pr.GetValue(path)!;
            if (p is not ("actor" or "direct"))
            {
                Console.Error.WriteLine($"error: --path {p} is not one of actor, direct.");
                return 2;
            }
            if (pr.GetValue(connections) <= ProbeConnections)
            {
                Console.Error.WriteLine($"error: --connections {pr.GetValue(connections)} leaves no flood beside the {ProbeConnections} probe connections.");
                return 2;
            }
            if (ServeBenchmark.FindOnPath("wrk") is not { } wrk)
            {
                Console.Error.WriteLine("error: wrk is not installed (Debian: apt-get install wrk); this benchmark loads the server from a separate process with it.");
                return 2;
            }
            var sweep = pr.GetValue(capacityConnections) is { } cc
                ? CliOptions.PositiveInts(cc, "--capacity-connections")
                : CapacitySweep(pr.GetValue(maxInFlight));
            if (CpuSplit.Resolve(pr.GetValue(clientCpus)) is not { } split) return 2;
            // The server's CPUs are fixed when the process starts (every thread inherits them), so a process allowed more
            // than the server's share runs the benchmark in a child confined to it, under taskset.
            if (split.Client is not null && !split.ServerIsCurrent)
                return CpuSplit.RunConfined(split, pr.GetValue(clientCpus) is null ? ["--client-cpus", split.Client] : []);
            var o = new Settings(pr.GetValue(users), pr.GetValue(items), pr.GetValue(clicks), pr.GetValue(dim), pr.GetValue(ids),
                pr.GetValue(connections), sweep, pr.GetValue(seconds), CliOptions.PositiveInts(pr.GetValue(offered)!, "--offered"),
                pr.GetValue(maxInFlight), pr.GetValue(workers),
                CliOptions.PositiveInts(pr.GetValue(fanouts)!, "--fanouts"), p == "actor", wrk, pr.GetValue(allocations), split);
            return Run(o).GetAwaiter().GetResult();
        });
        return cmd;
    }

    private sealed record Settings(int Users, int Items, int Clicks, int Dim, int Ids, int Connections, int[] CapacityConnections, int Seconds,
        int[] Offered, int MaxInFlight, int Workers, int[] Fanouts, bool Actor, string Wrk, bool Allocations, CpuSplit Cpus);

    /// <summary>8, 16, 32, … up to and including <paramref name="maxInFlight"/>: capacity is the best of them.</summary>
    private static int[] CapacitySweep(int maxInFlight)
    {
        var counts = new List<int>();
        for (var c = 8; c < maxInFlight; c *= 2) counts.Add(c);
        counts.Add(maxInFlight);
        return counts.ToArray();
    }

    private static async Task<int> Run(Settings o)
    {
        Console.WriteLine($".NET {Environment.Version}, {Environment.ProcessorCount} logical CPUs; load average before: {BenchLoad.Read()}");
        Console.WriteLine($"server: {(o.Actor ? "actor" : "direct")} path, max-in-flight {o.MaxInFlight}, torch workers {o.Workers} × 1 intra-op thread, " +
                          $"fanouts [{string.Join(",", o.Fanouts)}], {o.Ids} id(s) per request; load: {o.Wrk}");
        Console.WriteLine(o.Cpus.Client is { } client
            ? $"CPUs: the server on {o.Cpus.Server}, wrk on {client} (as if the load came from another machine)"
            : $"CPUs: the server and wrk share {o.Cpus.Server} (wrk's CPU comes out of the server's)");
        var root = Path.Combine(Path.GetTempPath(), $"ga-bench-overload-{Guid.NewGuid():N}");
        ActorSystem? system = null;
        ServingHost? direct = null;
        InferenceEngine? engine = null;
        try
        {
            var (graph, _) = ServeBenchmark.Build(root, o.Users, o.Items, o.Clicks, o.Dim);
            engine = new InferenceEngine(new HeteroGraphStore(graph), ServeBenchmark.Model(o.Dim, o.Fanouts), null,
                new InferenceOptions { Workers = o.Workers, MaxInFlight = o.MaxInFlight });
            // The benchmark never calls the management API: a token nobody knows keeps it closed.
            var serving = new ServingOptions { InferencePort = 0, ManagementPort = 0, MetricsPort = 0, ManagementToken = ManagementAuth.NewToken() };
            Uri address;
            if (o.Actor) (system, address) = await ServeBenchmark.StartActorHost(engine, serving);
            else
            {
                await engine.Models.RegisterAsync("sage", "bench://sage");
                direct = await ServingHost.StartAsync(engine, serving);
                address = direct.InferenceAddress;
            }
            var url = new Uri(address, "predictions/sage").ToString();
            var script = Path.Combine(root, "load.lua");
            await File.WriteAllTextAsync(script, LuaScript.Replace("__THINK__", "", StringComparison.Ordinal));
            await File.WriteAllTextAsync(ThinkingScript(script), LuaScript.Replace("__THINK__", ThinkFunction, StringComparison.Ordinal));

            await WarmUp(o, script, url);
            Console.WriteLine();
            Console.WriteLine($"{"phase",-44} {"200/s",7} {"503/s",8} {"other",6} {"good",5} {"200 p50",8} {"200 p99",8} {"503 p50",8} {"503 p99",8} {"503 max",8} {"counted",8} {"GCs",5} {"GC ms",6} {"KB/200",7}");
            AllocationSampler? sampler = o.Allocations ? new AllocationSampler() : null;
            PhaseResult? best = null;
            foreach (var c in o.CapacityConnections)
                if (await Phase(o, engine, script, url, $"capacity ({c} connections)", c, 0, null) is var cap && (best is null || cap.Ok > best.Ok)) best = cap;
            var capacityRate = best!.Ok;
            var manyUsers = new List<(int K, PhaseResult R)>();
            var sampled = sampler?.Stop();
            var missed = new List<string>();
            foreach (var k in o.Offered)
            {
                // N users offering k × capacity: each waits N / (k × capacity) on average between its requests.
                var thinkMs = o.Connections * 1000.0 / (k * capacityRate);
                var r = await Phase(o, engine, script, url, $"{k} × capacity ({o.Connections} users, think {thinkMs:F0} ms)", o.Connections, thinkMs, capacityRate);
                manyUsers.Add((k, r));
                if (r.Ok < 0.8 * capacityRate) missed.Add($"goodput at {k} × capacity {r.Ok / capacityRate:P0} < 80 %");
                if (r.RefusedP99 is { } p99 && p99 >= 5) missed.Add($"503 p99 at {k} × capacity {p99:F2} ms ≥ 5 ms");
                if (r.RefusedP99 is null) missed.Add($"{k} × capacity refused nothing at the probe: the offered load did not fill max-in-flight");
            }
            var flood = await Phase(o, engine, script, url, $"flood ({o.Connections} connections, no think time)", o.Connections, 0, capacityRate);
            Console.WriteLine($"latencies in ms at the timed connections (all of them in the capacity phase, {ProbeConnections} probes otherwise; \"timed\" gives how many answers of each status they rest on); good = 200/s ÷ capacity;");
            Console.WriteLine("counted = the server's ts_inference_requests_total (200 + 503) ÷ the answers wrk read (requests cut off at a phase's end are the server's only);");
            Console.WriteLine("GCs, GC ms = the server's collections and their total pause in the phase; KB/200 = bytes it allocated per successful prediction");
            Console.WriteLine();
            Console.WriteLine(missed.Count == 0
                ? "targets under overload by many users (goodput ≥ 80 % of capacity, 503 p99 < 5 ms): met"
                : $"targets under overload by many users: MISSED ({string.Join("; ", missed)})");
            Console.WriteLine($"flood: {flood.Ok / capacityRate:P0} of capacity as goodput; with {o.Connections} connections that never wait, every request waits for " +
                              $"{o.Connections} / {flood.Rate:N0} per s = {o.Connections * 1000.0 / flood.Rate:F1} ms on average (Little's law), whatever its status");
            if (RefusalCost(best, flood) is { } cost)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"what a refusal costs the server: ≈ {cost.RefusalUs:F0} µs of CPU against ≈ {cost.PredictionUs:F0} µs for a prediction (the flood's CPU time less its 200s at the capacity phase's cost per 200, ÷ its 503s: an estimate that puts on the 503s whatever the flood's 200s cost beyond that)"));
                foreach (var (k, r) in manyUsers)
                {
                    var refusing = r.Refused * cost.RefusalUs / 1e6;
                    var perOk = r.Ok > 0 ? Math.Max(0, r.Cores - refusing) / r.Ok * 1e6 : double.NaN;
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"  at {k} × capacity the {r.Refused:N0} refusals/s took ≈ {refusing:F2} of the {best.Cores:F2} cores the capacity phase used: room for at most ≈ {Math.Max(0, best.Cores - refusing) / best.Cores:P0} of capacity " +
                        $"as goodput if a 200 cost what it did there; the rest of the CPU came to ≈ {perOk:F0} µs per 200"));
                }
            }
            else
                Console.WriteLine($"what a refusal costs the server: not estimated (the flood refused {flood.Refused:N0}/s: too few to tell, or its 200s used all the CPU it took)");
            if (sampled is not null)
            {
                Console.WriteLine();
                Console.WriteLine($"allocated during the capacity phase, by type (the runtime's samples, ≈ 100 KB each; {sampled.Sum(t => t.Bytes) / 1e6:N0} MB sampled):");
                foreach (var (type, bytes) in sampled.Take(25)) Console.WriteLine($"  {bytes / 1e6,8:N1} MB  {type}");
            }
            Console.WriteLine($"load average after: {BenchLoad.Read()}");
            return 0;
        }
        finally
        {
            if (direct is not null) await direct.DisposeAsync();
            // The actor's PostStop stops its host and disposes the engine; without an actor the engine is ours.
            if (system is not null) await system.Terminate().WaitAsync(TimeSpan.FromSeconds(60));
            else engine?.Dispose();
            try { Directory.Delete(root, true); } catch (IOException) { }
        }
    }

    /// <summary>Warm-up rounds end when the JIT compiled fewer methods than this in a round …</summary>
    private const int SteadyJitMethods = 20;
    /// <summary>… and the round's predictions per second are within this fraction of the round before.</summary>
    private const double SteadyWithin = 0.05;
    private const int MaxWarmUpRounds = 15;

    /// <summary>
    /// Rounds at full admission (a phase long each) until the JIT has finished and the rate stopped moving. On one
    /// saturated core tiered compilation (tier 0, the instrumented tier, tier 1) gets a share of the CPU like every other
    /// thread, so the server takes 40–90 s of load to reach its steady rate: after one 10-s round it served 1,300–2,000
    /// predictions/s and 4,000–5,200/s five rounds later, while two early rounds can agree with each other. Capacity
    /// measured before that is the JIT's, not the server's.
    /// </summary>
    private static async Task WarmUp(Settings o, string script, string url)
    {
        double? previous = null;
        for (var round = 1; round <= MaxWarmUpRounds; round++)
        {
            var compiled0 = System.Runtime.JitInfo.GetCompiledMethodCount();
            var r = await Wrk(o, script, url, o.CapacityConnections[^1], 0, o.Seconds, "warm-up");
            var compiled = System.Runtime.JitInfo.GetCompiledMethodCount() - compiled0;
            var rate = r.Count(200) / r.Seconds;
            var steady = compiled < SteadyJitMethods && previous is { } p && Math.Abs(rate - p) <= SteadyWithin * p;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"warm-up round {round} ({o.CapacityConnections[^1]} connections, {o.Seconds} s): {rate:N0} predictions/s, {compiled:N0} methods compiled{(steady ? ": steady" : "")}"));
            if (steady) return;
            previous = rate;
        }
        Console.WriteLine($"WARNING: after {MaxWarmUpRounds} warm-up rounds the JIT was still compiling or the rate still moving by more than {SteadyWithin:P0}; capacity may be understated.");
    }

    private sealed record PhaseResult(double Ok, double Refused, double Rate, double? RefusedP99, double Cores);

    /// <summary>
    /// CPU per refusal and per prediction, in µs, from the best capacity phase (all 200s) and the flood (mostly 503s): a
    /// 200 costs the capacity phase's cores ÷ its rate, and what the flood's CPU time has left after its 200s is put on
    /// its 503s. Null when the flood refused too little to tell.
    /// </summary>
    private static (double RefusalUs, double PredictionUs)? RefusalCost(PhaseResult capacity, PhaseResult flood)
    {
        if (capacity.Ok <= 0 || flood.Refused < 100) return null;
        var perPrediction = capacity.Cores / capacity.Ok;
        var left = flood.Cores - flood.Ok * perPrediction;
        return left <= 0 ? null : (left / flood.Refused * 1e6, perPrediction * 1e6);
    }

    /// <summary>
    /// One timed phase: <paramref name="connections"/> connections (above the probe's <see cref="ProbeConnections"/>: an
    /// untimed crowd beside that many timed probes, all with the same think time), one table row.
    /// </summary>
    private static async Task<PhaseResult> Phase(Settings o, InferenceEngine engine, string script, string url, string name, int connections,
        double thinkMs, double? capacity)
    {
        var before = Counted(engine);
        var (gcs0, pause0, alloc0) = (GC.CollectionCount(0), GC.GetTotalPauseDuration(), GC.GetTotalAllocatedBytes());
        var usage = Usage.Start(o.Cpus);
        using var pauses = new GcPauses();
        WrkResult all, timed;
        if (connections <= MaxTimedConnections)
        {
            all = timed = await Wrk(o, script, url, connections, thinkMs, o.Seconds, name);
        }
        else
        {
            var crowd = Wrk(o, script, url, connections - ProbeConnections, thinkMs, o.Seconds, name);
            var probe = Wrk(o, script, url, ProbeConnections, thinkMs, o.Seconds, name + " (probe)");
            timed = await probe;
            all = Sum(await crowd, timed);
        }
        var after = Counted(engine);
        var (used, cores) = await usage.StopAsync(o.Seconds);
        // The server's garbage collections meanwhile (this process is the server; wrk is another): pauses stop every thread.
        var (gcs, pauseMs, kbPerOk) = (GC.CollectionCount(0) - gcs0, (GC.GetTotalPauseDuration() - pause0).TotalMilliseconds,
            (GC.GetTotalAllocatedBytes() - alloc0) / 1024.0 / Math.Max(1, after.Ok - before.Ok));
        var ok = all.Count(200) / all.Seconds;
        var refused = all.Count(503) / all.Seconds;
        var rate = (all.Count(200) + all.Count(503) + all.Other) / all.Seconds;
        var seen = all.Count(200) + all.Count(503);
        var counted = (after.Ok - before.Ok) + (after.Refused - before.Refused);
        Console.WriteLine($"{name,-44} {ok,7:N0} {refused,8:N0} {all.Other,6:N0} {(capacity is { } c ? (ok / c).ToString("P0", CultureInfo.InvariantCulture) : "-"),5} " +
                          $"{Ms(timed, 200, 0.5),8} {Ms(timed, 200, 0.99),8} {Ms(timed, 503, 0.5),8} {Ms(timed, 503, 0.99),8} {Ms(timed, 503, 1.0),8} " +
                          $"{(seen == 0 ? "-" : ((double)counted / seen).ToString("P1", CultureInfo.InvariantCulture)),8} {gcs,5} {pauseMs,6:F0} {kbPerOk,7:F0}");
        Console.WriteLine($"  {used}; timed {timed.Count(200):N0} 200s and {timed.Count(503):N0} 503s");
        Console.WriteLine($"  {pauses.Summary()}");
        if (all.Errors != "0" && all.Errors != "0 / 0") Console.WriteLine($"  socket errors (wrk): {all.Errors}");
        return new PhaseResult(ok, refused, rate, timed.Count(503) == 0 ? null : timed.Percentile(503, 0.99), cores);
    }

    private static string ThinkingScript(string script) => Path.ChangeExtension(script, ".think.lua");

    private static string Ms(WrkResult r, int status, double q) => r.Count(status) == 0 ? "-" : r.Percentile(status, q).ToString("F2", CultureInfo.InvariantCulture);

    private static (long Ok, long Refused) Counted(InferenceEngine engine) => (engine.Metrics.Requests(200), engine.Metrics.Requests(503));

    private static WrkResult Sum(WrkResult a, WrkResult b)
    {
        var counts = new Dictionary<int, long>(a.Counts);
        foreach (var (k, v) in b.Counts) counts[k] = counts.GetValueOrDefault(k) + v;
        return new WrkResult(Math.Max(a.Seconds, b.Seconds), counts, [], a.Errors + " / " + b.Errors);
    }

    /// <summary>
    /// Runs wrk: up to 32 connections with one thread each (so each thread's request and response pair up for timing),
    /// more on 2 untimed threads (wrk's own CPU stays small). Each connection waits an exponential think time of mean
    /// <paramref name="thinkMs"/> (0: none) before each request.
    /// </summary>
    private static async Task<WrkResult> Wrk(Settings o, string script, string url, int connections, double thinkMs, int seconds, string phase)
    {
        var timed = connections <= MaxTimedConnections;
        var threads = timed ? connections : Math.Min(2, connections); // wrk needs a connection per thread
        var psi = new ProcessStartInfo(o.Cpus.Client is null ? o.Wrk : o.Cpus.Taskset!)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        if (o.Cpus.Client is { } cpus) foreach (var a in new[] { "-c", cpus, o.Wrk }) psi.ArgumentList.Add(a);
        foreach (var a in new[] { $"-t{threads}", $"-c{connections}", $"-d{seconds}s", "--timeout", "10s", "-s", thinkMs > 0 ? ThinkingScript(script) : script, url, "--",
                     o.Users.ToString(CultureInfo.InvariantCulture), o.Ids.ToString(CultureInfo.InvariantCulture), timed ? "timed" : "untimed",
                     thinkMs.ToString("F3", CultureInfo.InvariantCulture) })
            psi.ArgumentList.Add(a);
        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {o.Wrk}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var text = await stdout;
        if (process.ExitCode != 0) throw new InvalidOperationException($"wrk ({phase}) exited {process.ExitCode}: {await stderr}\n{text}");
        return WrkResult.Parse(text, seconds, phase);
    }

    private sealed record WrkResult(double Seconds, Dictionary<int, long> Counts, SortedDictionary<(int Status, int Bucket), long> Histogram, string Errors)
    {
        public long Count(int status) => Counts.GetValueOrDefault(status);
        public long Other => Counts.Where(kv => kv.Key is not (200 or 503)).Sum(kv => kv.Value);

        /// <summary>The latency (ms) at quantile <paramref name="q"/> of <paramref name="status"/>, from 5 %-wide buckets (the bucket's upper edge).</summary>
        public double Percentile(int status, double q)
        {
            var total = Histogram.Where(kv => kv.Key.Status == status).Sum(kv => kv.Value);
            if (total == 0) return double.NaN;
            var rank = Math.Max(1, (long)Math.Ceiling(q * total));
            long seen = 0;
            foreach (var ((s, bucket), n) in Histogram)
            {
                if (s != status) continue;
                seen += n;
                if (seen >= rank) return Math.Pow(1.05, bucket + 1) / 1000.0;
            }
            return double.NaN;
        }

        public static WrkResult Parse(string text, int seconds, string phase)
        {
            var counts = new Dictionary<int, long>();
            var histogram = new SortedDictionary<(int, int), long>();
            var errors = "0";
            foreach (var line in text.Split('\n'))
            {
                var f = line.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (f.Length == 4 && f[0] == "GA" && f[1] == "count") counts[int.Parse(f[2], CultureInfo.InvariantCulture)] = long.Parse(f[3], CultureInfo.InvariantCulture);
                else if (f.Length == 5 && f[0] == "GA" && f[1] == "hist")
                    histogram[(int.Parse(f[2], CultureInfo.InvariantCulture), int.Parse(f[3], CultureInfo.InvariantCulture))] = long.Parse(f[4], CultureInfo.InvariantCulture);
                else if (line.TrimStart().StartsWith("Socket errors:", StringComparison.Ordinal)) errors = line.Trim()["Socket errors:".Length..].Trim();
            }
            if (counts.Count == 0) throw new InvalidOperationException($"wrk ({phase}) reported no responses:\n{text}");
            return new WrkResult(seconds, counts, histogram, errors);
        }
    }

    /// <summary>
    /// What one phase used: the server's CPU time, how busy the server's and wrk's CPUs were (/proc/stat), and the
    /// server's thread pool (queued work items and threads, sampled every 10 ms) — where the time of a request went.
    /// </summary>
    private sealed class Usage
    {
        private readonly CpuSplit _cpus;
        private readonly TimeSpan _cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        private readonly Dictionary<int, (long Total, long Idle)> _ticks0 = CpuTicks();
        private readonly CancellationTokenSource _stop = new();
        private readonly Task<(double Queue, double Threads)> _pool;

        private Usage(CpuSplit cpus)
        {
            _cpus = cpus;
            _pool = Task.Run(async () =>
            {
                long queued = 0, threads = 0, n = 0;
                while (!_stop.IsCancellationRequested)
                {
                    queued += ThreadPool.PendingWorkItemCount;
                    threads += ThreadPool.ThreadCount;
                    n++;
                    try { await Task.Delay(10, _stop.Token); } catch (OperationCanceledException) { }
                }
                return (queued / (double)Math.Max(1, n), threads / (double)Math.Max(1, n));
            });
        }

        public static Usage Start(CpuSplit cpus) => new(cpus);

        /// <summary>The phase's summary line and the cores of CPU time the server used.</summary>
        public async Task<(string Line, double Cores)> StopAsync(int seconds)
        {
            var cores = (Process.GetCurrentProcess().TotalProcessorTime - _cpu0).TotalSeconds / seconds;
            var ticks = CpuTicks();
            _stop.Cancel();
            var (queued, threads) = await _pool;
            _stop.Dispose();
            string Busy(string list) => string.Join(" ", CpuSplit.Parse(list).Select(c =>
                ticks.TryGetValue(c, out var t1) && _ticks0.TryGetValue(c, out var t0) && t1.Total > t0.Total
                    ? (100.0 * (1 - (double)(t1.Idle - t0.Idle) / (t1.Total - t0.Total))).ToString("F0", CultureInfo.InvariantCulture) + " %"
                    : "?"));
            var wrk = _cpus.Client is { } client ? $"wrk's CPUs ({client}) busy {Busy(client)}; " : "";
            return (string.Create(CultureInfo.InvariantCulture,
                $"server: {cores:F2} cores of CPU time, its CPUs ({_cpus.Server}) busy {Busy(_cpus.Server)}; {wrk}thread pool: {queued:F1} items queued, {threads:F1} threads"), cores);
        }
    }

    /// <summary>Per CPU, the total and idle (idle + iowait) jiffies of /proc/stat.</summary>
    private static Dictionary<int, (long Total, long Idle)> CpuTicks()
    {
        var result = new Dictionary<int, (long, long)>();
        try
        {
            foreach (var line in File.ReadLines("/proc/stat"))
            {
                if (!line.StartsWith("cpu", StringComparison.Ordinal) || line.Length < 4 || !char.IsDigit(line[3])) continue;
                var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                var v = f.Skip(1).Take(8).Select(x => long.Parse(x, CultureInfo.InvariantCulture)).ToArray();
                result[int.Parse(f[0][3..], CultureInfo.InvariantCulture)] = (v.Sum(), v[3] + v[4]);
            }
        }
        catch (IOException) { }
        return result;
    }


    /// <summary>
    /// wrk's script: a think time before each request, random user ids in it; counts per status in every thread and, when
    /// timed (one connection per thread, so request and response alternate; the clock starts after the think time), a
    /// latency histogram per status in 5 % buckets from LuaJIT's FFI clock.
    /// done() prints "GA count STATUS N" and "GA hist STATUS BUCKET N" lines summed over the threads.
    /// </summary>
    /// <summary>The think time before each request (ms, exponential); only in the script of phases that think (wrk delays with a timer when it is defined).</summary>
    private const string ThinkFunction = """
        function delay()
          return math.floor(-think * math.log(1 - math.random()))
        end
        """;

    private const string LuaScript = """
        local ffi = require("ffi")
        ffi.cdef[[
          typedef struct { long tv_sec; long tv_nsec; } ga_timespec;
          int clock_gettime(int clk, ga_timespec *tp);
        ]]
        local ts = ffi.new("ga_timespec")
        local function now_us()
          ffi.C.clock_gettime(1, ts)
          return tonumber(ts.tv_sec) * 1e6 + tonumber(ts.tv_nsec) / 1e3
        end
        local log105 = math.log(1.05)

        local threads = {}
        local next_id = 0
        function setup(thread)
          next_id = next_id + 1
          thread:set("id", next_id)
          table.insert(threads, thread)
        end

        function init(args)
          users = tonumber(args[1])
          size = tonumber(args[2])
          timed = args[3] == "timed"
          think = tonumber(args[4])
          math.randomseed(id * 7919)
          counts = {}
          hist = {}
          t0 = 0
        end

        function request()
          local ids = {}
          for i = 1, size do ids[i] = math.random(0, users - 1) end
          t0 = now_us()
          return wrk.format("POST", nil, { ["Content-Type"] = "application/json" },
            '{"node_type":"user","ids":[' .. table.concat(ids, ",") .. ']}')
        end

        function response(status, headers, body)
          counts[status] = (counts[status] or 0) + 1
          if timed then
            local us = now_us() - t0
            if us < 1 then us = 1 end
            local key = status * 100000 + math.floor(math.log(us) / log105)
            hist[key] = (hist[key] or 0) + 1
          end
        end

        __THINK__
        function done(summary, latency, requests)
          local c, h = {}, {}
          for _, thread in ipairs(threads) do
            for k, v in pairs(thread:get("counts")) do c[k] = (c[k] or 0) + v end
            for k, v in pairs(thread:get("hist")) do h[k] = (h[k] or 0) + v end
          end
          for k, v in pairs(c) do io.write(string.format("GA count %d %d\n", k, v)) end
          for k, v in pairs(h) do io.write(string.format("GA hist %d %d %d\n", math.floor(k / 100000), k % 100000, v)) end
        end
        """;

    /// <summary>
    /// The server's garbage collections in one phase from the runtime's own events: how long the threads took to stop
    /// (suspension: every managed thread must reach a safe point, and on a saturated core a preempted thread needs the
    /// CPU to get there), how long each pause was from the stop request to the restart, what survived gen0, and how many
    /// collections were of gen1 or gen2 (they mark and copy more than a gen0 one).
    /// </summary>
    private sealed class GcPauses : System.Diagnostics.Tracing.EventListener
    {
        private readonly object _gate = new();
        private readonly List<double> _suspend = [], _pause = [];
        private readonly List<long> _promoted = [];
        private readonly List<long> _finalizable = [];
        private readonly int[] _generations = new int[3];
        private readonly SortedDictionary<string, int> _reasons = new(StringComparer.Ordinal);
        private DateTime _suspendBegin;

        /// <summary>GCStart's Reason values: the runtime's event documentation names 0–9, its gc_reason enum the rest.</summary>
        private static readonly string[] ReasonNames =
        [
            "small-object budget", "induced", "low memory", "empty", "large-object budget", "out of small-object space",
            "out of large-object space", "induced, not forced", "internal", "induced, low memory", "induced, compacting",
            "low memory (host)", "provisioning", "low memory (host, blocking)", "bgc tuning (soh)", "bgc tuning (loh)",
            "bgc stepping", "induced, aggressive",
        ];

        protected override void OnEventSourceCreated(System.Diagnostics.Tracing.EventSource source)
        {
            if (source.Name == "Microsoft-Windows-DotNETRuntime")
                EnableEvents(source, System.Diagnostics.Tracing.EventLevel.Informational, (System.Diagnostics.Tracing.EventKeywords)0x1);
        }

        protected override void OnEventWritten(System.Diagnostics.Tracing.EventWrittenEventArgs e)
        {
            lock (_gate)
            {
                switch (e.EventName)
                {
                    case "GCSuspendEEBegin_V1": _suspendBegin = e.TimeStamp; break;
                    case "GCStart_V2":
                        if (e.PayloadNames!.IndexOf("Depth") is var d and >= 0 && Convert.ToInt32(e.Payload![d], CultureInfo.InvariantCulture) is var depth and >= 0 and <= 2)
                        {
                            _generations[depth]++;
                            if (depth > 0 && e.PayloadNames.IndexOf("Reason") is var r and >= 0 && Convert.ToInt32(e.Payload![r], CultureInfo.InvariantCulture) is var reason)
                            {
                                var key = $"gen{depth} {(reason >= 0 && reason < ReasonNames.Length ? ReasonNames[reason] : $"reason {reason}")}";
                                _reasons[key] = _reasons.GetValueOrDefault(key) + 1;
                            }
                        }
                        break;
                    case "GCSuspendEEEnd_V1": if (_suspendBegin != default) _suspend.Add((e.TimeStamp - _suspendBegin).TotalMilliseconds); break;
                    case "GCRestartEEEnd_V1": if (_suspendBegin != default) _pause.Add((e.TimeStamp - _suspendBegin).TotalMilliseconds); _suspendBegin = default; break;
                    case "GCHeapStats_V2":
                        var names = e.PayloadNames!;
                        if (names.IndexOf("TotalPromotedSize0") is var i and >= 0) _promoted.Add(Convert.ToInt64(e.Payload![i], CultureInfo.InvariantCulture));
                        if (names.IndexOf("FinalizationPromotedCount") is var f and >= 0) _finalizable.Add(Convert.ToInt64(e.Payload![f], CultureInfo.InvariantCulture));
                        break;
                }
            }
        }

        public string Summary()
        {
            lock (_gate)
            {
                if (_pause.Count == 0) return "GC: no pauses seen";
                _pause.Sort();
                return string.Create(CultureInfo.InvariantCulture,
                    $"GC: {_pause.Count} pauses of collections gen0 {_generations[0]}, gen1 {_generations[1]}, gen2 {_generations[2]} (a background gen2 pauses twice{(_reasons.Count == 0 ? "" : "; gen1/gen2 triggered by " + string.Join(", ", _reasons.Select(kv => $"{kv.Key} {kv.Value}")))}), mean {_pause.Average():F2} ms (suspension {(_suspend.Count == 0 ? 0 : _suspend.Average()):F2} ms), " +
                    $"p90 {_pause[(int)(0.9 * (_pause.Count - 1))]:F2}, max {_pause[^1]:F2} ms; gen0 survivors {(_promoted.Count == 0 ? 0 : _promoted.Average()) / 1024:F0} KB per collection, " +
                    $"of them {(_finalizable.Count == 0 ? 0 : _finalizable.Average()):F0} objects kept only for their finalizers");
            }
        }
    }

    /// <summary>
    /// The runtime's GC AllocationTick events (one per ~100 KB allocated, naming the type that crossed the line),
    /// summed by type: where a request's allocations go, without a profiler.
    /// </summary>
    private sealed class AllocationSampler : System.Diagnostics.Tracing.EventListener
    {
        private readonly ConcurrentDictionary<string, long> _bytes = new();
        private volatile bool _on = true;

        protected override void OnEventSourceCreated(System.Diagnostics.Tracing.EventSource source)
        {
            // GC keyword (0x1) at Verbose level carries AllocationTick.
            if (source.Name == "Microsoft-Windows-DotNETRuntime")
                EnableEvents(source, System.Diagnostics.Tracing.EventLevel.Verbose, (System.Diagnostics.Tracing.EventKeywords)0x1);
        }

        protected override void OnEventWritten(System.Diagnostics.Tracing.EventWrittenEventArgs e)
        {
            if (!_on || e.EventName is null || !e.EventName.StartsWith("GCAllocationTick", StringComparison.Ordinal) || e.Payload is null) return;
            var names = e.PayloadNames!;
            var type = names.IndexOf("TypeName") is var t and >= 0 ? e.Payload[t] as string ?? "?" : "?";
            var amount = names.IndexOf("AllocationAmount64") is var a and >= 0 ? Convert.ToInt64(e.Payload[a], CultureInfo.InvariantCulture) : 100_000;
            _bytes.AddOrUpdate(type, amount, (_, v) => v + amount);
        }

        public List<(string Type, long Bytes)> Stop()
        {
            _on = false;
            Dispose();
            return _bytes.OrderByDescending(kv => kv.Value).Select(kv => (kv.Key, kv.Value)).ToList();
        }
    }
}
