// File names inside a partition store (one place, shared by writer and loader).
using GraphActors.Contracts;

namespace GraphActors.Graph.Storage;

public static class StoreLayout
{
    public static string PartitionDir(string root, int part) => Path.Combine(root, $"part-{part}");
    public static string NodeDir(string partDir, NodeType type) => Path.Combine(partDir, "nodes", type.Name);
    public static string EdgeDir(string partDir, CanonicalEdgeType type) => Path.Combine(partDir, "edges", type.DirectoryName);

    public const string Features = "features.f32";
    public const string Labels = "labels.i32";
    public const string TrainMask = "train_mask.u8";
    public const string ValMask = "val_mask.u8";
    public const string TestMask = "test_mask.u8";
    public const string BusinessIds = "business_ids.i64";
    public const string LookupKeys = "business_sorted.i64";
    public const string LookupIds = "business_sorted_ids.i32";

    public static string Offsets(bool incoming) => incoming ? "in_offsets.i64" : "out_offsets.i64";
    public static string Neighbors(bool incoming) => incoming ? "in_neighbors.i32" : "out_neighbors.i32";
    public static string Weights(bool incoming) => incoming ? "in_weights.f32" : "out_weights.f32";
}
