// Writes a CGDF directory: node_data/<type>/, edge_data/<src>_<edge>_<dst>/, metadata.json.
using GraphActors.Contracts;
using GraphActors.Graph.Tables;
using Parquet;
using Parquet.Schema;

namespace GraphActors.Graph.Cgdf;

/// <summary>Column names and Parquet schemas of CGDF; the layout is described in docs/FORMATS.md.</summary>
public static class CgdfLayout
{
    public const string NodeData = "node_data";
    public const string EdgeData = "edge_data";
    public const string GlobalNodeId = "global_node_id";
    public const string NodeId = "node_id";
    public const string FeatureVec = "feature_vec";
    public const string Label = "label";
    public const string TrainMask = "train_mask";
    public const string ValMask = "val_mask";
    public const string TestMask = "test_mask";
    public const string Src = "src";
    public const string Dst = "dst";
    public const string EdgeWeight = "edge_weight";

    public static string NodeDirectory(string root, string type) => Path.Combine(root, NodeData, type);
    public static string EdgeDirectory(string root, CanonicalEdgeType type) => Path.Combine(root, EdgeData, type.DirectoryName);

    /// <summary>
    /// The columns of one node-type file set. A schema's fields are its own: Parquet.Net sets a field's levels when a
    /// schema takes it, so fields shared between writers on several threads can be seen half-set mid-write.
    /// </summary>
    internal sealed class NodeFields
    {
        public readonly DataField<long> GlobalId = new(GlobalNodeId);
        public readonly DataField<long> NodeId = new(CgdfLayout.NodeId);
        public readonly DataField<int> Label = new(CgdfLayout.Label);
        public readonly DataField<bool> Train = new(TrainMask);
        public readonly DataField<bool> Val = new(ValMask);
        public readonly DataField<bool> Test = new(TestMask);
    }

    /// <summary>The columns of one edge-type file set (see <see cref="NodeFields"/>).</summary>
    internal sealed class EdgeFields
    {
        public readonly DataField<long> Src = new(CgdfLayout.Src);
        public readonly DataField<long> Dst = new(CgdfLayout.Dst);
        public readonly DataField<float> Weight = new(EdgeWeight);
    }

    internal static IEnumerable<string> PartFiles(string directory) =>
        Directory.Exists(directory)
            ? Directory.EnumerateFiles(directory).Where(f => HiveLayout.IsDataFile(Path.GetFileName(f))).Order(StringComparer.Ordinal)
            : [];
}

/// <summary>
/// Writes one CGDF directory. Node types get global id ranges in the order they are begun (the ETL begins them
/// in name order), each type dense from 0; edges are written with global ids. Write one type at a time;
/// <see cref="Complete"/> writes metadata.json and then <c>_SUCCESS</c> last, so a directory with them is a finished one.
/// </summary>
public sealed class CgdfWriter
{
    private readonly List<CgdfNodeType> _nodeTypes = [];
    private readonly List<CgdfEdgeType> _edgeTypes = [];
    private long _nextGlobal;

    public CgdfWriter(string directory, string graphName, string? sourceDt, int rowGroupRows = 65_536, long rowsPerFile = 4_000_000)
    {
        Directory = directory;
        GraphName = graphName;
        SourceDt = sourceDt;
        RowGroupRows = rowGroupRows;
        RowsPerFile = rowsPerFile;
        System.IO.Directory.CreateDirectory(directory);
    }

    public string Directory { get; }
    public string GraphName { get; }
    public string? SourceDt { get; }
    public int RowGroupRows { get; }
    public long RowsPerFile { get; }

    /// <summary>Starts a node type at the next free global id. <paramref name="featureDim"/> &lt; 0: taken from the first row added.</summary>
    public CgdfNodeTypeWriter BeginNodeType(string type, int featureDim, bool hasMasks) =>
        new(this, type, _nextGlobal, featureDim, hasMasks);

    public CgdfEdgeTypeWriter BeginEdgeType(CanonicalEdgeType type) => new(this, type);

    internal void Finished(CgdfNodeType t)
    {
        _nodeTypes.Add(t);
        _nextGlobal = t.GlobalIdEnd;
    }

    internal void Finished(CgdfEdgeType t) => _edgeTypes.Add(t);

    public CgdfMetadata Complete()
    {
        var meta = new CgdfMetadata(CgdfMetadata.FormatName, CgdfMetadata.CurrentVersion, GraphName, SourceDt, _nodeTypes.ToArray(), _edgeTypes.ToArray());
        File.WriteAllText(Path.Combine(Directory, CgdfMetadata.FileName), meta.ToJson());
        File.WriteAllBytes(Path.Combine(Directory, Tables.HiveLayout.SuccessMarker), []); // for Spark/Airflow sensors
        return meta;
    }
}

