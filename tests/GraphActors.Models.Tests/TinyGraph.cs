using static TorchSharp.torch;

namespace GraphActors.Models.Tests;

/// <summary>
/// A two-layer block set over users (3 features) and items (no features, 10 of them). Every
/// relation has a destination with two or more in-edges, or GAT's attention vectors would get no gradient.
/// </summary>
internal static class TinyGraph
{
    public static readonly RelationKey Clicks = new("user", "clicks", "item");
    public static readonly RelationKey ClickedBy = new("item", "clicked_by", "user");
    public static readonly RelationKey Follows = new("user", "follows", "user");

    public static ModelConfig Config(ModelType type) => new()
    {
        ModelType = type,
        InDims = new Dictionary<string, int> { ["user"] = 3, ["item"] = 0 },
        NumNodes = new Dictionary<string, long> { ["item"] = 10 },
        Relations = [Clicks, ClickedBy, Follows],
        HiddenChannels = 8,
        EmbeddingDim = 4,
        NumLayers = 2,
        OutDim = 5,
        Dropout = 0,
        Heads = 2,
        NumBases = 2,
        Activation = Activation.Elu,
    };

    public static List<Block> Blocks() =>
    [
        Block.Create(
            new Dictionary<string, long> { ["user"] = 5, ["item"] = 4 },
            new Dictionary<string, long> { ["user"] = 3, ["item"] = 2 },
            new Dictionary<RelationKey, RelationEdges>
            {
                [Clicks] = new([0, 1, 3, 4, 2], [0, 0, 1, 1, 1]),
                [ClickedBy] = new([0, 1, 2, 3, 3], [0, 1, 2, 2, 0]),
                [Follows] = new([3, 4, 1, 0], [0, 1, 2, 0], [1f, 0.5f, 2f, 1.5f]),
            },
            srcNodeIds: new Dictionary<string, long[]> { ["item"] = [7, 2, 9, 0] }),
        Block.Create(
            new Dictionary<string, long> { ["user"] = 3, ["item"] = 2 },
            new Dictionary<string, long> { ["user"] = 2, ["item"] = 1 },
            new Dictionary<RelationKey, RelationEdges>
            {
                [Clicks] = new([0, 1, 2], [0, 0, 0]),
                [ClickedBy] = new([0, 1, 1], [0, 1, 0]),
                [Follows] = new([2, 1], [0, 0]),
            }),
    ];

    public static Dictionary<string, Tensor> Features()
    {
        manual_seed(7);
        return new Dictionary<string, Tensor> { ["user"] = randn(5, 3) };
    }
}
