// metadata.json of a CGDF directory: what a reader needs before it opens a Parquet file.
using System.Text.Json;
using System.Text.Json.Serialization;
using GraphActors.Contracts;

namespace GraphActors.Graph.Cgdf;

/// <summary>
/// One node type. Its nodes have dense ids 0..Count-1 (in the order the ETL met them) and global ids
/// <c>GlobalIdStart + dense</c>, so its global ids are <c>[GlobalIdStart, GlobalIdEnd)</c>.
/// </summary>
public sealed record CgdfNodeType(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("count")] long Count,
    [property: JsonPropertyName("global_id_start")] long GlobalIdStart,
    [property: JsonPropertyName("global_id_end")] long GlobalIdEnd,
    [property: JsonPropertyName("feature_dim")] int FeatureDim,
    [property: JsonPropertyName("label_count")] int LabelCount,
    [property: JsonPropertyName("has_masks")] bool HasMasks)
{
    /// <summary>
    /// The name of each class (index = label), from the source's optional <c>labels_&lt;type&gt;</c> table; absent when
    /// the source gave none. When present it has <see cref="LabelCount"/> entries.
    /// </summary>
    [JsonPropertyName("label_names")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? LabelNames { get; init; }
}

/// <summary>One canonical edge type; <see cref="Canonical"/> is <c>[src_type, edge_type, dst_type]</c>.</summary>
public sealed record CgdfEdgeType(
    [property: JsonPropertyName("canonical")] IReadOnlyList<string> Canonical,
    [property: JsonPropertyName("count")] long Count)
{
    public static CgdfEdgeType Of(CanonicalEdgeType type, long count) => new([type.Src.Name, type.Relation, type.Dst.Name], count);

    [JsonIgnore]
    public CanonicalEdgeType Type => new(Canonical[0], Canonical[1], Canonical[2]);
}

public sealed record CgdfMetadata(
    [property: JsonPropertyName("format")] string Format,
    [property: JsonPropertyName("format_version")] int FormatVersion,
    [property: JsonPropertyName("graph_name")] string GraphName,
    [property: JsonPropertyName("source_dt")] string? SourceDt,
    [property: JsonPropertyName("node_types")] IReadOnlyList<CgdfNodeType> NodeTypes,
    [property: JsonPropertyName("edge_types")] IReadOnlyList<CgdfEdgeType> EdgeTypes)
{
    public const string FormatName = "cgdf";
    public const int CurrentVersion = 1;
    public const string FileName = "metadata.json";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    [JsonIgnore]
    public long TotalNodes => NodeTypes.Sum(n => n.Count);

    public CgdfNodeType Node(string type) =>
        NodeTypes.FirstOrDefault(n => n.Name == type)
        ?? throw new KeyNotFoundException($"CGDF has no node type '{type}'. Known: {string.Join(", ", NodeTypes.Select(n => n.Name))}.");

    public CgdfEdgeType Edge(CanonicalEdgeType type) =>
        EdgeTypes.FirstOrDefault(e => e.Type == type)
        ?? throw new KeyNotFoundException($"CGDF has no edge type {type}. Known: {string.Join(", ", EdgeTypes.Select(e => e.Type))}.");

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static CgdfMetadata Load(string cgdfDirectory)
    {
        var path = Path.Combine(cgdfDirectory, FileName);
        if (!Directory.Exists(cgdfDirectory)) throw new GraphInputException(cgdfDirectory, 0, null, "no such CGDF directory.");
        if (!File.Exists(path)) throw new GraphInputException(path, 0, null, $"missing: '{cgdfDirectory}' is not a (finished) CGDF directory.");
        CgdfMetadata? meta;
        try
        {
            meta = JsonSerializer.Deserialize<CgdfMetadata>(File.ReadAllText(path), Json);
        }
        catch (JsonException e)
        {
            throw new GraphInputException(path, (e.LineNumber ?? -1) + 1, e.Path is null or "$" ? null : e.Path, $"not valid metadata JSON (truncated or hand-edited?): {e.Message}", e);
        }
        if (meta is null) throw new GraphInputException(path, 0, null, "empty metadata.");
        if (meta.Format != FormatName || meta.FormatVersion != CurrentVersion)
            throw new GraphInputException(path, 0, "format_version", $"expected {FormatName} version {CurrentVersion}, found {meta.Format} version {meta.FormatVersion}.");
        if (meta.NodeTypes is null || meta.EdgeTypes is null)
            throw new GraphInputException(path, 0, meta.NodeTypes is null ? "node_types" : "edge_types", "missing.");
        foreach (var n in meta.NodeTypes)
        {
            if (n.Count < 0 || n.GlobalIdEnd - n.GlobalIdStart != n.Count)
                throw new GraphInputException(path, 0, $"node_types[{n.Name}].count", $"{n.Count} disagrees with global ids [{n.GlobalIdStart}, {n.GlobalIdEnd}).");
            if (n.FeatureDim < 0)
                throw new GraphInputException(path, 0, $"node_types[{n.Name}].feature_dim", $"{n.FeatureDim} is negative.");
            if (n.LabelCount < 0)
                throw new GraphInputException(path, 0, $"node_types[{n.Name}].label_count", $"{n.LabelCount} is negative (an overflowed class count?).");
        }
        foreach (var e in meta.EdgeTypes)
            if (e.Canonical is not { Count: 3 } || e.Count < 0)
                throw new GraphInputException(path, 0, "edge_types", $"an entry needs canonical [src, edge, dst] and a count ≥ 0.");
        return meta;
    }
}
