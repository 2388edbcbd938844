namespace GraphActors.Graph;

/// <summary>
/// Per-element columns of a node or edge type: optional weight and label, and the attributes grouped by
/// kind. Floats are a <see cref="FeatureSlab"/> (for nodes, the feature vector); ints are row-major int64;
/// strings row-major.
/// </summary>
public sealed class ElementData
{
    public ElementData(int count, AttributeSchema schema, ReadOnlyMemory<float> weights, ReadOnlyMemory<int> labels,
        ReadOnlyMemory<long> ints, FeatureSlab floats, ReadOnlyMemory<string> strings)
    {
        if (!weights.IsEmpty && weights.Length != count) throw new ArgumentException("One weight per element.", nameof(weights));
        if (!labels.IsEmpty && labels.Length != count) throw new ArgumentException("One label per element.", nameof(labels));
        if (ints.Length != (long)count * schema.IntCount) throw new ArgumentException("Int attributes are count × IntCount.", nameof(ints));
        if (floats.Dim != schema.FloatCount || (schema.FloatCount > 0 && floats.Rows != count))
            throw new ArgumentException("Float attributes are count × FloatCount.", nameof(floats));
        if (strings.Length != (long)count * schema.StringCount) throw new ArgumentException("String attributes are count × StringCount.", nameof(strings));
        Count = count;
        Schema = schema;
        Weights = weights;
        Labels = labels;
        Ints = ints;
        Floats = floats;
        Strings = strings;
    }

    public int Count { get; }
    public AttributeSchema Schema { get; }
    public ReadOnlyMemory<float> Weights { get; }
    public ReadOnlyMemory<int> Labels { get; }
    public ReadOnlyMemory<long> Ints { get; }
    public FeatureSlab Floats { get; }
    public ReadOnlyMemory<string> Strings { get; }

    public bool HasWeights => !Weights.IsEmpty;
    public bool HasLabels => !Labels.IsEmpty;

    public float Weight(int row) => Weights.IsEmpty ? 1f : Weights.Span[row];
    public int Label(int row) => Labels.IsEmpty ? -1 : Labels.Span[row];
    public ReadOnlySpan<long> IntsOf(int row) => Ints.Span.Slice(row * Schema.IntCount, Schema.IntCount);
    public ReadOnlySpan<float> FloatsOf(int row) => Schema.FloatCount == 0 ? ReadOnlySpan<float>.Empty : Floats.Row(row);
    public ReadOnlySpan<string> StringsOf(int row) => Strings.Span.Slice(row * Schema.StringCount, Schema.StringCount);

    public long MemoryBytes =>
        Weights.Length * 4L + Labels.Length * 4L + Ints.Length * 8L + Floats.ByteSize + Strings.Length * 8L;
}
