// Writes Hive-layout node and edge tables: row groups as they fill, part files through temp + rename.
using Parquet;
using Parquet.Schema;

namespace GraphActors.Graph.Tables;

/// <summary>
/// Shared machinery: buffers rows, writes a row group every <see cref="RowGroupRows"/> rows, starts a new
/// <c>part-NNNNN.parquet</c> every <see cref="RowsPerFile"/> rows. Each part is written as a hidden temp file
/// and renamed when complete, so readers never see half a file. Columns are optional (nullable), as Hive
/// and Spark declare them. Call <see cref="Complete"/> on success; disposing without it deletes the part in progress.
/// </summary>
public abstract class HiveTableWriter : IDisposable
{
    private readonly string _directory;
    private ParquetWriter? _writer;
    private FileStream? _stream;
    private string? _tempPath;
    private string? _finalPath;
    private int _fileIndex;
    private long _rowsInFile;
    private bool _completed;

    protected HiveTableWriter(string root, string table, string dt, int rowGroupRows, long rowsPerFile)
    {
        if (rowGroupRows <= 0) throw new ArgumentOutOfRangeException(nameof(rowGroupRows));
        Table = table;
        _directory = HiveLayout.PartitionDirectory(root, table, HiveLayout.CheckDt(dt));
        RowGroupRows = rowGroupRows;
        RowsPerFile = Math.Max(rowsPerFile, rowGroupRows);
        Directory.CreateDirectory(_directory);
        // A partition being rewritten is not finished: its old marker goes before the first part changes.
        File.Delete(Path.Combine(_directory, HiveLayout.SuccessMarker));
    }

    public string Table { get; }
    public int RowGroupRows { get; }
    public long RowsPerFile { get; }
    public long RowsWritten { get; private set; }
    protected abstract ParquetSchema Schema { get; }
    protected abstract int Buffered { get; }
    protected abstract Task WriteBufferAsync(ParquetRowGroupWriter rg);
    protected abstract void ClearBuffer();

    protected void RowAdded()
    {
        if (Buffered >= RowGroupRows) Flush();
    }

    private void Flush()
    {
        if (Buffered == 0) return;
        if (_writer is null) OpenPart();
        var rows = Buffered;
        using (var rg = _writer!.CreateRowGroup())
        {
            WriteBufferAsync(rg).GetAwaiter().GetResult();
        }
        ClearBuffer();
        RowsWritten += rows;
        _rowsInFile += rows;
        if (_rowsInFile >= RowsPerFile) ClosePart();
    }

    private void OpenPart()
    {
        var name = $"part-{_fileIndex++:D5}.parquet";
        _finalPath = Path.Combine(_directory, name);
        _tempPath = Path.Combine(_directory, "." + name + ".tmp-" + Guid.NewGuid().ToString("N"));
        _stream = new FileStream(_tempPath, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16);
        _writer = ParquetWriter.CreateAsync(Schema, _stream).GetAwaiter().GetResult();
        _rowsInFile = 0;
    }

    private void ClosePart()
    {
        _writer!.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _stream!.Dispose();
        File.Move(_tempPath!, _finalPath!, overwrite: true);
        _writer = null;
        _stream = null;
        _tempPath = null;
    }

    /// <summary>
    /// Writes what is buffered, closes the last part and marks the partition finished (<c>_SUCCESS</c>). A table with no
    /// rows gets one empty part file so its schema is on disk.
    /// </summary>
    public void Complete()
    {
        Flush();
        if (_writer is null && RowsWritten == 0) OpenPart();
        if (_writer is not null) ClosePart();
        File.WriteAllBytes(Path.Combine(_directory, HiveLayout.SuccessMarker), []);
        _completed = true;
    }

    public void Dispose()
    {
        if (_completed) return;
        _completed = true;
        try { _writer?.DisposeAsync().AsTask().GetAwaiter().GetResult(); } catch (Exception) { /* abandoning the part anyway */ }
        _stream?.Dispose();
        if (_tempPath is not null) ParquetColumns.TryDelete(_tempPath);
        GC.SuppressFinalize(this);
    }
}

/// <summary>Writes <c>nodes_&lt;type&gt;</c>: <c>node_id INT64, feature_vec LIST&lt;FLOAT&gt;, label INT32</c> (+ <c>train_mask, val_mask, test_mask BOOLEAN</c> with masks).</summary>
public sealed class HiveNodeTableWriter : HiveTableWriter
{
    // Fields belong to one schema each: Parquet.Net sets a field's levels when a schema takes it (0, then +1 for an
    // optional one), so a field shared with a schema built on another thread can be read as required mid-write, and its
    // column is then written without definition levels (a file no reader can decode).
    private readonly DataField<long?> _idField = new(HiveLayout.NodeId);
    private readonly DataField<int?> _labelField = new(HiveLayout.Label);
    private readonly DataField<bool?> _trainField = new(HiveLayout.TrainMask);
    private readonly DataField<bool?> _valField = new(HiveLayout.ValMask);
    private readonly DataField<bool?> _testField = new(HiveLayout.TestMask);
    private readonly ListField _features = ParquetColumns.FloatList(HiveLayout.FeatureVec);
    private readonly List<long?> _ids = [];
    private readonly List<float> _values = [];
    private readonly List<int> _offsets = [0];
    private readonly List<int?> _labels = [];
    private readonly List<bool?> _train = [], _val = [], _test = [];

    public HiveNodeTableWriter(string root, string nodeType, string dt, bool withMasks = false, int rowGroupRows = 65_536, long rowsPerFile = 4_000_000)
        : base(root, HiveLayout.NodesPrefix + nodeType, dt, rowGroupRows, rowsPerFile)
    {
        WithMasks = withMasks;
        var fields = new List<Field> { _idField, _features, _labelField };
        if (withMasks) fields.AddRange([_trainField, _valField, _testField]);
        Schema = new ParquetSchema(fields);
    }

