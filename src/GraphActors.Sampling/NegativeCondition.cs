// The condition of GraphLearn's conditional negatives, where(target, condition={…}): what a negative shares with its positive.
using System.Collections;
using GraphActors.Graph;

namespace GraphActors.Sampling;

/// <summary>
/// GraphLearn's <c>condition</c> dictionary of <c>outNeg(t).sample(k).by(s).where(target, condition)</c>. Row i of the
/// negatives pairs with node i of the target (its positive). For every selected column j, <c>(int)(k × IntProps[j])</c>
/// of the row's k negatives share the positive's int attribute <c>IntCols[j]</c> (float and string columns alike),
/// drawn by the step's strategy among the candidates holding that value; the rest are drawn by the strategy alone.
/// The proportions may sum to at most 1. Column indices count within their kind: <c>IntCols = [1]</c> is the node
/// type's second int attribute. A negative is never the row's positive nor a true neighbour of the row's source; with
/// <see cref="BatchShare"/> it is none of the batch's positives instead (the negatives may serve every row of the batch).
/// <see cref="Unique"/> keeps a row free of repeats (with <see cref="BatchShare"/>, the whole batch).
/// </summary>
public sealed record NegativeCondition
{
    /// <summary>GraphLearn's <c>batch_share</c>: exclude every positive of the batch (not the source's neighbours), so the negatives can be shared by the batch.</summary>
    public bool BatchShare { get; init; }

    /// <summary>GraphLearn's <c>unique</c>: no negative twice in a row (in the batch, with <see cref="BatchShare"/>).</summary>
    public bool Unique { get; init; }

    /// <summary>GraphLearn's <c>int_cols</c>: indices among the node type's int attributes.</summary>
    public IReadOnlyList<int> IntCols { get; init; } = [];

    /// <summary>GraphLearn's <c>int_props</c>: the share of the k negatives that match each of <see cref="IntCols"/>.</summary>
    public IReadOnlyList<float> IntProps { get; init; } = [];

    public IReadOnlyList<int> FloatCols { get; init; } = [];
    public IReadOnlyList<float> FloatProps { get; init; } = [];
    public IReadOnlyList<int> StrCols { get; init; } = [];
    public IReadOnlyList<float> StrProps { get; init; } = [];

    private static readonly string[] Keys = ["batch_share", "unique", "int_cols", "int_props", "float_cols", "float_props", "str_cols", "str_props"];

