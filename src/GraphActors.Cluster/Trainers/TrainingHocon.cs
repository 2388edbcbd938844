// A HOCON `training { … }` block ⇄ local-mode TrainingConfig ⇄ the cluster's job config; errors name the source and key.
using Akka.Configuration;
using GraphActors.Training;
using GraphActors.Training.Embeddings;
using Job = GraphActors.Contracts.Protocols.TrainingProtocol.TrainingConfig;

namespace GraphActors.Cluster.Trainers;

/// <summary>A training file read: the local-mode config, its store, the cluster's averaging period K and the file's text.</summary>
public sealed record TrainingFile(TrainingConfig Config, string? StorePath, int AveragingPeriod, string Hocon);

/// <summary>
/// One reading of the <c>training</c> block for local mode (<c>graphactors train</c>), the cluster
/// (<c>graphactors ctl train start</c>) and the trainer actors (which rebuild the local-mode config from the job's text,
/// so a cluster job trains exactly the model local mode trains).
/// </summary>
public static class TrainingHocon
{
    /// <summary>Reads <paramref name="path"/>; relative store and checkpoint paths are made absolute against the working directory.</summary>
    public static TrainingFile Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such file.");
        var file = Parse(File.ReadAllText(path), path);
        var config = file.Config.CheckpointDir is null ? file.Config : file.Config with { CheckpointDir = Path.GetFullPath(file.Config.CheckpointDir) };
        if (config.InitFrom is not null) config = config with { InitFrom = Path.GetFullPath(config.InitFrom) };
        return file with { Config = config, StorePath = file.StorePath is null ? null : Path.GetFullPath(file.StorePath) };
    }

    /// <summary>Parses HOCON text (a file's whole text, or just the block); <paramref name="source"/> names it in errors.</summary>
    public static TrainingFile Parse(string text, string source)
    {
        Config root;
        try { root = ConfigurationFactory.ParseString(text); }
        catch (Exception e) { throw new ArgumentException($"{source}: not valid HOCON: {e.Message}"); }
        var t = root.HasPath("training") ? root.GetConfig("training") : root;
        if (t is not null)
            foreach (var (key, _) in t.Root.GetObject().Items)
                if (!Keys.Contains(key))
                    throw new ArgumentException(!root.HasPath("training") && t.Root.GetObject().Items.Keys.All(k => !Keys.Contains(k))
                        ? $"{source}: no training {{ … }} block (found {string.Join(", ", t.Root.GetObject().Items.Keys)})."
                        : $"{source}: training.{key}: not a training setting (a misspelt key would otherwise leave its default in place silently). " +
                        $"Settings: {string.Join(", ", Keys.Order(StringComparer.Ordinal))}.");
        var d = new TrainingConfig();
        string Where(string key) => $"{source}: training.{key}";
        T Get<T>(string key, T fallback, Func<string, T> read) => Setting(t, key, fallback, read, $"{source}: training");
        int I(string k, int f) => Get(k, f, x => t!.GetInt(x));
        double D(string k, double f) => Get(k, f, x => t!.GetDouble(x));
        string S(string k, string f) => Get(k, f, x => t!.GetString(x));
        string? SN(string k, string? f) => Get(k, f, x => t!.GetString(x));
        IReadOnlyList<int> L(string k, IReadOnlyList<int> f) => Get(k, f, x => t!.GetIntList(x).ToArray());
        var config = new TrainingConfig
        {
            ModelType = S("model_type", d.ModelType),
            HiddenChannels = I("hidden_channels", d.HiddenChannels),
            NumLayers = I("num_layers", d.NumLayers),
            BatchSize = I("batch_size", d.BatchSize),
            LearningRate = D("learning_rate", d.LearningRate),
            Fanouts = L("fanouts", d.Fanouts),
            EvalFanouts = t is not null && t.HasPath("eval_fanouts") ? L("eval_fanouts", []) : null,
            WeightDecay = D("weight_decay", d.WeightDecay),
            Dropout = D("dropout", d.Dropout),
            InputDropout = t is not null && t.HasPath("input_dropout") ? D("input_dropout", 0) : d.InputDropout,
            AttentionDropout = t is not null && t.HasPath("attention_dropout") ? D("attention_dropout", 0) : d.AttentionDropout,
            SelfLoops = Get("self_loops", d.SelfLoops, x => t!.GetBoolean(x)),
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
            InitFrom = SN("init_from", d.InitFrom),
            ReverseEdges = S("reverse_edges", d.ReverseEdges),
            FeatureNorm = S("feature_norm", d.FeatureNorm),
            NodeSplit = S("node_split", d.NodeSplit),
            SplitFractions = Get("split_fractions", d.SplitFractions, x => t!.GetDoubleList(x).ToArray()),
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
            Embeddings = t is not null && t.HasPath("embeddings") ? ReadEmbeddings(t.GetConfig("embeddings"), Where("embeddings")) : d.Embeddings,
        };
        try { config.Validate(); }
        catch (TrainingConfigException e) { throw new ArgumentException($"{Where(e.Key)}: {e.Reason}"); }
        var k = I("averaging_period", 1);
        if (k < 1) throw new ArgumentException($"{Where("averaging_period")}: {k} must be at least 1 (1 averages after every step).");
        return new TrainingFile(config, SN("store_path", null), k, text);
    }

    /// <summary>Every key of a <c>training</c> block (docs/CONFIGURATION.md).</summary>
    private static readonly HashSet<string> Keys =
    [
        "model_type", "hidden_channels", "num_layers", "batch_size", "learning_rate", "fanouts", "eval_fanouts", "weight_decay", "dropout",
        "input_dropout", "attention_dropout", "self_loops", "aggregator", "heads", "activation", "task", "target", "epochs", "seed",
        "eval_every", "patience", "checkpoint_dir", "reverse_edges", "feature_norm", "node_split", "split_fractions", "negatives",
        "negative_strategy", "exclusion", "val_fraction", "test_fraction", "scorer", "eval_negatives", "readout", "threads", "prefetch",
        "embeddings", "averaging_period", "store_path", "init_from",
    ];

    // A setting of a block, or its fallback when absent; a value that does not read is refused as "<where>.<key>: why".
    private static T Setting<T>(Config? block, string key, T fallback, Func<string, T> read, string where)
    {
        if (block is null || !block.HasPath(key)) return fallback;
        try { return read(key); }
        catch (Exception e) { throw new ArgumentException($"{where}.{key}: {e.Message}"); }
    }

    // embeddings { <node type> { dim = 64, mode = replace|concat|add, optimizer = sparse_adam|sparse_adagrad, learning_rate = 0.01, … } }
    private static readonly HashSet<string> EmbeddingKeys = ["dim", "mode", "optimizer", "learning_rate", "lr", "eps", "beta1", "beta2", "init_range"];

    private static Dictionary<string, EmbeddingSpec> ReadEmbeddings(Config block, string where)
    {
        var result = new Dictionary<string, EmbeddingSpec>(StringComparer.Ordinal);
        var d = new EmbeddingSpec();
        foreach (var (type, _) in block.Root.GetObject().Items)
        {
            var e = block.GetConfig(type) ?? throw new ArgumentException($"{where}.{type}: expected a block {{ dim = …, mode = … }}.");
            foreach (var (key, _) in e.Root.GetObject().Items)
                if (!EmbeddingKeys.Contains(key))
                    throw new ArgumentException($"{where}.{type}.{key}: not a setting of an embedding ({string.Join(", ", EmbeddingKeys.Where(k => k != "lr"))}).");
            T Get<T>(string key, T fallback, Func<string, T> read) => Setting(e, key, fallback, read, $"{where}.{type}");
            var spec = new EmbeddingSpec
            {
                Dim = Get("dim", d.Dim, k => e.GetInt(k)),
                Mode = Get("mode", d.Mode, k => e.GetString(k)),
                Optimizer = Get("optimizer", d.Optimizer, k => e.GetString(k)),
                LearningRate = Get("learning_rate", Get("lr", d.LearningRate, k => e.GetDouble(k)), k => e.GetDouble(k)),
                Eps = e.HasPath("eps") ? Get<double?>("eps", null, k => e.GetDouble(k)) : null,
                Beta1 = Get("beta1", d.Beta1, k => e.GetDouble(k)),
                Beta2 = Get("beta2", d.Beta2, k => e.GetDouble(k)),
                InitRange = Get("init_range", d.InitRange, k => e.GetDouble(k)),
            };
            if (spec.Problem() is { } problem) throw new ArgumentException($"{where}.{type}.{problem.Key}: {problem.Reason}");
            result[type] = spec;
        }
        return result;
    }

    /// <summary>A job's training.patience (0 when its text sets none), read without the rest of the block.</summary>
    public static int PatienceOf(Job job)
    {
        if (string.IsNullOrWhiteSpace(job.TrainingHocon)) return 0;
        var root = ConfigurationFactory.ParseString(job.TrainingHocon);
        var t = root.HasPath("training") ? root.GetConfig("training") : root;
        return t is not null && t.HasPath("patience") ? t.GetInt("patience") : 0;
    }

    /// <summary>The metric a job's best epoch is chosen by.</summary>
    public static string EvalMetric(TrainingConfig c) => c.TaskKind == TrainingTask.LinkPrediction ? "val_auc" : "val_accuracy";

    /// <summary>The cluster job of a training file: the fields the coordinator plans with, plus the file's text for the trainers.</summary>
    public static Job ToJob(TrainingFile file, string storePath, string checkpointDir)
    {
        var c = file.Config;
        if (c.Embeddings.Count > 0 && file.AveragingPeriod != 1)
            throw new ArgumentException($"training.embeddings ({string.Join(", ", c.Embeddings.Keys.Order(StringComparer.Ordinal))}) with averaging_period = {file.AveragingPeriod}: " +
                "the partitions owning the rows apply every global step's gradients once, so the trainers average gradients every step (averaging_period = 1).");
        if (c.InitFrom is not null)
        {
            try { Checkpoints.Read(c.InitFrom, preferBest: true); }
            catch (Exception e) when (e is IOException or InvalidDataException or System.Text.Json.JsonException)
            {
                throw new ArgumentException($"training.init_from: {e.Message}", e);
            }
        }
        var metric = EvalMetric(c);
        var hocon = file.Hocon;
        if (c.InitFrom is not null)
        {
            // The trainers read the job's text, not this file's directory: the checkpoint goes to them as an absolute path,
            // after the file's own setting (a later HOCON value wins), in the form the text has (a training block or bare keys).
            var key = ConfigurationFactory.ParseString(hocon).HasPath("training") ? "training.init_from" : "init_from";
            hocon += $"\n{key} = {System.Text.Json.JsonSerializer.Serialize(Path.GetFullPath(c.InitFrom))}\n";
        }
        return new Job(c.ModelType, c.Task, c.Target ?? "", c.HiddenChannels, c.NumLayers, c.BatchSize, (float)c.LearningRate,
            c.Fanouts.ToArray(), c.Epochs, (ulong)c.Seed, file.AveragingPeriod, c.EvalEvery, metric, checkpointDir, storePath, hocon);
    }

    /// <summary>
    /// The local-mode config a trainer builds its replica from: the job's HOCON text, then the job's own fields on top
    /// (they are what the coordinator plans with). Checkpoints are the coordinator's business, so none is set here;
    /// training.patience stays: the coordinator ends the job by it, and the trainers know that epoch is the last.
    /// </summary>
    public static TrainingConfig FromJob(Job job, string jobId)
    {
        var file = Parse(job.TrainingHocon, $"job '{jobId}'");
        var c = file.Config with
        {
            ModelType = job.ModelType,
            Task = job.Task,
            Target = string.IsNullOrEmpty(job.Target) ? file.Config.Target : job.Target,
            HiddenChannels = job.Hidden,
            NumLayers = job.Layers,
            BatchSize = job.BatchSize,
            LearningRate = job.LearningRate,
            Fanouts = job.Fanouts,
            Epochs = job.Epochs,
            Seed = (int)job.Seed,
            EvalEvery = Math.Max(1, job.EvalEvery),
            CheckpointDir = null,
        };
        try { return c.Validate(); }
        catch (TrainingConfigException e) { throw new ArgumentException($"job '{jobId}': training.{e.Key}: {e.Reason}"); }
    }
}
