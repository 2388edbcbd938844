// `graphactors bench blocks`: multi-layer mini-batches including block construction (dedup + relabel), per store.
using System.CommandLine;
using System.Diagnostics;
using GraphActors.Contracts;
using GraphActors.Graph;
using GraphActors.Graph.Partitioning;
using GraphActors.Graph.Storage;
using GraphActors.Sampling;

namespace GraphActors.Cli.Bench;

/// <summary>
/// DGL's NeighborSampler + to_block figure: <see cref="BlockSampler"/> over a uniform graph, batches of seeds from a
/// shuffled node order, random_without_replacement, one thread, both fanout orders, through the in-memory store and
/// through the partitioned local store (hash partitions written to a temp dir in-process). The time of a batch is the
/// whole <c>SampleAsync</c>: store calls (grouping by owner and scattering back for the partitioned store), per-hop
/// dedup and relabelling, and the block arrays. Sampled edges are the edges of the blocks.
/// </summary>
public static class BlocksBenchmark
{
    public static Command Create()
    {
        var nodes = new Option<int>("--nodes") { Description = "Nodes of the graph.", DefaultValueFactory = _ => 1_000_000 };
        var edges = new Option<long>("--edges") { Description = "Edges of the graph.", DefaultValueFactory = _ => 20_000_000 };
        var batch = new Option<int>("--batch") { Description = "Seeds per batch.", DefaultValueFactory = _ => 1024 };
        var batches = new Option<int>("--batches") { Description = "Timed batches per round.", DefaultValueFactory = _ => 50 };
        var rounds = new Option<int>("--rounds") { Description = "Timed rounds per case (median and best reported).", DefaultValueFactory = _ => 5 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed batches first.", DefaultValueFactory = _ => 10 };
        var parts = new Option<int>("--parts") { Description = "Hash partitions of the partitioned store (0 skips it).", DefaultValueFactory = _ => 4 };
        var seed = new Option<int>("--seed") { Description = "Seed of the graph and the sampler.", DefaultValueFactory = _ => 42 };
        var cmd = new Command("blocks", "Mini-batch sampling with block construction (DGL's NeighborSampler + to_block): edges/s and ms per batch.");
        foreach (var o in new Option[] { nodes, edges, batch, batches, rounds, warmup, parts, seed }) cmd.Options.Add(o);
        cmd.SetAction(pr =>
        {
            Run(pr.GetValue(nodes), pr.GetValue(edges), pr.GetValue(batch), pr.GetValue(batches), pr.GetValue(rounds),
                pr.GetValue(warmup), pr.GetValue(parts), pr.GetValue(seed));
            return 0;
        });
        return cmd;
    }

    private static void Run(int nodes, long edges, int batch, int batches, int rounds, int warmup, int parts, int seed)
    {
        Console.WriteLine($".NET {Environment.Version}, {Environment.ProcessorCount} logical CPUs, server GC {System.Runtime.GCSettings.IsServerGC}");
        var sw = Stopwatch.StartNew();
        var graph = SyntheticGraphs.Uniform(nodes, edges, seed);
        Console.WriteLine($"graph: {nodes:N0} nodes / {edges:N0} edges built in {sw.Elapsed.TotalSeconds:F1} s");
        var stores = new List<(string Name, IGraphStore Store)> { ("HeteroGraphStore", new HeteroGraphStore(graph)) };
        string? dir = null;
        if (parts > 0)
        {
            dir = Path.Combine(Path.GetTempPath(), $"ga-bench-blocks-{Guid.NewGuid():N}");
            sw.Restart();
            GraphPartitioner.Run(new HeteroGraphSource(graph), new PartitionOptions(dir, parts, HashPartitioner.MethodName));
            Console.WriteLine($"partitioned into {parts} (hash) in {sw.Elapsed.TotalSeconds:F1} s at {dir}");
            stores.Add(($"PartitionedGraphStore ({parts} hash)", new PartitionedGraphStore(PartitionStore.Open(dir))));
        }
        try
        {
            Console.WriteLine();
            Console.WriteLine($"random_without_replacement, 3 layers, batch {batch}, 1 thread, {warmup} warm-up batches, {rounds} rounds × {batches} batches, " +
                              $"dedup + relabel into blocks; load average {BenchLoad.Read()}");
            Console.WriteLine($"{"store",-32}{"fanouts (seeds outward)",-30}{"edges/batch",13}{"ms/batch (med)",16}{"edges/s (med)",16}{"edges/s (best)",16}");
            foreach (var (name, store) in stores)
            {
                foreach (var dglList in new[] { new[] { 5, 10, 15 }, new[] { 15, 10, 5 } })
                {
                    var results = new (double Edges, double Ms, double Rate)[rounds];
                    for (var r = 0; r < rounds; r++)
                        results[r] = Measure(store, dglList, nodes, batch, batches, r == 0 ? warmup : 0, (ulong)(seed + r)).GetAwaiter().GetResult();
                    Array.Sort(results, (a, b) => a.Rate.CompareTo(b.Rate));
                    var median = results[rounds / 2];
                    var outward = string.Join(" → ", dglList.Reverse());
                    var label = $"{outward} (DGL [{string.Join(",", dglList)}])";
                    Console.WriteLine($"{name,-32}{label,-30}{median.Edges,13:N0}{median.Ms,16:F1}{median.Rate / 1e6,14:F1} M{results[^1].Rate / 1e6,14:F1} M");
                }
            }
        }
        finally
        {
            foreach (var (_, s) in stores) (s as IDisposable)?.Dispose();
            if (dir is not null) Directory.Delete(dir, recursive: true);
        }
        GC.KeepAlive(graph);
    }

    private static async Task<(double, double, double)> Measure(IGraphStore store, int[] dglFanouts, int nodes, int batch, int batches, int warmup, ulong seed)
    {
        var order = EpochPlan.Shuffle(Enumerable.Range(0, nodes).ToArray(), seed, 0);
        var sampler = new BlockSampler(store, new BlockSamplerOptions(dglFanouts) { GatherFeatures = false, GatherLabels = false });
        var type = store.Schema.NodeTypes[0].Type;
        long sampled = 0;
        var cursor = 0;
        var sw = new Stopwatch();
        for (var b = 0; b < warmup + batches; b++)
        {
            if (b == warmup) { sampled = 0; sw.Restart(); }
            if (cursor + batch > nodes) cursor = 0;
            var seeds = new Dictionary<NodeType, int[]> { [type] = order.AsSpan(cursor, batch).ToArray() };
            cursor += batch;
            var mb = await sampler.SampleAsync(seeds, EpochPlan.BatchSeed(seed, 0, b));
            sampled += mb.EdgeCount;
        }
        sw.Stop();
        var seconds = sw.Elapsed.TotalSeconds;
        return ((double)sampled / batches, seconds * 1000 / batches, sampled / seconds);
    }

}
