// The etl verb: Hive-layout tables of one date → a CGDF directory, streamed, validated, swapped in atomically.
using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using GraphActors.Contracts;
using GraphActors.Graph.Tables;

namespace GraphActors.Graph.Cgdf;

public enum BadRowPolicy { Fail, Skip }

public sealed record EtlOptions(string TablesRoot, string Dt, string Output)
{
    public BadRowPolicy OnBadRow { get; init; } = BadRowPolicy.Fail;
    /// <summary>Defaults to the output folder's name.</summary>
    public string? GraphName { get; init; }
    /// <summary>Progress lines (rows/s per table, at most two a second); null for silence.</summary>
    public TextWriter? Progress { get; init; }
    public int RowGroupRows { get; init; } = 65_536;

    /// <summary>
    /// Labels must lie in [−1, MaxClasses): −1 means unlabelled, anything else outside is a bad row. The class count
    /// written to metadata.json is the largest label + 1, so this also bounds the model's output layer.
    /// </summary>
    public int MaxClasses { get; init; } = DefaultMaxClasses;

    /// <summary>With <see cref="BadRowPolicy.Skip"/>: a table whose rejected share of rows exceeds this fails the run.</summary>
    public double MaxRejectRatio { get; init; } = DefaultMaxRejectRatio;

    /// <summary>Accept node tables whose feature vectors are empty (such types learn an embedding instead); refused by default.</summary>
    public bool AllowFeatureless { get; init; }

    public const int DefaultMaxClasses = 100_000;
    public const double DefaultMaxRejectRatio = 0.01;
}

public sealed record EtlSummary(
    CgdfMetadata Metadata,
    IReadOnlyDictionary<string, long> RowsRead,
    IReadOnlyDictionary<string, long> Rejects,
    double Seconds)
{
    public long TotalRejects => Rejects.Values.Sum();
    public long TotalRowsRead => RowsRead.Values.Sum();
}

/// <summary>
/// Reads every <c>nodes_*</c> then every <c>edges_*</c> table (name order) of one <c>dt</c>, one row group at a
/// time, and writes CGDF. Memory: the per-type <see cref="IdMap"/>s plus one row group. Node types get global id
/// ranges in name order. Bad rows either fail the run (<see cref="BadRowPolicy.Fail"/>, a
/// <see cref="GraphInputException"/> naming table, file, row group, row and field) or are written with their
/// reason to <c>rejects/&lt;table&gt;/rejects.jsonl</c> and counted (<see cref="BadRowPolicy.Skip"/>), up to
/// <see cref="EtlOptions.MaxRejectRatio"/> of a table's rows (beyond it the run fails and the rejects are kept in
/// <c>&lt;out&gt;.rejects/</c>). Faults of a whole table — a missing <c>dt</c> partition, an unreadable file or row
/// group, a missing or mistyped column, a table with no valid rows — always fail the run, whatever the policy.
/// The output is built in <c>&lt;out&gt;.tmp-&lt;guid&gt;</c> beside the target and renamed into place only when
/// complete; a previous output is replaced only then, and a failed run leaves it untouched.
/// </summary>
public sealed class HiveToCgdf
{
    private readonly EtlOptions _options;
    private readonly Dictionary<string, IdMap> _ids = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _globalStart = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _rowsRead = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _rejects = new(StringComparer.Ordinal);
    private readonly Dictionary<string, StreamWriter> _rejectFiles = new(StringComparer.Ordinal);
    // Every table is decoded into these, one row group at a time (each is copied into the CGDF writer before the next is
    // read), so the page buffers and batch arrays fault in once per run rather than once per file or row group.
    private readonly PageBuffers _pages = new();
    private readonly EdgeBatchArrays _edgeArrays = new();
    private string _work = "";
    private string _output = "";

    private HiveToCgdf(EtlOptions options) => _options = options;

    public static EtlSummary Run(EtlOptions options) => new HiveToCgdf(options).Execute();

