// The checkpoint seam: the training layer owns the checkpoint format and plugs a loader in here.
using GraphActors.Models;
using GraphActors.Sampling;
using GraphActors.Training.Embeddings;
using TorchSharp;
using static TorchSharp.torch;

namespace GraphActors.Serving;

public enum ServingTask
{
    /// <summary>Output rows are class logits: answers carry probabilities and a label (or the raw rows as embeddings).</summary>
    NodeClassification,

    /// <summary>Output rows are embeddings: pairs are scored by a dot product (sigmoid for a probability).</summary>
    LinkPrediction,
}

/// <summary>What a loader knows about a model besides its weights.</summary>
public sealed record ServableModelInfo
{
    public ServingTask Task { get; init; } = ServingTask.NodeClassification;

    /// <summary>Fanouts per layer (DGL order: index 0 is the input layer); null or -1 entries mean full neighbourhoods.</summary>
    public IReadOnlyList<int>? Fanouts { get; init; }

    /// <summary>The version the checkpoint names (a manifest's epoch, say); the registry falls back to "1.0".</summary>
    public string? Version { get; init; }

    /// <summary>How the sampler treats edge directions; must match what the model was trained with (its relations).</summary>
    public GraphActors.Sampling.ReverseEdges ReverseEdges { get; init; } = GraphActors.Sampling.ReverseEdges.None;

    /// <summary>Divide each input feature row by its sum before the forward pass (training's feature_norm = row).</summary>
    public bool RowNormalizeFeatures { get; init; }

    /// <summary>Free-form facts shown by GET /models/{name} (epoch, metrics, sha256…).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = new Dictionary<string, string>();
}

/// <summary>
/// A loaded model that can predict: the network (in eval mode) plus what serving needs to drive it. Created and
/// disposed on a torch worker thread.
/// </summary>
public sealed class ServableModel : IDisposable
{
    public ServableModel(HeteroGnn network, ServableModelInfo info, SparseEmbeddings? embeddings = null)
    {
        Network = network;
        Info = info;
        Embeddings = embeddings;
        network.eval();
        if (info.Fanouts is { } f && f.Count != network.Config.NumLayers)
            throw new ArgumentException($"{f.Count} fanouts for a model of {network.Config.NumLayers} layers.");
    }

    public HeteroGnn Network { get; }
    public ModelConfig Config => Network.Config;
    public ServableModelInfo Info { get; }
    /// <summary>The learnable node embeddings the model was trained with (training.embeddings), or null.</summary>
    public SparseEmbeddings? Embeddings { get; }

    /// <summary>
    /// How many feature values per node of <paramref name="type"/> come from the graph store: the model's input width,
    /// less an embedding concatenated to them (none when the embedding replaces them).
    /// </summary>
    public int FeatureWidth(string type)
    {
        var input = Network.Config.InDims.TryGetValue(type, out var d) ? d : 0;
        return Embeddings is not null && Embeddings.Has(type) ? Embeddings.Spec(type).FeatureDim(input) : input;
    }

    /// <summary>
    /// The model's outputs per destination node type of the last block; call under no_grad inside a dispose scope.
    /// <paramref name="features"/> hold the store's feature rows (<see cref="FeatureWidth"/> wide); with embeddings, each
    /// embedded type's rows for <paramref name="batch"/>'s input nodes join them as in training.
    /// </summary>
    public Dictionary<string, Tensor> Forward(IReadOnlyList<GraphActors.Models.Block> blocks, Dictionary<string, Tensor> features, MiniBatch? batch = null)
    {
        if (Info.RowNormalizeFeatures)
        {
            foreach (var key in features.Keys.ToList())
            {
                var x = features[key];
                if (x.shape.Length == 2 && x.shape[1] > 0) features[key] = x / x.sum(1, keepdim: true).clamp_min(1e-12);
            }
        }
        if (Embeddings is not null)
        {
            if (batch is null) throw new ArgumentNullException(nameof(batch), "A model with embeddings needs the batch's input node ids.");
            for (var t = 0; t < batch.NodeTypes.Count; t++)
            {
                var type = batch.NodeTypes[t].Name;
                if (!Embeddings.Has(type)) continue;
                features[type] = Embeddings.Join(type, batch.InputNodes[t], features.GetValueOrDefault(type), requiresGrad: false).Input;
            }
        }
        return Network.forward(blocks, features);
    }

    public void Dispose()
    {
        Network.Dispose();
        Embeddings?.Dispose();
    }
}

/// <summary>
/// Loads a model and its config from a checkpoint location (a path or URL as given to POST /models?url=…). Called
/// on a torch worker thread, never on an HTTP thread. Throw <see cref="ModelLoadException"/> for a location that
/// cannot be loaded (it becomes a 400 naming the reason; never quote the content of a file that is not a model). A
/// loader that reads files resolves the url through a <see cref="ModelStore"/> first (403 outside it).
/// </summary>
public interface IModelLoader
{
    ServableModel Load(string checkpointUrl, CancellationToken cancellationToken);
}

public sealed class ModelLoadException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// A loader over models described in process: a location maps to a <see cref="ModelConfig"/>, a state-dict file
/// written by <see cref="ModelState.Save"/> (or none, for fresh weights) and the serving info. Tests and the
/// benchmark use it; the training layer's checkpoint loader replaces it.
/// </summary>
public sealed class InProcessModelLoader : IModelLoader
{
    private readonly Dictionary<string, (ModelConfig Config, string? StatePath, ServableModelInfo Info)> _models = new(StringComparer.Ordinal);

    public InProcessModelLoader Add(string url, ModelConfig config, string? statePath, ServableModelInfo? info = null)
    {
        lock (_models) _models[url] = (config, statePath, info ?? new ServableModelInfo());
        return this;
    }

    public ServableModel Load(string checkpointUrl, CancellationToken cancellationToken)
    {
        (ModelConfig Config, string? StatePath, ServableModelInfo Info) entry;
        lock (_models)
        {
            if (!_models.TryGetValue(checkpointUrl, out entry))
                throw new ModelLoadException($"No model at '{checkpointUrl}'.");
        }
        var network = ModelFactory.Create(entry.Config);
        try
        {
            if (entry.StatePath is not null) ModelState.Load(network, entry.StatePath);
            return new ServableModel(network, entry.Info);
        }
        catch (Exception e)
        {
            network.Dispose();
            throw e is ModelLoadException ? e : new ModelLoadException($"Cannot load '{checkpointUrl}': {e.Message}", e);
        }
    }
}
