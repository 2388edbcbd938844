// graphactors train / eval: a training job from a HOCON file over a partition store, in this process (local mode).
using System.CommandLine;
using System.Globalization;
using Akka.Configuration;
using GraphActors.Graph.Storage;
using GraphActors.Sampling;
using GraphActors.Training;

namespace GraphActors.Cli.Commands;

public static class TrainCommand
{
    public static Command Create()
    {
        var config = new Option<string>("--config") { Description = "HOCON file with a `training { … }` block (see hocon/training.hocon)", Required = true };
        var store = new Option<string?>("--store") { Description = "Partition store directory (default: the file's store_path)" };
        var resume = new Option<string?>("--resume") { Description = "Checkpoint directory, its manifest.json, or a run directory to continue from" };
        var cmd = new Command("train", "Train a GNN on a partition store in this process, printing a row per epoch");
        foreach (var o in new Option[] { config, store, resume }) cmd.Options.Add(o);
        cmd.SetAction(pr => CliRun.Guarded(() =>
        {
            var (cfg, storePath) = TrainingHocon.Load(pr.GetValue(config)!);
            storePath = pr.GetValue(store) ?? storePath ?? throw new ArgumentException("No store: pass --store or set training.store_path.");
            Train(cfg, storePath, pr.GetValue(resume), Console.Out);
        }));
        return cmd;
    }

    /// <summary>Runs the job and prints progress; returns the result (quickstart uses it too).</summary>
    public static TrainingResult Train(TrainingConfig config, string storePath, string? resume, TextWriter output)
    {
        using var store = new PartitionedGraphStore(PartitionStore.Open(storePath));
        using var trainer = resume is null
            ? Trainer.CreateAsync(store, config).GetAwaiter().GetResult()
            : Trainer.ResumeAsync(store, resume, c => c with { Epochs = config.Epochs, CheckpointDir = config.CheckpointDir ?? c.CheckpointDir }).GetAwaiter().GetResult();
        if (resume is not null) output.WriteLine($"resumed from {resume} after epoch {trainer.CompletedEpochs - 1}");
        var m = trainer.MetricName;
        output.WriteLine($"{"epoch",5} {"loss",9} {"train " + m,14} {"val " + m,12} {"seconds",8} {"batches/s",10}");
        var result = trainer.RunAsync(r => output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{r.Epoch,5} {r.Loss,9:F4} {r.TrainMetric,14:F4} {(r.ValMetric is { } v ? v.ToString("F4", CultureInfo.InvariantCulture) : "-"),12} {r.Seconds,8:F2} {r.BatchesPerSecond,10:F1}"))).GetAwaiter().GetResult();
        output.WriteLine($"best epoch {result.BestEpoch}{(result.StoppedEarly ? " (stopped early)" : "")}; val {result.BestValidation}; test {result.Test}");
        if (trainer.Config.CheckpointDir is { } dir)
            output.WriteLine($"checkpoints {Path.Combine(dir, "best")} and {Path.Combine(dir, "last")}; {Path.Combine(dir, MetricsLog.FileName)}; {Path.Combine(dir, "curve.svg")}");
        return result;
    }
}

public static class EvalCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "Checkpoint directory, manifest.json, or run directory (uses best/, else last/)", Required = true };
        var store = new Option<string?>("--store") { Description = "Partition store directory the job was trained on" };
        var split = new Option<string>("--split") { Description = "train, val or test", DefaultValueFactory = _ => "test" };
        var cmd = new Command("eval", "Score a checkpoint on a split of a partition store");
        foreach (var o in new Option[] { checkpoint, store, split }) cmd.Options.Add(o);
        cmd.SetAction(pr => CliRun.Guarded(() =>
        {
            var kind = pr.GetValue(split) switch
            {
                "train" => SplitKind.Train, "val" => SplitKind.Val, "test" => SplitKind.Test,
                var s => throw new ArgumentException($"--split must be train, val or test, not '{s}'."),
            };
            var storePath = pr.GetValue(store) ?? throw new ArgumentException("--store is required: the manifest records the job, not where its store lives.");
            var r = Evaluate(pr.GetValue(checkpoint)!, storePath, kind);
            Console.WriteLine($"{kind.ToString().ToLowerInvariant()}: {r}");
        }));
        return cmd;
    }

    public static EvaluationResult Evaluate(string checkpoint, string storePath, SplitKind split)
    {
        using var store = new PartitionedGraphStore(PartitionStore.Open(storePath));
        using var trainer = Trainer.ResumeAsync(store, checkpoint, c => c with { CheckpointDir = null }, preferBest: true).GetAwaiter().GetResult();
        return trainer.EvaluateAsync(split).GetAwaiter().GetResult();
    }
}