    /// <summary>
    /// Reads GraphLearn's dictionary form (<c>{"batch_share": true, "int_cols": [0], "int_props": [0.5]}</c>): flags are
    /// bools, columns lists of ints, proportions lists of floats (GraphLearn requires <c>1.0</c>, not <c>1</c>, and so does
    /// this). An unknown key or a value of the wrong type is an <see cref="ArgumentException"/> naming the key.
    /// </summary>
    public static NegativeCondition FromGraphLearn(IReadOnlyDictionary<string, object> condition)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var c = new NegativeCondition();
        foreach (var (key, value) in condition)
        {
            c = key switch
            {
                "batch_share" => c with { BatchShare = Flag(key, value) },
                "unique" => c with { Unique = Flag(key, value) },
                "int_cols" => c with { IntCols = Columns(key, value) },
                "int_props" => c with { IntProps = Proportions(key, value) },
                "float_cols" => c with { FloatCols = Columns(key, value) },
                "float_props" => c with { FloatProps = Proportions(key, value) },
                "str_cols" => c with { StrCols = Columns(key, value) },
                "str_props" => c with { StrProps = Proportions(key, value) },
                _ => throw new ArgumentException(
                    $"condition \"{key}\" is not supported; GraphLearn's condition keys are {string.Join(", ", Keys)}.", nameof(condition)),
            };
        }
        return c;
    }

    /// <summary>Checks the columns against the attributes of <paramref name="nodes"/>; <paramref name="where"/> names the call in messages.</summary>
    internal void Validate(NodeTypeData nodes, string where)
    {
        var schema = nodes.Data.Schema;
        Validate(nodes.Type.Name, schema.IntCount, schema.FloatCount, schema.StringCount, where);
    }

    /// <summary>Checks the condition against a node type with these attribute counts (a graph store's type).</summary>
    internal void Validate(string type, int intCount, int floatCount, int stringCount, string where)
    {
        var total = 0.0;
        total += Check(where, type, "int", IntCols, IntProps, intCount);
        total += Check(where, type, "float", FloatCols, FloatProps, floatCount);
        total += Check(where, type, "str", StrCols, StrProps, stringCount);
        if (total > 1 + 1e-6)
            throw new ArgumentException(
                $"{where}: int_props, float_props and str_props sum to {total:0.###}; GraphLearn requires at most 1 (the rest are drawn by the strategy alone).",
                "condition");
    }

    private static double Check(string where, string type, string kind, IReadOnlyList<int>? cols, IReadOnlyList<float>? props, int count)
    {
        var colsName = kind + "_cols";
        var propsName = kind + "_props";
        if (cols is null) throw new ArgumentNullException(colsName, $"{where}: {colsName} is null; leave it empty for no {kind} condition.");
        if (props is null) throw new ArgumentNullException(propsName, $"{where}: {propsName} is null; leave it empty for no {kind} condition.");
        if (cols.Count != props.Count)
            throw new ArgumentException(
                $"{where}: {colsName} names {cols.Count} column(s) but {propsName} gives {props.Count} proportion(s); give one proportion per column.", propsName);
        var attributes = kind == "str" ? "string" : kind;
        for (var i = 0; i < cols.Count; i++)
        {
            if (cols[i] < 0 || cols[i] >= count)
                throw new ArgumentOutOfRangeException(colsName, cols[i],
                    $"{where}: {colsName}[{i}] is {cols[i]}, but {type} nodes have {count} {attributes} attribute(s)" +
                    (count > 0 ? $" (columns 0..{count - 1})." : "."));
        }
        var sum = 0.0;
        for (var i = 0; i < props.Count; i++)
        {
            if (!(props[i] >= 0 && props[i] <= 1))
                throw new ArgumentOutOfRangeException(propsName, props[i], $"{where}: {propsName}[{i}] is {props[i]}; a proportion lies in [0, 1].");
            sum += props[i];
        }
        return sum;
    }

    private static bool Flag(string key, object? value) => value switch
    {
        null => false,
        bool b => b,
        _ => throw new ArgumentException($"condition \"{key}\" takes a bool, not {value.GetType().Name} ({value}).", key),
    };

    private static int[] Columns(string key, object? value)
    {
        switch (value)
        {
            case null: return [];
            case IEnumerable<int> ints: return ints.ToArray();
            case IEnumerable<long> longs:
                var result = new List<int>();
                foreach (var l in longs)
                    result.Add(l is >= int.MinValue and <= int.MaxValue ? (int)l
                        : throw new ArgumentOutOfRangeException(key, l, $"condition \"{key}\" holds {l}, which is no column index."));
                return result.ToArray();
            default:
                throw new ArgumentException(
                    $"condition \"{key}\" takes a list of column indices (ints), not {Describe(value)}.", key);
        }
    }

    private static float[] Proportions(string key, object? value)
    {
        switch (value)
        {
            case null: return [];
            case IEnumerable<float> floats: return floats.ToArray();
            case IEnumerable<double> doubles: return doubles.Select(d => (float)d).ToArray();
            case IEnumerable<int> or IEnumerable<long>:
                throw new ArgumentException(
                    $"condition \"{key}\" takes a list of floats, not {Describe(value)}; GraphLearn reads proportions as floats, so write 1.0, not 1.", key);
            default:
                throw new ArgumentException($"condition \"{key}\" takes a list of floats (proportions), not {Describe(value)}.", key);
        }
    }

    private static string Describe(object value) =>
        value is IEnumerable and not string ? $"a list of {ElementName(value)}" : $"{value.GetType().Name} ({value})";

    private static string ElementName(object list) =>
        list.GetType().IsArray ? list.GetType().GetElementType()!.Name
        : list.GetType().IsGenericType ? list.GetType().GetGenericArguments()[0].Name : "values";
}
