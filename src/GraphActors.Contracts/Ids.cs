// Identifiers shared by every layer: node types, canonical edge types, partitions.
namespace GraphActors.Contracts;

/// <summary>A node type name such as <c>user</c> or <c>item</c>.</summary>
public readonly record struct NodeType
{
    public NodeType(string name)
    {
        if (string.IsNullOrWhiteSpace(name))
            throw new ArgumentException("A node type needs a non-empty name.", nameof(name));
        Name = name;
    }

    public string Name { get; }

    public override string ToString() => Name;

    public static implicit operator NodeType(string name) => new(name);
}

/// <summary>
/// An edge type with its endpoint types, DGL's canonical <c>(src_type, edge_type, dst_type)</c>.
/// GraphLearn writes the same triple as <c>(src_type, dst_type, edge_type)</c>; see <see cref="FromGraphLearn"/>.
/// </summary>
public readonly record struct CanonicalEdgeType(NodeType Src, string Relation, NodeType Dst)
{
    /// <summary>The suffix GraphLearn gives the reverse type of an undirected edge between different node types.</summary>
    public const string ReverseSuffix = "_reverse";

    public static CanonicalEdgeType FromGraphLearn((string SrcType, string DstType, string EdgeType) t) =>
        new(t.SrcType, t.EdgeType, t.DstType);

    /// <summary>The CGDF and partition-store folder name, <c>&lt;src&gt;_&lt;edge&gt;_&lt;dst&gt;</c>.</summary>
    public string DirectoryName => $"{Src.Name}_{Relation}_{Dst.Name}";

    /// <summary>The type GraphLearn adds for an undirected edge between different node types.</summary>
    public CanonicalEdgeType Reverse() => new(Dst, Relation + ReverseSuffix, Src);

    public override string ToString() => $"({Src.Name}, {Relation}, {Dst.Name})";
}

/// <summary>A partition number, 0-based; also the shard id of its PartitionActor.</summary>
public readonly record struct PartitionId(int Value)
{
    public override string ToString() => Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
