// Where Hive-layout tables live on disk and what their columns are called.
using System.Globalization;
using System.Text.RegularExpressions;

namespace GraphActors.Graph.Tables;

public enum HiveTableKind { Nodes, Edges, LabelNames }

/// <summary>One table's partition for one date: <c>&lt;root&gt;/&lt;table&gt;/dt=&lt;dt&gt;/part-*.parquet</c>.</summary>
public sealed record HiveTablePartition(string Root, string Table, HiveTableKind Kind, string Dt)
{
    /// <summary>The node type (<c>nodes_user</c> → <c>user</c>) or edge type (<c>edges_click</c> → <c>click</c>).</summary>
    public string TypeName => Table[(Kind switch
    {
        HiveTableKind.Nodes => HiveLayout.NodesPrefix,
        HiveTableKind.Edges => HiveLayout.EdgesPrefix,
        _ => HiveLayout.LabelNamesPrefix,
    }).Length..];

    public string Directory => HiveLayout.PartitionDirectory(Root, Table, Dt);

    /// <summary>The data files in name order; hidden (<c>.</c>/<c>_</c>) and non-<c>part-*.parquet</c> files are ignored, as Hive and Spark do.</summary>
    public IReadOnlyList<string> Files =>
        System.IO.Directory.Exists(Directory)
            ? System.IO.Directory.EnumerateFiles(Directory)
                .Where(f => HiveLayout.IsDataFile(Path.GetFileName(f)))
                .Order(StringComparer.Ordinal).ToArray()
            : [];
}

public static class HiveLayout
{
    public const string NodesPrefix = "nodes_";
    public const string EdgesPrefix = "edges_";
    public const string LabelNamesPrefix = "labels_";

    /// <summary>
    /// The marker a finished table partition (and a finished CGDF directory) carries, as Spark's committer writes it:
    /// Airflow/Oozie sensors wait for it. Written last, removed first when a partition is rewritten.
    /// </summary>
    public const string SuccessMarker = "_SUCCESS";

    // nodes_<type>
    public const string NodeId = "node_id";
    public const string FeatureVec = "feature_vec";
    public const string Label = "label";
    public const string TrainMask = "train_mask";
    public const string ValMask = "val_mask";
    public const string TestMask = "test_mask";

    // labels_<type> (optional): the name of each class of nodes_<type>'s label column
    public const string LabelName = "label_name";

    // edges_<name>
    public const string SrcNodeId = "src_node_id";
    public const string DstNodeId = "dst_node_id";
    public const string SrcType = "src_type";
    public const string DstType = "dst_type";
    public const string EdgeWeight = "edge_weight";

    private static readonly Regex DtPattern = new(@"^\d{4}-\d{2}-\d{2}$", RegexOptions.CultureInvariant);

    public static string PartitionDirectory(string root, string table, string dt) => Path.Combine(root, table, "dt=" + dt);

    public static bool IsDataFile(string name) =>
        name.StartsWith("part-", StringComparison.Ordinal) && name.EndsWith(".parquet", StringComparison.Ordinal);

    /// <summary>Checks a <c>YYYY-MM-DD</c> partition value.</summary>
    public static string CheckDt(string dt)
    {
        if (!DtPattern.IsMatch(dt) || !DateOnly.TryParseExact(dt, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _))
            throw new BadInputException($"--dt: '{dt}' is not a YYYY-MM-DD date.");
        return dt;
    }

    /// <summary>
    /// Every <c>nodes_*</c>, <c>edges_*</c> and <c>labels_*</c> table folder under <paramref name="root"/>, in name order (the
    /// partition may be missing); readers pick the kinds they use.
    /// </summary>
    public static IReadOnlyList<HiveTablePartition> Tables(string root, string dt)
    {
        if (!System.IO.Directory.Exists(root)) throw new BadInputException($"table root '{root}' does not exist.");
        var result = new List<HiveTablePartition>();
        foreach (var dir in System.IO.Directory.EnumerateDirectories(root).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(dir);
            if (name.StartsWith(NodesPrefix, StringComparison.Ordinal) && name.Length > NodesPrefix.Length)
                result.Add(new HiveTablePartition(root, name, HiveTableKind.Nodes, dt));
            else if (name.StartsWith(EdgesPrefix, StringComparison.Ordinal) && name.Length > EdgesPrefix.Length)
                result.Add(new HiveTablePartition(root, name, HiveTableKind.Edges, dt));
            else if (name.StartsWith(LabelNamesPrefix, StringComparison.Ordinal) && name.Length > LabelNamesPrefix.Length)
                result.Add(new HiveTablePartition(root, name, HiveTableKind.LabelNames, dt));
        }
        return result;
    }

    /// <summary>The optional <c>labels_&lt;type&gt;</c> table of a node type (it may not exist).</summary>
    public static HiveTablePartition LabelNames(string root, string nodeType, string dt) =>
        new(root, LabelNamesPrefix + nodeType, HiveTableKind.LabelNames, dt);

    /// <summary>The partitions (<c>dt=…</c>) a table folder has, for error messages.</summary>
    public static IReadOnlyList<string> PartitionsOf(string root, string table)
    {
        var dir = Path.Combine(root, table);
        return System.IO.Directory.Exists(dir)
            ? System.IO.Directory.EnumerateDirectories(dir).Select(Path.GetFileName).Where(n => n!.StartsWith("dt=", StringComparison.Ordinal))
                .Select(n => n![3..]).Order(StringComparer.Ordinal).ToArray()
            : [];
    }
}