    public bool WithMasks { get; }
    protected override ParquetSchema Schema { get; }
    protected override int Buffered => _ids.Count;

    /// <summary>Adds a row. Ids and labels may be null (a source system can hold such rows; ETL rejects null ids).</summary>
    public void Add(long? id, ReadOnlySpan<float> features, int? label, bool train = false, bool val = false, bool test = false)
    {
        _ids.Add(id);
        _values.AddRange(features);
        _offsets.Add(_values.Count);
        _labels.Add(label);
        if (WithMasks) { _train.Add(train); _val.Add(val); _test.Add(test); }
        RowAdded();
    }

    protected override async Task WriteBufferAsync(ParquetRowGroupWriter rg)
    {
        await rg.WriteAsync<long>(_idField, _ids.ToArray());
        await ParquetColumns.WriteFloatListsAsync(rg, _features, _values.ToArray(), _offsets.ToArray());
        await rg.WriteAsync<int>(_labelField, _labels.ToArray());
        if (WithMasks)
        {
            await rg.WriteAsync<bool>(_trainField, _train.ToArray());
            await rg.WriteAsync<bool>(_valField, _val.ToArray());
            await rg.WriteAsync<bool>(_testField, _test.ToArray());
        }
    }

    protected override void ClearBuffer()
    {
        _ids.Clear(); _values.Clear(); _offsets.Clear(); _offsets.Add(0); _labels.Clear();
        _train.Clear(); _val.Clear(); _test.Clear();
    }
}

/// <summary>Writes <c>edges_&lt;name&gt;</c>: <c>src_node_id INT64, dst_node_id INT64, src_type STRING, dst_type STRING, edge_weight FLOAT</c>.</summary>
public sealed class HiveEdgeTableWriter : HiveTableWriter
{
    private readonly DataField<long?> _srcField = new(HiveLayout.SrcNodeId);
    private readonly DataField<long?> _dstField = new(HiveLayout.DstNodeId);
    private readonly DataField<string> _srcTypeField = new(HiveLayout.SrcType);
    private readonly DataField<string> _dstTypeField = new(HiveLayout.DstType);
    private readonly DataField<float?> _weightField = new(HiveLayout.EdgeWeight);
    private readonly List<long?> _src = [], _dst = [];
    private readonly List<string?> _srcType = [], _dstType = [];
    private readonly List<float?> _weight = [];

    public HiveEdgeTableWriter(string root, string edgeName, string dt, int rowGroupRows = 131_072, long rowsPerFile = 8_000_000)
        : base(root, HiveLayout.EdgesPrefix + edgeName, dt, rowGroupRows, rowsPerFile)
    {
        Schema = new ParquetSchema(_srcField, _dstField, _srcTypeField, _dstTypeField, _weightField);
    }

    protected override ParquetSchema Schema { get; }
    protected override int Buffered => _src.Count;

    public void Add(long? src, long? dst, string? srcType, string? dstType, float? weight = 1f)
    {
        _src.Add(src); _dst.Add(dst); _srcType.Add(srcType); _dstType.Add(dstType); _weight.Add(weight);
        RowAdded();
    }

    protected override async Task WriteBufferAsync(ParquetRowGroupWriter rg)
    {
        await rg.WriteAsync<long>(_srcField, _src.ToArray());
        await rg.WriteAsync<long>(_dstField, _dst.ToArray());
        await rg.WriteAsync(_srcTypeField, _srcType.ToArray()!);
        await rg.WriteAsync(_dstTypeField, _dstType.ToArray()!);
        await rg.WriteAsync<float>(_weightField, _weight.ToArray());
    }

    protected override void ClearBuffer()
    {
        _src.Clear(); _dst.Clear(); _srcType.Clear(); _dstType.Clear(); _weight.Clear();
    }
}

/// <summary>
/// Writes <c>labels_&lt;type&gt;</c>: <c>label INT32, label_name STRING</c>, one row per class of <c>nodes_&lt;type&gt;</c>'s
/// label column. Optional: ETL carries the names into metadata.json when the table is there.
/// </summary>
public sealed class HiveLabelNamesWriter : HiveTableWriter
{
    private readonly DataField<int?> _labelField = new(HiveLayout.Label);
    private readonly DataField<string> _nameField = new(HiveLayout.LabelName);
    private readonly List<int?> _labels = [];
    private readonly List<string?> _names = [];

    public HiveLabelNamesWriter(string root, string nodeType, string dt)
        : base(root, HiveLayout.LabelNamesPrefix + nodeType, dt, rowGroupRows: 65_536, rowsPerFile: 65_536)
    {
        Schema = new ParquetSchema(_labelField, _nameField);
    }

    protected override ParquetSchema Schema { get; }
    protected override int Buffered => _labels.Count;

    public void Add(int label, string name)
    {
        _labels.Add(label);
        _names.Add(name);
        RowAdded();
    }

    /// <summary>Writes the whole table: <paramref name="names"/>[i] is class i's name.</summary>
    public static void Write(string root, string nodeType, string dt, IReadOnlyList<string> names)
    {
        using var w = new HiveLabelNamesWriter(root, nodeType, dt);
        for (var i = 0; i < names.Count; i++) w.Add(i, names[i]);
        w.Complete();
    }

    protected override async Task WriteBufferAsync(ParquetRowGroupWriter rg)
    {
        await rg.WriteAsync<int>(_labelField, _labels.ToArray());
        await rg.WriteAsync(_nameField, _names.ToArray()!);
    }

    protected override void ClearBuffer()
    {
        _labels.Clear();
        _names.Clear();
    }
}
