// `graphactors bench sampling`: neighbour sampling throughput and graph build memory on synthetic uniform graphs.
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using GraphActors.Graph;
using GraphActors.Sampling;

namespace GraphActors.Cli.Bench;

/// <summary>
/// Builds a uniform graph and samples 3 hops without replacement from batches of seeds on one thread, in both fanout
/// orders (the heavier "15 → 10 → 5 from the seeds outward", and DGL's NeighborSampler([15, 10, 5]) order which puts
/// 5 at the seeds). Hops walk in-edges, as DGL does. Hop h + 1 samples from every neighbour drawn at hop h, repeats
/// included (no dedup), so the figure is the raw kernel rate, comparable to DGL's sample_neighbors-only figure. Rows
/// draw from per-node streams (<see cref="KernelRandom.PerNode"/>), as the graph stores sample, one seed per hop.
/// </summary>
public static class SamplingBenchmark
{
    public static Command Create()
    {
        var nodes = new Option<int>("--nodes") { Description = "Nodes of the sampling graph.", DefaultValueFactory = _ => 1_000_000 };
        var edges = new Option<long>("--edges") { Description = "Edges of the sampling graph.", DefaultValueFactory = _ => 20_000_000 };
        var memoryEdges = new Option<long>("--memory-edges")
            { Description = "Edges of the separate peak-memory build (0 skips it).", DefaultValueFactory = _ => 10_000_000 };
        var batch = new Option<int>("--batch") { Description = "Seeds per batch.", DefaultValueFactory = _ => 1024 };
        var batches = new Option<int>("--batches") { Description = "Timed batches per round.", DefaultValueFactory = _ => 100 };
        var rounds = new Option<int>("--rounds") { Description = "Timed rounds per fanout order (median and best are reported).", DefaultValueFactory = _ => 5 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed batches first.", DefaultValueFactory = _ => 20 };
        var seed = new Option<int>("--seed") { Description = "Seed of the graph and the sampler.", DefaultValueFactory = _ => 42 };

        var cmd = new Command("sampling", "Neighbour sampling throughput (sampled edges/s) and graph build peak memory.");
        foreach (var o in new Option[] { nodes, edges, memoryEdges, batch, batches, rounds, warmup, seed }) cmd.Options.Add(o);
        cmd.SetAction(pr =>
        {
            Run(pr.GetValue(nodes), pr.GetValue(edges), pr.GetValue(memoryEdges), pr.GetValue(batch),
                pr.GetValue(batches), pr.GetValue(rounds), pr.GetValue(warmup), pr.GetValue(seed));
            return 0;
        });
        return cmd;
    }

    private static void Run(int nodes, long edges, long memoryEdges, int batch, int batches, int rounds, int warmup, int seed)
    {
        Console.WriteLine($".NET {Environment.Version}, {Environment.ProcessorCount} logical CPUs, server GC {System.Runtime.GCSettings.IsServerGC}");
        if (memoryEdges > 0)
        {
            // Measured first and on its own: VmHWM only ever rises, so the bigger graph must come after.
            var (seconds, peak, bytes) = Build(nodes, memoryEdges, seed, out _);
            Console.WriteLine($"memory graph: {nodes:N0} nodes / {memoryEdges:N0} edges built in {seconds:F2} s; " +
                              $"graph {Mb(bytes)} MB; peak RSS (VmHWM) {Mb(peak)} MB");
            GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            ResetPeak();
        }

        var (buildSeconds, buildPeak, graphBytes) = Build(nodes, edges, seed, out var graph);
        Console.WriteLine($"sampling graph: {nodes:N0} nodes / {edges:N0} edges built in {buildSeconds:F2} s; " +
                          $"graph {Mb(graphBytes)} MB; peak RSS (VmHWM) {Mb(buildPeak)} MB");

        var csr = graph.Edges("edge").In;
        Console.WriteLine();
        Console.WriteLine($"random_without_replacement, 3 hops, batch {batch}, 1 thread, {warmup} warm-up batches, " +
                          $"{rounds} rounds × {batches} timed batches, no dedup; load average {BenchLoad.Read()}");
        Console.WriteLine($"{"fanouts (seeds outward)",-26}{"edges/batch",13}{"ms/batch (median)",19}{"edges/s (median)",18}{"edges/s (best)",16}");
        foreach (var fanouts in new[] { new[] { 15, 10, 5 }, new[] { 5, 10, 15 } })
        {
            var results = new (double EdgesPerBatch, double MsPerBatch, double Rate)[rounds];
            for (var r = 0; r < rounds; r++) results[r] = Measure(csr, fanouts, batch, batches, r == 0 ? warmup : 0, (ulong)(seed + r));
            Array.Sort(results, (a, b) => a.Rate.CompareTo(b.Rate));
            var median = results[rounds / 2];
            var label = string.Join(" → ", fanouts) + (fanouts[0] == 5 ? " (DGL order)" : "");
            Console.WriteLine($"{label,-26}{median.EdgesPerBatch,13:N0}{median.MsPerBatch,19:F2}{median.Rate / 1e6,16:F1} M{results[^1].Rate / 1e6,14:F1} M");
        }
        Console.WriteLine($"peak RSS (VmHWM) at the end: {Mb(PeakBytes())} MB");
        GC.KeepAlive(graph);
    }

    private static (double EdgesPerBatch, double MsPerBatch, double EdgesPerSecond) Measure(
        Csr csr, int[] fanouts, int batch, int batches, int warmup, ulong seed)
    {
        var n = csr.RowCount;
        var order = new int[n];
        for (var i = 0; i < n; i++) order[i] = i;
        var rng = new Xoshiro256(seed);
        for (var i = n - 1; i > 0; i--)
        {
            var j = rng.NextInt(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        var buffers = new[] { new SampleBuffer(), new SampleBuffer(), new SampleBuffer() };
        long sampled = 0;
        var cursor = 0;
        var sw = new Stopwatch();
        for (var b = 0; b < warmup + batches; b++)
        {
            if (b == warmup)
            {
                sampled = 0;
                sw.Restart();
            }
            if (cursor + batch > n) cursor = 0;
            ReadOnlySpan<int> frontier = order.AsSpan(cursor, batch);
            cursor += batch;
            for (var h = 0; h < fanouts.Length; h++)
            {
                var random = KernelRandom.PerNode(rng.NextUInt64());
                NeighborSampler.SampleWithoutReplacement(csr, frontier, fanouts[h], ref random, buffers[h]);
                sampled += buffers[h].Count;
                frontier = buffers[h].Neighbors; // the next hop reads the buffer in place: no copy, no dedup
            }
        }
        sw.Stop();
        var seconds = sw.Elapsed.TotalSeconds;
        return ((double)sampled / batches, seconds * 1000 / batches, sampled / seconds);
    }

    private static (double Seconds, long PeakBytes, long GraphBytes) Build(int nodes, long edges, int seed, out HeteroGraph graph)
    {
        var sw = Stopwatch.StartNew();
        graph = SyntheticGraphs.Uniform(nodes, edges, seed);
        sw.Stop();
        return (sw.Elapsed.TotalSeconds, PeakBytes(), graph.MemoryBytes);
    }

    private static long PeakBytes()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (!line.StartsWith("VmHWM:", StringComparison.Ordinal)) continue;
            var kb = line["VmHWM:".Length..].Trim().Split(' ')[0];
            return long.Parse(kb, CultureInfo.InvariantCulture) * 1024;
        }
        return -1;
    }

    // Writing 5 to clear_refs resets VmHWM to the current RSS (Linux ≥ 4.0); elsewhere the peak just keeps rising.
    private static void ResetPeak()
    {
        try { File.WriteAllText("/proc/self/clear_refs", "5"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { Console.WriteLine($"(could not reset VmHWM: {e.Message})"); }
    }


    private static string Mb(long bytes) => (bytes / (1024.0 * 1024)).ToString("N0", CultureInfo.InvariantCulture);
}
