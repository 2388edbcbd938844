// partitions.json: the schema, the partition book and per-partition counts of a partition store.
using System.Text.Json;
using System.Text.Json.Serialization;
using GraphActors.Contracts;
using GraphActors.Graph.Partitioning;

namespace GraphActors.Graph.Storage;

public sealed record ManifestNodeType(string Name, int Count, int FeatureDim, int LabelCount, bool MasksFromSource)
{
    /// <summary>Node weights, int and string attributes the store holds for the type (GraphLearn sources); null: none (a CGDF store, an older store).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public NodeColumns? Columns { get; init; }
}

public sealed record ManifestEdgeType(string Src, string Relation, string Dst, long Count)
{
    [JsonIgnore] public CanonicalEdgeType Type => new(Src, Relation, Dst);

    /// <summary>Edge ids, labels and attributes the store holds for the type (GraphLearn sources); null: none, and weights are 1 where the source had none.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public EdgeColumns? Columns { get; init; }
}

/// <summary>
/// Counts of one partition. <c>OutEdges</c>: edges whose source it owns (stored in its out-CSR; GraphLearn's "edges of
/// the partition"); <c>InEdges</c>: edges whose destination it owns (its in-CSR); <c>CutEdges</c>: its out-edges
/// whose destination another partition owns. Keys of edge maps are <see cref="CanonicalEdgeType.DirectoryName"/>.
/// </summary>
public sealed record ManifestPartition(
    int Id,
    IReadOnlyDictionary<string, int> Nodes,
    IReadOnlyDictionary<string, long> OutEdges,
    IReadOnlyDictionary<string, long> InEdges,
    IReadOnlyDictionary<string, long> CutEdges)
{
    /// <summary>
    /// The column files of the partition (node and edge columns), by path under <c>part-&lt;i&gt;/</c>, with their
    /// length and sha256; null when the store has none.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyDictionary<string, ManifestFile>? Files { get; init; }
}

public sealed record StoreManifest(
    int FormatVersion,
    string Method,
    int Parts,
    int Seed,
    IReadOnlyList<ManifestNodeType> NodeTypes,
    IReadOnlyList<ManifestEdgeType> EdgeTypes,
    IReadOnlyDictionary<string, int[]> Book,
    IReadOnlyList<ManifestPartition> Partitions,
    MaskSplit? DefaultSplit)
{
    public const string FileName = "partitions.json";
    /// <summary>Format 1: one generation of boundaries per type (<see cref="Book"/>).</summary>
    public const int CurrentVersion = 1;
    /// <summary>Format 2: a store brought up to date by <c>partition --update</c>, with <see cref="Generations"/>.</summary>
    public const int GenerationsVersion = 2;

    /// <summary>
    /// Per node type, the boundaries of each update's new ids after <see cref="Book"/>'s (N+1 each, absolute ids, each
    /// starting where the one before ended); empty for a store from one full partitioning.
    /// </summary>
    public IReadOnlyDictionary<string, int[][]> Generations { get; init; } = new Dictionary<string, int[][]>();

    /// <summary>The stores this one was brought up to date from, oldest first (absolute paths as written).</summary>
    public IReadOnlyList<string> UpdatedFrom { get; init; } = [];

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
    };

    public PartitionBook CreateBook() =>
        new(Parts, Book.ToDictionary(kv => new NodeType(kv.Key),
            kv => (IReadOnlyList<int[]>)[kv.Value, .. Generations.TryGetValue(kv.Key, out var later) ? later : []]));

    /// <summary>Writes the manifest atomically (a reader never sees half of it).</summary>
    public void Save(string path) => AtomicFile.WriteAllText(path, JsonSerializer.Serialize(this, Json));

    public static StoreManifest Load(string path)
    {
        if (!File.Exists(path)) throw new PartitionStoreException(path, "is missing: not a partition store (or an unfinished one).");
        StoreManifest? m;
        try
        {
            m = JsonSerializer.Deserialize<StoreManifest>(File.ReadAllText(path), Json);
        }
        catch (JsonException e)
        {
            throw new PartitionStoreException(path, $"is not valid JSON: {e.Message}", e);
        }
        if (m is null || m.NodeTypes is null || m.EdgeTypes is null || m.Book is null || m.Partitions is null)
            throw new PartitionStoreException(path, "lacks nodeTypes, edgeTypes, book or partitions.");
        if (m.FormatVersion is not (CurrentVersion or GenerationsVersion))
            throw new PartitionStoreException(path, $"has format version {m.FormatVersion}; this build reads {CurrentVersion} and {GenerationsVersion}.");
        m = m with { Generations = m.Generations ?? new Dictionary<string, int[][]>(), UpdatedFrom = m.UpdatedFrom ?? [] };
        if (m.FormatVersion == CurrentVersion && m.Generations.Count > 0)
            throw new PartitionStoreException(path, $"has generations but format version {CurrentVersion}; format {GenerationsVersion} is required.");
        if (m.Partitions.Count != m.Parts)
            throw new PartitionStoreException(path, $"says {m.Parts} parts but lists {m.Partitions.Count}.");
        foreach (var n in m.NodeTypes)
        {
            if (n.LabelCount < 0)
                throw new PartitionStoreException(path, $"node type '{n.Name}' has labelCount {n.LabelCount}: negative (an overflowed class count); re-run etl and partition.");
            if (n.Count < 0 || n.FeatureDim < 0)
                throw new PartitionStoreException(path, $"node type '{n.Name}' has count {n.Count} and featureDim {n.FeatureDim}; neither may be negative.");
        }
        return m;
    }
}