/// <summary>Maps a HOCON file's <c>training</c> block to a <see cref="TrainingConfig"/>; errors name the file and key.</summary>
public static class TrainingHocon
{
    public static (TrainingConfig Config, string? StorePath) Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such file.");
        Config root;
        try { root = ConfigurationFactory.ParseString(File.ReadAllText(path)); }
        catch (Exception e) { throw new ArgumentException($"{path}: not valid HOCON: {e.Message}"); }
        var t = root.HasPath("training") ? root.GetConfig("training") : root;
        var d = new TrainingConfig();
        string Where(string key) => $"{path}: training.{key}";
        T Get<T>(string key, T fallback, Func<string, T> read)
        {
            if (!t.HasPath(key)) return fallback;
            try { return read(key); }
            catch (Exception e) { throw new ArgumentException($"{Where(key)}: {e.Message}"); }
        }
        int I(string k, int f) => Get(k, f, x => t.GetInt(x));
        double D(string k, double f) => Get(k, f, x => t.GetDouble(x));
        string S(string k, string f) => Get(k, f, x => t.GetString(x));
        string? SN(string k, string? f) => Get(k, f, x => t.GetString(x));
        IReadOnlyList<int> L(string k, IReadOnlyList<int> f) => Get(k, f, x => t.GetIntList(x).ToArray());
        var config = new TrainingConfig
        {
            ModelType = S("model_type", d.ModelType),
            HiddenChannels = I("hidden_channels", d.HiddenChannels),
            NumLayers = I("num_layers", d.NumLayers),
            BatchSize = I("batch_size", d.BatchSize),
            LearningRate = D("learning_rate", d.LearningRate),
            Fanouts = L("fanouts", d.Fanouts),
            EvalFanouts = t.HasPath("eval_fanouts") ? L("eval_fanouts", []) : null,
            WeightDecay = D("weight_decay", d.WeightDecay),
            Dropout = D("dropout", d.Dropout),
            Aggregator = S("aggregator", d.Aggregator),
            Heads = I("heads", d.Heads),
            Activation = S("activation", d.Activation),
            Task = S("task", d.Task),
            Target = SN("target", d.Target),
            Epochs = I("epochs", d.Epochs),
            Seed = I("seed", d.Seed),
            EvalEvery = I("eval_every", d.EvalEvery),
            Patience = I("patience", d.Patience),
            CheckpointDir = SN("checkpoint_dir", d.CheckpointDir),
            ReverseEdges = S("reverse_edges", d.ReverseEdges),
            FeatureNorm = S("feature_norm", d.FeatureNorm),
            NodeSplit = S("node_split", d.NodeSplit),
            SplitFractions = Get("split_fractions", d.SplitFractions, x => t.GetDoubleList(x).ToArray()),
            Negatives = I("negatives", d.Negatives),
            NegativeStrategy = S("negative_strategy", d.NegativeStrategy),
            Exclusion = S("exclusion", d.Exclusion),
            ValFraction = D("val_fraction", d.ValFraction),
            TestFraction = D("test_fraction", d.TestFraction),
            Scorer = S("scorer", d.Scorer),
            EvalNegatives = I("eval_negatives", d.EvalNegatives),
            Readout = S("readout", d.Readout),
            Threads = I("threads", d.Threads),
            Prefetch = I("prefetch", d.Prefetch),
        };
        try { config.Validate(); }
        catch (TrainingConfigException e) { throw new ArgumentException($"{Where(e.Key)}: {e.Reason}"); }
        var store = SN("store_path", null);
        // Relative paths are relative to the working directory, as on the command line.
        if (store is not null) store = Path.GetFullPath(store);
        if (config.CheckpointDir is not null) config = config with { CheckpointDir = Path.GetFullPath(config.CheckpointDir) };
        return (config, store);
    }
}
