// `graphactors bench train`: DESIGN's Cora training row, per-phase step times on a ~1M-node graph, and a leak check.
using System.CommandLine;
using System.Diagnostics;
using GraphActors.Cli.Commands;
using GraphActors.Contracts;
using GraphActors.Graph.Cgdf;
using GraphActors.Graph.Partitioning;
using GraphActors.Graph.Storage;
using GraphActors.Graph.Tables;
using GraphActors.Sampling;
using GraphActors.Training;

namespace GraphActors.Cli.Bench;

/// <summary>
/// The model is `../shared/bench/torch_sage.py`'s (no dropout on the input features), so the two run side by side.
/// (a) cora: 2-layer GraphSAGE (mean), hidden 256, fanouts [10, 10], batch 1024, random 60/20/20 split, 50 epochs,
/// torch 1 thread (--threads): ms per training epoch (sampling overlapped by the prefetcher; evaluation excluded) and
/// the final test accuracy (full-neighbourhood evaluation after the last epoch, no model selection), as DGL's figure.
/// (b) large: a planted-community graph (1M nodes, 10M edges merged both ways, --dim features, hash partitions) and each
/// model with hidden 256, fanouts [15, 10, 5] (DGL order: 5 at the seeds), batch 1024: per batch the time of sampling
/// (blocks + labels), feature gathering, tensors from arrays, forward, backward and optimizer step, for a capped
/// number of batches; seconds per epoch are projected from batches/s.
/// (c) memory: 100 Cora epochs as (a), resident set size from /proc/self/status every 10 epochs.
/// </summary>
public static class TrainBenchmark
{
    public static Command Create()
    {
        var which = new Option<string>("--case") { Description = "cora, large, memory or all", DefaultValueFactory = _ => "all" };
        var cora = new Option<string>("--cora") { Description = "LINQS Cora folder", DefaultValueFactory = _ => Path.Combine("..", "shared", "data", "cora") };
        var nodes = new Option<int>("--nodes") { Description = "Nodes of the large graph", DefaultValueFactory = _ => 1_000_000 };
        var edges = new Option<long>("--edges") { Description = "Edges of the large graph", DefaultValueFactory = _ => 10_000_000 };
        var batches = new Option<int>("--batches") { Description = "Timed batches per model on the large graph", DefaultValueFactory = _ => 6 };
        var models = new Option<string>("--models") { Description = "Models for the large graph, comma-separated", DefaultValueFactory = _ => "sage,gat,rgcn" };
        var dim = new Option<int>("--dim") { Description = "Feature width of the large graph (the seed's is 500)", DefaultValueFactory = _ => 32 };
        var threads = new Option<int?>("--threads") { Description = "Torch intra-op threads (default: 1 for cora, as DESIGN's row; one per core for large)" };
        var cmd = new Command("train", "Training throughput: the Cora row of DESIGN's targets, per-phase times on a 1M-node graph, RSS over 100 epochs");
        foreach (var o in new Option[] { which, cora, nodes, edges, batches, models, dim, threads }) cmd.Options.Add(o);
        cmd.SetAction(pr =>
        {
            var c = pr.GetValue(which)!;
            if (pr.GetValue(threads) is < 1) throw CliErrors.BadOption("--threads", $"must be at least 1, not {pr.GetValue(threads)}.");
            Console.WriteLine($".NET {Environment.Version}, {Environment.ProcessorCount} logical CPUs, {Environment.OSVersion}");
            if (c is "cora" or "all") Cora(pr.GetValue(cora)!, epochs: 50, rss: false, pr.GetValue(threads) ?? 1);
            if (c is "memory" or "all") Cora(pr.GetValue(cora)!, epochs: 100, rss: true, pr.GetValue(threads) ?? 1);
            if (c is "large" or "all") Large(pr.GetValue(nodes), pr.GetValue(edges), pr.GetValue(batches), pr.GetValue(models)!.Split(','), pr.GetValue(dim), pr.GetValue(threads) ?? Environment.ProcessorCount);
            return 0;
        });
        return cmd;
    }

    private static string Temp(string name) => Path.Combine(Path.GetTempPath(), $"ga-bench-train-{name}-{Guid.NewGuid():N}");