/// <summary>Rolling part files of one folder, one row group per flush.</summary>
internal sealed class PartFileSink : IDisposable
{
    private readonly string _directory;
    private readonly ParquetSchema _schema;
    private readonly long _rowsPerFile;
    private FileStream? _stream;
    private ParquetWriter? _writer;
    private long _rowsInFile;
    private int _index;

    public PartFileSink(string directory, ParquetSchema schema, long rowsPerFile)
    {
        _directory = directory;
        _schema = schema;
        _rowsPerFile = rowsPerFile;
        System.IO.Directory.CreateDirectory(directory);
    }

    public void WriteRowGroup(int rows, Func<ParquetRowGroupWriter, Task> write)
    {
        if (_writer is null)
        {
            _stream = new FileStream(Path.Combine(_directory, $"part-{_index++:D5}.parquet"), FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16);
            _writer = ParquetWriter.CreateAsync(_schema, _stream).GetAwaiter().GetResult();
            _rowsInFile = 0;
        }
        using (var rg = _writer.CreateRowGroup()) write(rg).GetAwaiter().GetResult();
        _rowsInFile += rows;
        if (_rowsInFile >= _rowsPerFile) Close();
    }

    /// <summary>Closes the last part; writes an empty part when nothing was written, so the schema is on disk.</summary>
    public void Complete()
    {
        if (_writer is null && _index == 0)
        {
            _stream = new FileStream(Path.Combine(_directory, $"part-{_index++:D5}.parquet"), FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None);
            _writer = ParquetWriter.CreateAsync(_schema, _stream).GetAwaiter().GetResult();
        }
        Close();
    }

    private void Close()
    {
        _writer?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _stream?.Dispose();
        _writer = null;
        _stream = null;
    }

    public void Dispose() => Close();
}

/// <summary>Appends the nodes of one type; dense ids are given in arrival order.</summary>
public sealed class CgdfNodeTypeWriter : IDisposable
{
    private readonly CgdfWriter _owner;
    private readonly ListField _features = ParquetColumns.FloatList(CgdfLayout.FeatureVec);
    private readonly CgdfLayout.NodeFields _fields = new();
    private PartFileSink? _sink;
    private long[] _global = [], _business = [];
    private float[] _values = [];
    private int[] _labels = [];
    private bool[] _train = [], _val = [], _test = [];
    private int _buffered;
    private int _groupRows;
    private FixedListLevels? _levels;
    private int _maxLabel = -1;
    private bool _completed;

    /// <summary>
    /// At most this many feature values per row group (16 MB of floats; 8,388 rows at 500-d, 2,927 at 1,433-d,
    /// 65,536 up to 64-d): a wide type gets fewer rows per group than a narrow one, so the writer's arrays, the level
    /// arrays (one int per value) and Parquet.Net's page buffers (one page per column chunk) stay small enough to be
    /// reused from row group to row group instead of faulted in afresh.
    /// </summary>
    public const int MaxGroupValues = 1 << 22;

    internal CgdfNodeTypeWriter(CgdfWriter owner, string type, long globalStart, int featureDim, bool hasMasks)
    {
        _owner = owner;
        Type = type;
        GlobalStart = globalStart;
        FeatureDim = featureDim;
        HasMasks = hasMasks;
    }

    public string Type { get; }
    public long GlobalStart { get; }
    public int FeatureDim { get; private set; }
    public bool HasMasks { get; }
    public long Count { get; private set; }

    /// <summary>Adds the next node (dense id = <see cref="Count"/> before the call); returns its global id.</summary>
    public long Add(long nodeId, ReadOnlySpan<float> features, int label, bool train = false, bool val = false, bool test = false)
    {
        if (FeatureDim < 0) FeatureDim = features.Length;
        if (features.Length != FeatureDim)
            throw new ArgumentException($"Node type '{Type}' has feature dim {FeatureDim}; got {features.Length}.", nameof(features));
        // −1 is unlabelled; int.MaxValue would overflow the class count (largest label + 1) in metadata.json.
        if (label < -1 || label == int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(label), label, $"Node type '{Type}': a label must be -1 (unlabelled) or in [0, {int.MaxValue}).");
        if (_sink is null) Open();
        var i = _buffered++;
        var global = GlobalStart + Count++;
        _global[i] = global;
        _business[i] = nodeId;
        features.CopyTo(_values.AsSpan(i * FeatureDim, FeatureDim));
        _labels[i] = label;
        if (label > _maxLabel) _maxLabel = label;
        if (HasMasks) { _train[i] = train; _val[i] = val; _test[i] = test; }
        if (_buffered == _groupRows) Flush();
        return global;
    }

