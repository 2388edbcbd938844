// Serves what `graphactors train` writes: a checkpoint directory (manifest.json + model.bin) or a run directory.
using System.Globalization;
using GraphActors.Models;
using GraphActors.Sampling;
using GraphActors.Training;
using GraphActors.Training.Embeddings;

namespace GraphActors.Serving;

/// <summary>
/// Loads a training checkpoint: reads the manifest (a checkpoint directory, its manifest.json, or a run directory — its
/// best/ first), checks model.bin's sha256, rebuilds the <see cref="TaskModel"/> from the manifest's
/// <see cref="TrainingConfig"/> against the serving store's schema (the same constructor the trainer uses), loads the
/// state dict into it, and serves its encoder. Task, fanouts, reverse-edge mode and feature normalisation come from
/// the config, so serving samples what training sampled. With a <see cref="ModelStore"/> (every server has one), a url
/// is resolved inside the store first and one outside it is refused before anything is opened. A file that is not a
/// checkpoint is refused with what was expected, never with what it holds.
/// </summary>
public sealed class TrainingCheckpointLoader : IModelLoader
{
    private readonly IGraphStore _store;
    private readonly ModelStore? _modelStore;
    private readonly bool _preferBest;

    /// <summary>A loader serving checkpoints from <paramref name="modelStore"/> only.</summary>
    public TrainingCheckpointLoader(IGraphStore store, ModelStore modelStore, bool preferBest = true) : this(store, preferBest) =>
        _modelStore = modelStore;

    /// <summary>A loader that takes a url as the path it names, wherever it is: for tools and tests that load their own checkpoints, not for a server.</summary>
    public TrainingCheckpointLoader(IGraphStore store, bool preferBest = true)
    {
        _store = store;
        _preferBest = preferBest;
    }