    private EtlSummary Execute()
    {
        HiveLayout.CheckDt(_options.Dt);
        if (_options.MaxClasses < 1) throw new BadInputException($"--max-classes {_options.MaxClasses}: must be at least 1.");
        if (!(_options.MaxRejectRatio >= 0 && _options.MaxRejectRatio <= 1))
            throw new BadInputException($"--max-reject-ratio {_options.MaxRejectRatio}: must be between 0 and 1.");
        var clock = Stopwatch.StartNew();
        var output = Path.GetFullPath(_options.Output.TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar));
        _output = output;
        var tables = HiveLayout.Tables(_options.TablesRoot, _options.Dt);
        if (!tables.Any(t => t.Kind == HiveTableKind.Nodes))
            throw new GraphInputException(_options.TablesRoot, 0, null, "no nodes_* table found.");
        _work = $"{output}.tmp-{Guid.NewGuid():N}";
        try
        {
            var writer = new CgdfWriter(_work, _options.GraphName ?? Path.GetFileName(output), _options.Dt, _options.RowGroupRows);
            foreach (var t in tables.Where(t => t.Kind == HiveTableKind.Nodes)) LoadNodes(writer, t);
            foreach (var t in tables.Where(t => t.Kind == HiveTableKind.Edges)) LoadEdges(writer, t);
            var meta = writer.Complete();
            CloseRejects();
            SwapIntoPlace(_work, output);
            return new EtlSummary(meta, _rowsRead, _rejects, clock.Elapsed.TotalSeconds);
        }
        catch
        {
            CloseRejects();
            try { if (Directory.Exists(_work)) Directory.Delete(_work, recursive: true); } catch (IOException) { }
            throw;
        }
        finally
        {
            _pages.Dispose();
        }
    }

    // LoadNodes, LoadEdges and FirstNonFinite loop over every row and value of the tables: compiled fully optimised at
    // once rather than first as tier-0 code, in which a short ETL process would spend much of its run.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void LoadNodes(CgdfWriter writer, HiveTablePartition table)
    {
        HiveTableReader.RequirePartition(table);
        var type = table.TypeName;
        var ids = new IdMap(1024);
        CgdfNodeTypeWriter? nodes = null;
        var dim = -1;
        var progress = new Progress(table.Table, _options.Progress);
        foreach (var file in table.Files)
        {
            foreach (var b in HiveTableReader.ReadNodeFile(table, file, _pages))
            {
                nodes ??= writer.BeginNodeType(type, -1, b.Train is not null);
                for (var i = 0; i < b.Rows; i++)
                {
                    var id = b.Ids[i];
                    if (id is null) { Bad(b.Origin, i, HiveLayout.NodeId, "null node id", null); continue; }
                    if (b.Features.IsNull[i]) { Bad(b.Origin, i, HiveLayout.FeatureVec, "null feature vector", id); continue; }
                    var f = b.Features.Row(i);
                    if (f.Length == 0 && !_options.AllowFeatureless)
                    {
                        Bad(b.Origin, i, HiveLayout.FeatureVec, "empty feature vector (zero-width features are refused; --allow-featureless accepts node types without features)", id);
                        continue;
                    }
                    if (dim >= 0 && f.Length != dim)
                    {
                        Bad(b.Origin, i, HiveLayout.FeatureVec, $"feature vector of length {f.Length}; the table's first row has {dim}", id);
                        continue;
                    }
                    var nonFinite = FirstNonFinite(f);
                    if (nonFinite >= 0)
                    {
                        Bad(b.Origin, i, HiveLayout.FeatureVec, $"non-finite value {f[nonFinite].ToString(CultureInfo.InvariantCulture)} at index {nonFinite}", id);
                        continue;
                    }
                    var label = b.Labels[i] ?? -1;
                    if (label < -1 || label >= _options.MaxClasses)
                    {
                        Bad(b.Origin, i, HiveLayout.Label, $"label {label} is outside [-1, {_options.MaxClasses}) (-1 = unlabelled; --max-classes sets the bound)", id);
                        continue;
                    }
                    if (!ids.TryAdd(id.Value, out _)) { Bad(b.Origin, i, HiveLayout.NodeId, $"duplicate node id {id}", id); continue; }
                    dim = f.Length;
                    nodes.Add(id.Value, f, label,
                        b.Train?[i] ?? false, b.Val?[i] ?? false, b.Test?[i] ?? false);
                }
                progress.Add(b.Rows);
            }
        }
        _rowsRead[table.Table] = progress.Done();
        CheckRejects(table);
        if (nodes is null || nodes.Count == 0)
            throw new GraphInputException($"table '{table.Table}'", 0, null, NoRows(table, "a node type needs at least one node"));
        var names = HiveLayout.LabelNames(table.Root, type, table.Dt);
        if (Directory.Exists(names.Directory))
        {
            nodes.LabelNames = HiveTableReader.ReadLabelNames(names, _options.MaxClasses);
            if (nodes.LabelNames.Count <= nodes.MaxLabel)
                throw new GraphInputException($"table '{names.Table}'", 0, HiveLayout.Label,
                    $"names {nodes.LabelNames.Count} classes, but {table.Table} has label {nodes.MaxLabel}: every label needs a name.");
        }
        var meta = nodes.Complete();
        ids.TrimExcess();
        _ids[type] = ids;
        _globalStart[type] = meta.GlobalIdStart;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void LoadEdges(CgdfWriter writer, HiveTablePartition table)
    {
        HiveTableReader.RequirePartition(table);
        var relation = table.TypeName;
        string? srcType = null, dstType = null;
        IdMap? srcIds = null, dstIds = null;
        long srcStart = 0, dstStart = 0;
        CgdfEdgeTypeWriter? edges = null;
        var progress = new Progress(table.Table, _options.Progress);
        foreach (var file in table.Files)
        {
            foreach (var b in HiveTableReader.ReadEdgeFile(table, file, _edgeArrays, _pages))
            {
                for (var i = 0; i < b.Rows; i++)
                {
                    var st = b.SrcType[i];
                    var dt = b.DstType[i];
                    if (st is null) { Bad(b.Origin, i, HiveLayout.SrcType, "null src_type", b.Src[i]); continue; }
                    if (dt is null) { Bad(b.Origin, i, HiveLayout.DstType, "null dst_type", b.Dst[i]); continue; }
                    if (srcType is null)
                    {
                        // The first row with both types fixes the table's canonical type; both must be node tables.
                        if (!_ids.ContainsKey(st)) { Bad(b.Origin, i, HiveLayout.SrcType, $"src_type '{st}' names no node table (have: {string.Join(", ", _ids.Keys)})", b.Src[i]); continue; }
                        if (!_ids.ContainsKey(dt)) { Bad(b.Origin, i, HiveLayout.DstType, $"dst_type '{dt}' names no node table (have: {string.Join(", ", _ids.Keys)})", b.Dst[i]); continue; }
                        srcType = st; dstType = dt;
                        srcIds = _ids[st]; dstIds = _ids[dt];
                        srcStart = _globalStart[st]; dstStart = _globalStart[dt];
                        edges = writer.BeginEdgeType(new CanonicalEdgeType(st, relation, dt));
                    }
                    if (!string.Equals(st, srcType, StringComparison.Ordinal)) { Bad(b.Origin, i, HiveLayout.SrcType, $"src_type '{st}' disagrees with the table's '{srcType}'", b.Src[i]); continue; }
                    if (!string.Equals(dt, dstType, StringComparison.Ordinal)) { Bad(b.Origin, i, HiveLayout.DstType, $"dst_type '{dt}' disagrees with the table's '{dstType}'", b.Dst[i]); continue; }
                    var s = b.Src[i];
                    var d = b.Dst[i];
                    if (s is null) { Bad(b.Origin, i, HiveLayout.SrcNodeId, "null src_node_id", null); continue; }
                    if (d is null) { Bad(b.Origin, i, HiveLayout.DstNodeId, "null dst_node_id", null); continue; }
                    if (!srcIds!.TryGetDense(s.Value, out var sd)) { Bad(b.Origin, i, HiveLayout.SrcNodeId, $"no node {s} in nodes_{srcType}", s); continue; }
                    if (!dstIds!.TryGetDense(d.Value, out var dd)) { Bad(b.Origin, i, HiveLayout.DstNodeId, $"no node {d} in nodes_{dstType}", d); continue; }
                    var w = b.Weights[i] ?? 1f;
                    if (!float.IsFinite(w)) { Bad(b.Origin, i, HiveLayout.EdgeWeight, $"non-finite weight {w.ToString(CultureInfo.InvariantCulture)}", s); continue; }
                    edges!.Add(srcStart + sd, dstStart + dd, w);
                }
                progress.Add(b.Rows);
            }
        }
        _rowsRead[table.Table] = progress.Done();
        CheckRejects(table);
        // An edge table's canonical type comes from its rows: with none there is no type to keep, and dropping the table
        // silently would lose a relation the user asked for, so it is refused.
        if (edges is null || edges.Count == 0)
            throw new GraphInputException($"table '{table.Table}'", 0, null,
                NoRows(table, "an edge type needs at least one edge (its src_type/dst_type come from the rows); remove the table folder to leave the relation out"));
        edges.Complete();
    }

    private string NoRows(HiveTablePartition table, string why)
    {
        var read = _rowsRead.GetValueOrDefault(table.Table);
        var rejected = _rejects.GetValueOrDefault(table.Table);
        if (rejected > 0)
        {
            CloseRejects();
            KeepRejects();
        }
        return read == 0
            ? $"no rows in partition dt={table.Dt} ({table.Files.Count} data files); {why}."
            : $"no valid rows ({read:N0} read, {rejected:N0} rejected, see {RejectsPathFor(table.Table)}); {why}.";
    }

    /// <summary>
    /// In skip mode, fails when the table's rejected share exceeds <see cref="EtlOptions.MaxRejectRatio"/>. The rejects are
    /// moved to <c>&lt;out&gt;.rejects/</c> first (the output itself is left as it was), so the user can see why.
    /// </summary>
    private void CheckRejects(HiveTablePartition table)
    {
        var rejected = _rejects.GetValueOrDefault(table.Table);
        if (rejected == 0) return;
        var read = Math.Max(_rowsRead.GetValueOrDefault(table.Table), 1);
        var ratio = (double)rejected / read;
        if (ratio <= _options.MaxRejectRatio) return;
        CloseRejects();
        var kept = KeepRejects();
        throw new GraphInputException($"table '{table.Table}'", 0, null, string.Create(CultureInfo.InvariantCulture,
            $"{rejected:N0} of {read:N0} rows rejected ({ratio * 100:F1}%), above --max-reject-ratio {_options.MaxRejectRatio}; no output written; rejects written to {Path.Combine(kept, table.Table, "rejects.jsonl")}."));
    }

    private string RejectsPathFor(string table) => Path.Combine(_output + ".rejects", table, "rejects.jsonl");

    /// <summary>Moves this run's rejects to <c>&lt;out&gt;.rejects/</c>, replacing an older copy; returns that folder.</summary>
    private string KeepRejects()
    {
        var kept = _output + ".rejects";
        var source = Path.Combine(_work, "rejects");
        if (Directory.Exists(kept)) Directory.Delete(kept, recursive: true);
        if (Directory.Exists(source)) Directory.Move(source, kept);
        return kept;
    }

    private void Bad(BatchOrigin origin, int row, string field, string reason, long? value)
    {
        if (_options.OnBadRow == BadRowPolicy.Fail)
            throw new GraphInputException(origin.Describe(row), 0, field, reason);
        Reject(origin.Table, new { table = origin.Table, file = origin.File, row_group = origin.RowGroup, row, field, reason, value });
    }

    private void Reject(string table, object record)
    {
        if (!_rejectFiles.TryGetValue(table, out var w))
        {
            var dir = Path.Combine(_work, "rejects", table);
            Directory.CreateDirectory(dir);
            w = new StreamWriter(Path.Combine(dir, "rejects.jsonl"));
            _rejectFiles[table] = w;
        }
        w.WriteLine(JsonSerializer.Serialize(record));
        _rejects[table] = _rejects.GetValueOrDefault(table) + 1;
    }

    private void CloseRejects()
    {
        foreach (var w in _rejectFiles.Values) w.Dispose();
        _rejectFiles.Clear();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int FirstNonFinite(ReadOnlySpan<float> f)
    {
        for (var k = 0; k < f.Length; k++)
            if (!float.IsFinite(f[k])) return k;
        return -1;
    }

    /// <summary>Moves a finished directory to <paramref name="output"/>: old output aside, new in, old deleted.</summary>
    internal static void SwapIntoPlace(string finished, string output)
    {
        if (!Directory.Exists(output))
        {
            Directory.Move(finished, output);
            return;
        }
        var old = $"{output}.old-{Guid.NewGuid():N}";
        Directory.Move(output, old);
        try
        {
            Directory.Move(finished, output);
        }
        catch
        {
            Directory.Move(old, output);
            throw;
        }
        Directory.Delete(old, recursive: true);
    }

    private sealed class Progress(string table, TextWriter? writer)
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private long _rows;
        private long _lastReport;

        public void Add(int rows)
        {
            _rows += rows;
            if (writer is null) return;
            var now = _clock.ElapsedMilliseconds;
            if (now - _lastReport < 500) return;
            _lastReport = now;
            Report();
        }

        public long Done()
        {
            writer?.Write("");
            if (writer is not null) Report(final: true);
            return _rows;
        }

        private void Report(bool final = false)
        {
            var s = Math.Max(_clock.Elapsed.TotalSeconds, 1e-6);
            writer!.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"etl: {table,-24} {_rows,14:N0} rows {_rows / s,14:N0} rows/s{(final ? $" done in {s:F1} s" : "")}"));
        }
    }
}