    private static void Cora(string coraDir, int epochs, bool rss, int threads)
    {
        var root = Temp("cora");
        try
        {
            LinqsImporter.Run(coraDir, "cora", Path.Combine(root, "tables"), "2024-01-01");
            HiveToCgdf.Run(new EtlOptions(Path.Combine(root, "tables"), "2024-01-01", Path.Combine(root, "cgdf")));
            GraphPartitioner.Run(new CgdfPartitionSource(Path.Combine(root, "cgdf")), new PartitionOptions(Path.Combine(root, "store"), 2, "hash"));
            using var store = new PartitionedGraphStore(PartitionStore.Open(Path.Combine(root, "store")));
            var config = new TrainingConfig
            {
                ModelType = "sage", Aggregator = "mean", HiddenChannels = 256, NumLayers = 2, Fanouts = [10, 10], BatchSize = 1024,
                LearningRate = 0.003, WeightDecay = 5e-4, Dropout = 0.5, InputDropout = 0, Task = "node_classification", Target = "paper",
                NodeSplit = "random", FeatureNorm = "row", ReverseEdges = "bidirected", Epochs = epochs, Seed = 0, Threads = threads,
            };
            using var trainer = Trainer.CreateAsync(store, config).GetAwaiter().GetResult();
            Console.WriteLine(rss
                ? $"\n(c) memory: Cora, {epochs} epochs as (a); RSS after epoch 0: {Rss()}"
                : $"\n(a) Cora: sage mean, hidden 256, fanouts [10, 10], batch 1024, random 60/20/20, {epochs} epochs, torch threads {threads}, no dropout on the input features (DGL's mini-batch example; the peer's model)");
            var times = new List<double>();
            for (var e = 0; e < epochs; e++)
            {
                var r = trainer.TrainEpochAsync().GetAwaiter().GetResult();
                times.Add(r.Seconds);
                if (rss && (e == 0 || (e + 1) % 10 == 0)) Console.WriteLine($"  epoch {e,3}: RSS {Rss()}, {Heap()}, loss {r.Loss:F4}");
            }
            var test = trainer.EvaluateAsync(SplitKind.Test).GetAwaiter().GetResult();
            var steady = times.Skip(1).DefaultIfEmpty(times[0]).ToArray();
            var tm = trainer.Timings;
            Console.WriteLine($"  step phases, ms per batch over all epochs: tensors {tm.Convert * 1000 / tm.Steps:F1}, forward {tm.Forward * 1000 / tm.Steps:F1}, backward {tm.Backward * 1000 / tm.Steps:F1}, optimizer {tm.Optimizer * 1000 / tm.Steps:F1}");
            Console.WriteLine($"  ms per epoch: mean {steady.Average() * 1000:F1} (epochs 1..{epochs - 1}), median {Median(steady) * 1000:F1}, first {times[0] * 1000:F1}; {trainer.BatchesPerEpoch} batches/epoch; final test {test}");
        }
        finally
        {
            try { Directory.Delete(root, recursive: true); } catch (IOException) { }
        }
    }

