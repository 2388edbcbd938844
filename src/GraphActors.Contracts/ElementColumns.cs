// GraphLearn's per-value columns (ids, weights, labels, int/float/string attributes) as a store hands them back: arrays in the caller's order.
namespace GraphActors.Contracts;

/// <summary>Which columns a gather asks for, or an answer holds.</summary>
[Flags]
public enum ColumnSet : byte
{
    None = 0,
    /// <summary>GraphLearn's edge id of each edge (edges only).</summary>
    EdgeIds = 1,
    Weights = 2,
    Labels = 4,
    Ints = 8,
    /// <summary>Float attributes: a node type's features, an edge type's float attributes.</summary>
    Floats = 16,
    Strings = 32,
    All = EdgeIds | Weights | Labels | Ints | Floats | Strings,
}

/// <summary>
/// Columns of <see cref="Count"/> values (nodes or edges), in the order they were asked for. <see cref="Present"/> says
/// which columns the store holds and was asked for; an absent column's array is empty (a type without weights has no
/// <see cref="Weights"/>, not ones). Ints are <c>Count × IntCount</c> and floats <c>Count × FloatCount</c>, row-major;
/// strings are UTF-8, value v (row-major, <c>Count × StringCount</c>) being
/// <c>StringBytes[StringOffsets[v] .. StringOffsets[v + 1])</c>. Arrays are never changed once built.
/// </summary>
public sealed record ElementColumns(
    int Count,
    ColumnSet Present,
    long[] EdgeIds,
    float[] Weights,
    int[] Labels,
    long[] Ints,
    int IntCount,
    float[] Floats,
    int FloatCount,
    int[] StringOffsets,
    byte[] StringBytes,
    int StringCount)
{
    /// <summary><paramref name="count"/> values with no column at all.</summary>
    public static ElementColumns None(int count) => new(count, ColumnSet.None, [], [], [], [], 0, [], 0, [0], [], 0);

    public bool Has(ColumnSet column) => (Present & column) == column;

    public ReadOnlySpan<byte> StringValue(int value) => StringBytes.AsSpan(StringOffsets[value], StringOffsets[value + 1] - StringOffsets[value]);

    /// <summary>The strings as .NET strings, row-major (one allocation per value: what GSL's <c>StringAttrs</c> hands out).</summary>
    public string[] DecodeStrings()
    {
        var n = Count * StringCount;
        if (n == 0) return [];
        var result = new string[n];
        for (var v = 0; v < n; v++) result[v] = System.Text.Encoding.UTF8.GetString(StringValue(v));
        return result;
    }
}
