// GraphLearn's Decoder: which optional columns a node or edge source carries, and how to split its attributes.
namespace GraphActors.Graph.GraphLearn;

/// <summary>
/// Describes a GraphLearn data source, as <c>gl.Decoder(weighted, labeled, attr_types, attr_delimiter)</c> does:
/// after the id column(s) come <c>weight</c> (when weighted), <c>label</c> (when labeled) and one <c>attributes</c>
/// string (when attribute types are given), whose values are split by <see cref="AttrDelimiter"/>.
/// </summary>
public sealed class Decoder
{
    public Decoder(bool weighted = false, bool labeled = false, IReadOnlyList<string>? attrTypes = null, string attrDelimiter = ":")
    {
        ArgumentNullException.ThrowIfNull(attrDelimiter);
        if (attrDelimiter.Length == 0)
            throw new ArgumentException("The attribute delimiter must not be empty.", nameof(attrDelimiter));
        // The attributes are one tab-separated column, so a tab can never separate attributes inside it.
        if (attrDelimiter.Contains('\t'))
            throw new ArgumentException("The attribute delimiter must not contain a tab: tabs separate the columns.", nameof(attrDelimiter));

        Weighted = weighted;
        Labeled = labeled;
        AttrDelimiter = attrDelimiter;
        var types = attrTypes ?? [];
        var kinds = new AttributeKind[types.Count];
        for (var i = 0; i < kinds.Length; i++) kinds[i] = ParseKind(types[i], i);
        AttrTypes = types.ToArray();
        Attributes = kinds.Length == 0 ? AttributeSchema.Empty : new AttributeSchema(kinds);
    }

    public bool Weighted { get; }
    public bool Labeled { get; }

    /// <summary>The attribute types as given (GraphLearn's names); empty when the source has no attributes column.</summary>
    public IReadOnlyList<string> AttrTypes { get; }

    public string AttrDelimiter { get; }

    /// <summary>The attribute types as the core schema sees them.</summary>
    public AttributeSchema Attributes { get; }

    /// <summary>True when the source has an <c>attributes</c> column (GraphLearn's ATTRIBUTED format).</summary>
    public bool Attributed => Attributes.Count > 0;

    public override string ToString() =>
        $"Decoder(weighted={Weighted}, labeled={Labeled}, attr_types=[{string.Join(", ", AttrTypes)}], attr_delimiter=\"{AttrDelimiter}\")";

    private static AttributeKind ParseKind(string? type, int index)
    {
        switch (type?.Trim().ToLowerInvariant())
        {
            case "int":
            case "int64":
                return AttributeKind.Int;
            case "float":
            case "float32":
                return AttributeKind.Float;
            case "string":
                return AttributeKind.String;
            default:
                throw new ArgumentException(
                    $"Attribute type {index + 1} is '{type}'; GraphLearn attribute types are \"int\", \"float\" and \"string\" " +
                    "(\"int64\" and \"float32\" are accepted too).", "attrTypes");
        }
    }
}
