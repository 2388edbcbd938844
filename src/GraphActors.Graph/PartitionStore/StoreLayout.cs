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

    // GraphLearn's other node columns (present when partitions.json gives the type columns).
    public const string NodeWeights = "weights.f32";
    public const string Ints = "ints.i64";
    public const string StringOffsets = "string_offsets.i64";
    public const string Strings = "strings.u8";

    // Per-edge columns, one set per direction in that direction's CSR order (out_… and in_…).
    public const string EdgeIds = "edge_ids.i64";
    public const string EdgeLabels = "labels.i32";
    public const string Floats = "floats.f32";

    /// <summary>The name of an edge column file in one direction: <c>out_ints.i64</c>, <c>in_strings.u8</c>…</summary>
    public static string EdgeColumn(bool incoming, string column) => (incoming ? "in_" : "out_") + column;

    /// <summary>A file's key in <c>partitions.json</c>'s per-partition file list: its path under the partition folder, '/'-separated.</summary>
    public static string FileKey(string partDir, string path) => Path.GetRelativePath(partDir, path).Replace('\\', '/');

    public static string Offsets(bool incoming) => incoming ? "in_offsets.i64" : "out_offsets.i64";
    public static string Neighbors(bool incoming) => incoming ? "in_neighbors.i32" : "out_neighbors.i32";
    public static string Weights(bool incoming) => incoming ? "in_weights.f32" : "out_weights.f32";
}