    public ServableModel Load(string checkpointUrl, CancellationToken cancellationToken)
    {
        var path = _modelStore is not null ? _modelStore.Resolve(checkpointUrl)
            : checkpointUrl.StartsWith("file://", StringComparison.OrdinalIgnoreCase) ? new Uri(checkpointUrl).LocalPath : checkpointUrl;
        // Checkpoints.Read would parse any file it is given as a manifest (and its errors quote the file): only a
        // folder or a file named manifest.json is read at all.
        if (File.Exists(path) && !string.Equals(Path.GetFileName(path), Checkpoints.ManifestName, StringComparison.Ordinal))
            throw new ModelLoadException($"'{checkpointUrl}' is not a GraphActors checkpoint: expected a checkpoint folder " +
                $"({Checkpoints.ManifestName} + model.bin), its {Checkpoints.ManifestName}, or a run folder with best/ or last/.");
        CheckpointManifest manifest;
        string directory;
        try
        {
            (manifest, directory) = Checkpoints.Read(path, _preferBest);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException)
        {
            throw new ModelLoadException($"Cannot read a checkpoint at '{checkpointUrl}': {e.Message}", e);
        }
        catch (Exception e) when (e is InvalidDataException or System.Text.Json.JsonException)
        {
            throw new ModelLoadException($"'{checkpointUrl}' is not a GraphActors checkpoint: its {Checkpoints.ManifestName} is not a valid " +
                "GraphActors checkpoint manifest (JSON with format = \"graphactors-checkpoint\").", e);
        }
        var config = manifest.Config;
        var modelFile = Path.Combine(directory, manifest.ModelFile);
        // The manifest names its weights file: it too must be in the store.
        if (_modelStore is not null) modelFile = _modelStore.Resolve(modelFile);
        if (!File.Exists(modelFile)) throw new ModelLoadException($"Checkpoint '{checkpointUrl}': {modelFile} is missing.");
        var sha = Checkpoints.Sha256(modelFile);
        if (!string.Equals(sha, manifest.ModelSha256, StringComparison.OrdinalIgnoreCase))
            throw new ModelLoadException($"Checkpoint '{checkpointUrl}': {modelFile} has sha256 {sha}, the manifest says {manifest.ModelSha256} (damaged or overwritten).");
        cancellationToken.ThrowIfCancellationRequested();

        ServingTask task;
        int outDim;
        string mlpType;
        ReverseEdges reverse;
        try
        {
            config.Validate();
            if (config.NumLayers == 0) throw new ModelLoadException($"Checkpoint '{checkpointUrl}' is the features-only MLP baseline (num_layers = 0); only GNN checkpoints can be served.");
            reverse = config.ReverseEdgesKind;
            switch (config.TaskKind)
            {
                case TrainingTask.NodeClassification:
                    var target = config.TargetNodeType(_store.Schema);
                    task = ServingTask.NodeClassification;
                    outDim = _store.Schema.Node(target).LabelCount;
                    mlpType = target.Name;
                    break;
                case TrainingTask.LinkPrediction:
                    if (config.ScorerKind != ScorerKind.Dot)
                        throw new ModelLoadException($"Checkpoint '{checkpointUrl}' scores links with an MLP scorer; serving scores pairs by dot product only.");
                    var edge = config.TargetEdgeType(_store.Schema);
                    task = ServingTask.LinkPrediction;
                    outDim = config.HiddenChannels;
                    mlpType = edge.Src.Name;
                    break;
                default:
                    throw new ModelLoadException($"Checkpoint '{checkpointUrl}' is a {config.Task} model; serving handles node classification and link prediction.");
            }
        }
        catch (Exception e) when (e is not ModelLoadException)
        {
            throw new ModelLoadException($"Checkpoint '{checkpointUrl}' does not fit the serving graph store's schema: {e.Message}", e);
        }

        var relations = new BlockSampler(_store, new BlockSamplerOptions(Enumerable.Repeat(-1, config.NumLayers).ToArray()) { ReverseEdges = reverse }).Relations;
        TaskModel model;
        try
        {
            // Its initial draws (overwritten by the checkpoint below) must not fall between a training step's seeded draws
            // in this process: they run under the gate that holds torch's generator (see AutogradGate.Seeded).
            lock (AutogradGate.Lock) model = new TaskModel(config, _store.Schema, relations, outDim, mlpType);
        }
        catch (Exception e)
        {
            throw new ModelLoadException($"Checkpoint '{checkpointUrl}' does not fit the serving graph store's schema: {e.Message}", e);
        }
        try
        {
            ModelState.Load(model, modelFile);
        }
        catch (Exception e)
        {
            model.Dispose();
            throw new ModelLoadException($"Checkpoint '{checkpointUrl}': its state does not fit the model rebuilt against the serving store's schema " +
                $"(different node types, feature widths, relations or label count?): {e.Message}", e);
        }
        SparseEmbeddings? embeddings;
        try
        {
            embeddings = Checkpoints.LoadEmbeddings(manifest, directory, _store.Schema);
        }
        catch (Exception e) when (e is InvalidDataException or FileNotFoundException or IOException or TrainingConfigException)
        {
            model.Dispose();
            throw new ModelLoadException($"Checkpoint '{checkpointUrl}': its embedding tables cannot be read: {e.Message}", e);
        }
        var metadata = new Dictionary<string, string>
        {
            ["epoch"] = manifest.Epoch.ToString(CultureInfo.InvariantCulture),
            ["best_epoch"] = manifest.BestEpoch.ToString(CultureInfo.InvariantCulture),
            ["model_sha256"] = manifest.ModelSha256,
            ["checkpoint"] = directory,
            ["model_type"] = config.ModelType,
            ["task"] = config.Task,
            ["target"] = config.Target ?? mlpType,
            ["reverse_edges"] = config.ReverseEdges,
            ["feature_norm"] = config.FeatureNorm,
        };
        if (embeddings is not null) metadata["embeddings"] = string.Join(", ", embeddings.Types.Select(t => $"{t} ({embeddings.Spec(t).Dim}, {embeddings.Spec(t).Mode})"));
        if (manifest.BestValMetric is { } best) metadata["best_val_metric"] = best.ToString("R", CultureInfo.InvariantCulture);
        foreach (var (k, v) in manifest.Metrics) metadata["metric." + k] = v.ToString("R", CultureInfo.InvariantCulture);
        var info = new ServableModelInfo
        {
            Task = task,
            Fanouts = config.EvalFanouts ?? config.Fanouts,
            Version = manifest.Epoch.ToString(CultureInfo.InvariantCulture),
            ReverseEdges = reverse,
            RowNormalizeFeatures = config.FeatureNormKind == FeatureNormalization.Row,
            Metadata = metadata,
        };
        // The task head (a link scorer) has no parameters for the dot scorer; serving keeps the encoder only.
        return new ServableModel(model.Gnn!, info, embeddings);
    }
}
