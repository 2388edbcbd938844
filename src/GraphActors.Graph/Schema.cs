// The shape of a heterogeneous graph: node types, canonical edge types, their attributes.
using GraphActors.Contracts;

namespace GraphActors.Graph;

/// <summary>GraphLearn's attribute kinds: int64, float32 and string.</summary>
public enum AttributeKind { Int, Float, String }

/// <summary>
/// The ordered attribute kinds of a node or edge type. Values are stored grouped by kind
/// (all ints, all floats, all strings), as GraphLearn hands them back (int_attrs, float_attrs, string_attrs).
/// </summary>
public sealed class AttributeSchema : IEquatable<AttributeSchema>
{
    public static readonly AttributeSchema Empty = new([]);

    public AttributeSchema(IReadOnlyList<AttributeKind> kinds)
    {
        Kinds = kinds.ToArray();
        foreach (var k in Kinds)
        {
            switch (k)
            {
                case AttributeKind.Int: IntCount++; break;
                case AttributeKind.Float: FloatCount++; break;
                case AttributeKind.String: StringCount++; break;
                default: throw new ArgumentOutOfRangeException(nameof(kinds), k, "Unknown attribute kind.");
            }
        }
    }

    /// <summary>A schema of <paramref name="dim"/> float attributes: a plain feature vector.</summary>
    public static AttributeSchema Floats(int dim) => new(Enumerable.Repeat(AttributeKind.Float, dim).ToArray());

    public IReadOnlyList<AttributeKind> Kinds { get; }
    public int Count => Kinds.Count;
    public int IntCount { get; }
    public int FloatCount { get; }
    public int StringCount { get; }

    public bool Equals(AttributeSchema? other) => other is not null && Kinds.SequenceEqual(other.Kinds);
    public override bool Equals(object? obj) => Equals(obj as AttributeSchema);
    public override int GetHashCode() => HashCode.Combine(IntCount, FloatCount, StringCount);
    public override string ToString() => $"[{string.Join(",", Kinds)}]";
}

/// <summary>A node type: its attributes (float attributes form the feature vector), weight and label columns.</summary>
public sealed record NodeTypeSchema(NodeType Type, AttributeSchema Attributes, bool Weighted, bool Labeled, int LabelCount)
{
    /// <summary>Length of the float32 feature vector, one slab row per node.</summary>
    public int FeatureDim => Attributes.FloatCount;
}

/// <summary>
/// A canonical edge type. <see cref="ReverseOf"/> is set on the type GraphLearn adds for an undirected
/// edge between different node types (<c>u2i_reverse</c>, item → user).
/// </summary>
public sealed record EdgeTypeSchema(
    CanonicalEdgeType Type, AttributeSchema Attributes, bool Weighted, bool Labeled, bool Directed,
    CanonicalEdgeType? ReverseOf = null);

public sealed record GraphSchema(IReadOnlyList<NodeTypeSchema> NodeTypes, IReadOnlyList<EdgeTypeSchema> EdgeTypes);