    private void Open()
    {
        var rows = _groupRows = (int)Math.Clamp(MaxGroupValues / Math.Max(FeatureDim, 1), 1, _owner.RowGroupRows);
        _global = new long[rows];
        _business = new long[rows];
        _values = new float[(long)rows * FeatureDim];
        _labels = new int[rows];
        if (HasMasks) { _train = new bool[rows]; _val = new bool[rows]; _test = new bool[rows]; }
        var fields = new List<Field> { _fields.GlobalId, _fields.NodeId, _features, _fields.Label };
        if (HasMasks) fields.AddRange([_fields.Train, _fields.Val, _fields.Test]);
        _sink = new PartFileSink(CgdfLayout.NodeDirectory(_owner.Directory, Type), new ParquetSchema(fields), _owner.RowsPerFile);
        if (FeatureDim > 0) _levels = new FixedListLevels(_features, rows, FeatureDim); // after the schema has set the levels
    }

    private void Flush()
    {
        var n = _buffered;
        if (n == 0) return;
        _sink!.WriteRowGroup(n, async rg =>
        {
            await rg.WriteAsync<long>(_fields.GlobalId, _global.AsMemory(0, n));
            await rg.WriteAsync<long>(_fields.NodeId, _business.AsMemory(0, n));
            if (_levels is null) await ParquetColumns.WriteFixedFloatListsAsync(rg, _features, _values, n, FeatureDim);
            else await ParquetColumns.WriteFixedFloatListsAsync(rg, _features, _values, n, _levels);
            await rg.WriteAsync<int>(_fields.Label, _labels.AsMemory(0, n));
            if (HasMasks)
            {
                await rg.WriteAsync<bool>(_fields.Train, _train.AsMemory(0, n));
                await rg.WriteAsync<bool>(_fields.Val, _val.AsMemory(0, n));
                await rg.WriteAsync<bool>(_fields.Test, _test.AsMemory(0, n));
            }
        });
        _buffered = 0;
    }

    /// <summary>The classes' names (index = label), when the source has them; set before <see cref="Complete"/>.</summary>
    public IReadOnlyList<string>? LabelNames { get; set; }

    /// <summary>The largest label added so far (−1 when none).</summary>
    public int MaxLabel => _maxLabel;

    public CgdfNodeType Complete()
    {
        if (FeatureDim < 0) FeatureDim = 0;
        if (_sink is null) Open();
        Flush();
        _sink!.Complete();
        _completed = true;
        if (LabelNames is not null && LabelNames.Count < _maxLabel + 1)
            throw new InvalidOperationException($"{LabelNames.Count} class names for node type '{Type}', whose labels go up to {_maxLabel}.");
        // Named classes count even when no node of this dt carries them: the model's output width follows the names.
        var t = new CgdfNodeType(Type, Count, GlobalStart, GlobalStart + Count, FeatureDim, Math.Max(_maxLabel + 1, LabelNames?.Count ?? 0), HasMasks)
        {
            LabelNames = LabelNames,
        };
        _owner.Finished(t);
        return t;
    }

    public void Dispose()
    {
        if (!_completed) _sink?.Dispose();
    }
}

/// <summary>Appends the edges of one canonical type, endpoints as global ids.</summary>
public sealed class CgdfEdgeTypeWriter : IDisposable
{
    private readonly CgdfLayout.EdgeFields _fields = new();
    private readonly CgdfWriter _owner;
    private readonly PartFileSink _sink;
    private readonly long[] _src, _dst;
    private readonly float[] _weights;
    private int _buffered;
    private bool _completed;

    internal CgdfEdgeTypeWriter(CgdfWriter owner, CanonicalEdgeType type)
    {
        _owner = owner;
        Type = type;
        var rows = owner.RowGroupRows * 2; // edges are narrow: bigger row groups, same bytes
        _src = new long[rows];
        _dst = new long[rows];
        _weights = new float[rows];
        _sink = new PartFileSink(CgdfLayout.EdgeDirectory(owner.Directory, type),
            new ParquetSchema(_fields.Src, _fields.Dst, _fields.Weight), owner.RowsPerFile * 2);
    }

    public CanonicalEdgeType Type { get; }
    public long Count { get; private set; }

    public void Add(long srcGlobal, long dstGlobal, float weight)
    {
        var i = _buffered++;
        _src[i] = srcGlobal;
        _dst[i] = dstGlobal;
        _weights[i] = weight;
        Count++;
        if (_buffered == _src.Length) Flush();
    }

    private void Flush()
    {
        var n = _buffered;
        if (n == 0) return;
        _sink.WriteRowGroup(n, async rg =>
        {
            await rg.WriteAsync<long>(_fields.Src, _src.AsMemory(0, n));
            await rg.WriteAsync<long>(_fields.Dst, _dst.AsMemory(0, n));
            await rg.WriteAsync<float>(_fields.Weight, _weights.AsMemory(0, n));
        });
        _buffered = 0;
    }

    public CgdfEdgeType Complete()
    {
        Flush();
        _sink.Complete();
        _completed = true;
        var t = CgdfEdgeType.Of(Type, Count);
        _owner.Finished(t);
        return t;
    }

    public void Dispose()
    {
        if (!_completed) _sink.Dispose();
    }
}
