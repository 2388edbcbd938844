// The trainable whole of a job: the encoder (a HeteroGnn, or a features-only MLP baseline) and the task's head.
using GraphActors.Contracts;
using GraphActors.Models;
using GraphActors.Sampling;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using ModelBlock = GraphActors.Models.Block;

namespace GraphActors.Training;

/// <summary>
/// One module so that the state dict, the flat parameter vector and the optimizer cover everything trained. With
/// <c>num_layers = 0</c> the encoder is an MLP on the target type's own features (the baseline a GNN must beat).
/// </summary>
public sealed class TaskModel : nn.Module
{
    private readonly HeteroGnn? gnn;
    private readonly Sequential? mlp;
    private readonly nn.Module<Tensor, Tensor, Tensor>? scorer;
    private readonly string? mlpType;

    public TaskModel(TrainingConfig config, GraphStoreSchema schema, IReadOnlyList<CanonicalEdgeType> relations, int outDim, string? mlpType = null)
        : base(nameof(TaskModel))
    {
        Config = config;
        if (config.NumLayers == 0)
        {
            this.mlpType = mlpType ?? throw new ArgumentException("The MLP baseline needs its node type.");
            var inDim = schema.Node(mlpType).FeatureDim;
            mlp = nn.Sequential(
                nn.Dropout(config.Dropout), nn.Linear(inDim, config.HiddenChannels), nn.ReLU(),
                nn.Dropout(config.Dropout), nn.Linear(config.HiddenChannels, outDim));
            register_module("mlp", mlp);
        }
        else
        {
            ModelConfig = new ModelConfig
            {
                ModelType = config.ModelKind,
                InDims = schema.NodeTypes.ToDictionary(n => n.Type.Name,
                    n => config.Embeddings.TryGetValue(n.Type.Name, out var e) ? e.InputDim(n.Type.Name, n.FeatureDim) : n.FeatureDim),
                Relations = relations.Select(BatchTensors.Key).ToList(),
                HiddenChannels = config.HiddenChannels,
                NumLayers = config.NumLayers,
                OutDim = outDim,
                Dropout = config.Dropout,
                InputDropout = config.InputDropout,
                AttentionDropout = config.AttentionDropout,
                SelfLoops = config.SelfLoops,
                Aggregator = config.AggregatorKind,
                Activation = config.ActivationKind,
                Heads = config.Heads,
            };
            gnn = ModelFactory.Create(ModelConfig);
            register_module("gnn", gnn);
        }
        if (config.TaskKind == TrainingTask.LinkPrediction)
        {
            scorer = config.ScorerKind == ScorerKind.Mlp ? new MlpScorer(outDim, config.HiddenChannels) : new DotProductScorer();
            register_module("scorer", scorer);
        }
    }

    public TrainingConfig Config { get; }
    public ModelConfig? ModelConfig { get; }
    public HeteroGnn? Gnn => gnn;

    /// <summary>Outputs per destination type of the last block (for the MLP: the target type's seeds only).</summary>
    public Dictionary<string, Tensor> Encode(IReadOnlyList<ModelBlock> blocks, Dictionary<string, Tensor> features)
    {
        if (gnn is not null) return gnn.forward(blocks, features);
        var seeds = blocks[^1].NumDstNodes[mlpType!];
        using var x = features[mlpType!].narrow(0, 0, seeds);
        return new Dictionary<string, Tensor> { [mlpType!] = mlp!.forward(x) };
    }

    public Tensor Score(Tensor hU, Tensor hV) => (scorer ?? throw new InvalidOperationException("Only link prediction has a scorer.")).forward(hU, hV);
}