    private static void Large(int nodes, long edges, int timed, string[] models, int dim, int threads)
    {
        var dir = Temp("large");
        try
        {
            var clock = Stopwatch.StartNew();
            GraphPartitioner.Run(new PlantedCommunitySource(nodes, edges, featureDim: dim), new PartitionOptions(dir, 2, "hash"));
            Console.WriteLine($"\n(b) large: {nodes:N0} nodes, {edges:N0} stored edges (sampled both ways), {dim} features, 10 classes; partitioned (hash, 2) in {clock.Elapsed.TotalSeconds:F1} s");
            using var store = new PartitionedGraphStore(PartitionStore.Open(dir));
            NodeType v = store.Schema.NodeTypes[0].Type;
            Console.WriteLine($"  {"model",-5} {"s/batch",8} {"batches/s",9} {"s/epoch*",9} {"sample",7} {"gather",7} {"tensors",7} {"forward",7} {"backward",8} {"optim",7} {"edges/batch",12}");
            foreach (var model in models)
            {
                var config = new TrainingConfig
                {
                    ModelType = model, HiddenChannels = 256, NumLayers = 3, Fanouts = [15, 10, 5], BatchSize = 1024, Heads = 1, InputDropout = 0,
                    Task = "node_classification", Target = v.Name, ReverseEdges = "bidirected", Epochs = 1, Seed = 0, Threads = threads,
                };
                using var trainer = Trainer.CreateAsync(store, config).GetAwaiter().GetResult();
                var sampler = new BlockSampler(store, new BlockSamplerOptions(config.Fanouts) { ReverseEdges = config.ReverseEdgesKind, GatherFeatures = false });
                var train = store.GetSplitAsync(v, SplitKind.Train).GetAwaiter().GetResult();
                var order = EpochPlan.Shuffle(train, 1, 0);
                double sample = 0, gather = 0;
                long sampledEdges = 0;
                var total = Stopwatch.StartNew();
                for (var b = 0; b <= timed; b++)
                {
                    if (b == 1) { trainer.Timings.Reset(); sample = gather = 0; sampledEdges = 0; total.Restart(); } // batch 0 warms up
                    var t = Stopwatch.StartNew();
                    var seeds = EpochPlan.Batch(order, config.BatchSize, b).ToArray();
                    var blocks = sampler.SampleAsync(new Dictionary<NodeType, int[]> { [v] = seeds }, EpochPlan.BatchSeed(1, 0, b)).GetAwaiter().GetResult();
                    sample += t.Elapsed.TotalSeconds; t.Restart();
                    // Feature rows into pooled arrays, as the trainer's own loader does (FeaturePool).
                    var features = new float[]?[blocks.NodeTypes.Count];
                    for (var i = 0; i < features.Length; i++)
                    {
                        var ids = blocks.InputNodes[i];
                        var n = ids.Length * blocks.FeatureDims[i];
                        var f = System.Buffers.ArrayPool<float>.Shared.Rent(Math.Max(1, n));
                        store.GatherFeaturesAsync(blocks.NodeTypes[i], ids, f.AsMemory(0, n)).GetAwaiter().GetResult();
                        features[i] = f;
                    }
                    gather += t.Elapsed.TotalSeconds;
                    sampledEdges += blocks.EdgeCount;
                    var batch = new MiniBatch(blocks.Blocks, features, blocks.FeatureDims, blocks.Labels);
                    trainer.Step(batch);
                    batch.ReturnFeatures(System.Buffers.ArrayPool<float>.Shared);
                }
                var secs = total.Elapsed.TotalSeconds / timed;
                var tm = trainer.Timings;
                var perEpoch = EpochPlan.BatchCount(train.Length, config.BatchSize, false) * secs;
                Console.WriteLine($"  {model,-5} {secs,8:F2} {1 / secs,9:F2} {perEpoch,9:F0} {sample / timed,7:F3} {gather / timed,7:F3} {tm.Convert / timed,7:F3} {tm.Forward / timed,7:F3} {tm.Backward / timed,8:F3} {tm.Optimizer / timed,7:F3} {sampledEdges / timed,12:N0}");
            }
            Console.WriteLine($"  (seconds per batch, {timed} timed batches after 1 warm-up, sequential: no prefetch overlap; no dropout on the input features, as the peer; *s/epoch projected for the 60% train split; torch threads {TorchSharp.torch.get_num_threads()})");
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    private static double Median(double[] xs)
    {
        var s = xs.Order().ToArray();
        return s.Length == 0 ? 0 : s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }

    // Live TorchSharp tensors (created minus disposed, all threads) and the managed heap: a leak shows as a count that grows.
    private static string Heap()
    {
        var info = GC.GetGCMemoryInfo();
        var loh = info.GenerationInfo.Length > 3 ? info.GenerationInfo[3].SizeAfterBytes : 0;
        return $"live tensors {TorchSharp.torch.Tensor.TotalCount}, managed {GC.GetTotalMemory(false) >> 20} MB (LOH {loh >> 20} MB), " +
            $"GCs {GC.CollectionCount(0)}/{GC.CollectionCount(1)}/{GC.CollectionCount(2)}, allocated {GC.GetTotalAllocatedBytes() >> 20} MB";
    }

    private static string Rss()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) return line[6..].Trim();
        return "n/a";
    }
}
