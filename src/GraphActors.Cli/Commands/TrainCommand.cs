// graphactors train / eval: a training job from a HOCON file over a partition store, in this process (local mode).
using System.CommandLine;
using System.Globalization;
using GraphActors.Cluster.Trainers;
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
        var initFrom = new Option<string?>("--init-from")
        {
            Description = "A new job starting from an earlier job's model (its checkpoint, manifest.json or run directory; best/ first): e.g. yesterday's model on a store brought up to date with partition --update. Epochs and optimizer start anew",
        };
        foreach (var o in new Option[] { config, store, resume, initFrom }) cmd.Options.Add(o);
        cmd.SetAction(pr => CliRun.Guarded(() =>
        {
            TrainingFile file;
            try
            {
                file = TrainingHocon.Load(pr.GetValue(config)!);
            }
            catch (ArgumentException e) when (e is not TrainingConfigException)
            {
                // TrainingHocon names the file and key of bad HOCON; it is the user's file, so bad input.
                throw new GraphActors.Graph.BadInputException(e.Message, e);
            }
            var (cfg, storePath) = (file.Config, file.StorePath);
            storePath = pr.GetValue(store) ?? storePath ?? throw CliErrors.BadOption("--store", "no store: pass --store or set training.store_path.");
            if (pr.GetValue(resume) is not null && (pr.GetValue(initFrom) ?? cfg.InitFrom) is not null)
                throw CliErrors.BadOption("--init-from", "and --resume exclude each other: --resume continues a job, --init-from starts a new one from an earlier model.");
            Train(cfg, storePath, pr.GetValue(resume), Console.Out, pr.GetValue(initFrom) ?? cfg.InitFrom);
        }));
        return cmd;
    }

    /// <summary>Runs the job and prints progress; returns the result (quickstart uses it too).</summary>
    public static TrainingResult Train(TrainingConfig config, string storePath, string? resume, TextWriter output, string? initFrom = null)
    {
        var opened = PartitionStore.Open(storePath);
        var lineage = opened.Lineage;
        using var store = new PartitionedGraphStore(opened);
        Trainer started;
        if (resume is not null)
        {
            started = Trainer.ResumeAsync(store, resume, c => c with { Epochs = config.Epochs, CheckpointDir = config.CheckpointDir ?? c.CheckpointDir }).GetAwaiter().GetResult();
            output.WriteLine($"resumed from {resume} after epoch {started.CompletedEpochs - 1}");
        }
        else if (initFrom is not null)
        {
            var (warm, rows) = Trainer.WarmStartAsync(store, config, initFrom, lineage).GetAwaiter().GetResult();
            started = warm;
            output.WriteLine($"started from the model of {initFrom}" +
                string.Concat(rows.Select(kv => $"; {kv.Value:N0} of {store.Schema.Node(new GraphActors.Contracts.NodeType(kv.Key)).Count:N0} '{kv.Key}' embedding rows from it")));
        }
        else started = Trainer.CreateAsync(store, config).GetAwaiter().GetResult();
        started.StoreLineage = lineage;
        using var trainer = started;
        var m = trainer.MetricName;
        output.WriteLine($"{"epoch",5} {"loss",9} {"train " + m,14} {"val " + m,12} {"seconds",8} {"batches/s",10}");
        var result = trainer.RunAsync(r => output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{r.Epoch,5} {r.Loss,9:F4} {r.TrainMetric,14:F4} {(r.ValMetric is { } v ? v.ToString("F4", CultureInfo.InvariantCulture) : "-"),12} {r.Seconds,8:F2} {r.BatchesPerSecond,10:F1}"))).GetAwaiter().GetResult();
        output.WriteLine($"best epoch {result.BestEpoch}{(result.StoppedEarly ? " (stopped early)" : "")}; val {result.BestValidation}; test {result.Test}");
        if (trainer.Config.CheckpointDir is { } dir)
            output.WriteLine($"checkpoints {Path.Combine(dir, "best")} and {Path.Combine(dir, "last")}; {Path.Combine(dir, MetricsLog.FileName)}; {Path.Combine(dir, "curve.svg")} and curve.png");
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
        split.AcceptOnlyFromAmong("train", "val", "test");
        var cmd = new Command("eval", "Score a checkpoint on a split of a partition store");
        foreach (var o in new Option[] { checkpoint, store, split }) cmd.Options.Add(o);
        cmd.SetAction(pr => CliRun.Guarded(() =>
        {
            var kind = pr.GetValue(split) switch
            {
                "train" => SplitKind.Train, "val" => SplitKind.Val, "test" => SplitKind.Test,
                var s => throw CliErrors.BadOption("--split", $"must be train, val or test, not '{s}'."),
            };
            var storePath = pr.GetValue(store) ?? throw CliErrors.BadOption("--store", "is required: the manifest records the job, not where its store lives.");
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
