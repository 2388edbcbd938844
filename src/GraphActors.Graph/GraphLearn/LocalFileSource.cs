// GraphLearn's local file source: tab-separated text with a typed header, read line by line into the builders.
using System.Globalization;
using System.Text;

namespace GraphActors.Graph.GraphLearn;

/// <summary>
/// Reads GraphLearn local files. Line 1 is the header, one <c>name:type</c> per column, tab-separated; every other
/// line is one node (<c>id [weight] [label] [attributes]</c>) or one edge (<c>src_id dst_id [weight] [label] [attributes]</c>),
/// the optional columns present exactly when the decoder says so, in that order. A source may be a file or a
/// directory of files with the same schema (read in ordinal name order), optionally written <c>file://path</c>.
/// Every problem is a <see cref="GraphInputException"/> naming file, 1-based line and field.
/// </summary>
internal static class LocalFileSource
{
    private const string FilePrefix = "file://";

    // GraphLearn reads a column by its position and type: ids and labels are int64 whatever integer type the header
    // says, weights are float whatever float type, and the names are the writer's own (GraphLearn's test data writes
    // "d_id:int64"). So are these: a name is only used to explain a type in the wrong place.
    private static readonly string[] IdTypes = ["int64", "int32", "int", "long"];
    private static readonly string[] WeightTypes = ["float", "float32", "double", "float64"];
    private static readonly string[] LabelTypes = ["int32", "int", "int64", "long"];
    private static readonly string[] AttributeTypes = ["string"];

    // The names GraphLearn's documents and examples give each column, for the explanation of a misplaced one.
    private static readonly string[] AttributeNames = ["attributes", "attribute", "features", "feature"];

    /// <summary>The header a decoder expects, as GraphLearn documents it.</summary>
    public static string ExpectedHeader(Decoder decoder, bool edges)
    {
        var columns = Columns(decoder, edges);
        var parts = new string[columns.Length];
        for (var i = 0; i < columns.Length; i++) parts[i] = $"{columns[i].Name}:{columns[i].Types[0]}";
        return string.Join('\t', parts);
    }

    /// <summary>Loads every node of a source into <paramref name="nodes"/>; a repeated id is an error.</summary>
    public static void LoadNodes(string source, Decoder decoder, NodeTableBuilder nodes)
    {
        // Where each node was first seen, to point at both lines of a duplicate; dropped when the load is done.
        var firstLine = new GrowableArray<long>(16);
        var firstFile = new GrowableArray<int>(16);
        var files = ResolveFiles(source);
        for (var f = 0; f < files.Count; f++)
        {
            var path = files[f];
            var row = new RowParser(path, decoder, edges: false);
            foreach (var (lineNo, text) in DataLines(path, decoder, edges: false))
            {
                var fields = row.Split(text, lineNo);
                var id = row.ParseId(fields.Next(), lineNo, "id");
                row.ParseTail(ref fields, lineNo);
                if (!nodes.TryAdd(id, row.Weight, row.Label, row.Ints, row.Floats, row.Strings, out var dense))
                {
                    var where = firstFile[dense] == f ? $"line {firstLine[dense]}" : $"line {firstLine[dense]} of {files[firstFile[dense]]}";
                    throw new GraphInputException(path, lineNo, "id",
                        $"duplicate node id {id} of type '{nodes.Type}'; first seen on {where}.");
                }
                firstLine.Add(lineNo);
                firstFile.Add(f);
            }
        }
    }

    /// <summary>
    /// Loads every edge of a source into <paramref name="edges"/>. An endpoint of a type without a node source becomes
    /// one of its nodes; an endpoint its type's node source does not list becomes a node too, with
    /// <paramref name="defaults"/> for its weight, label and attributes, as GraphLearn stores nodes and edges apart and
    /// answers for such a node with its default values. Returns how many nodes were added that way, per side.
    /// </summary>
    public static (int Src, int Dst) LoadEdges(string source, Decoder decoder, EdgeTableBuilder edges, AttributeDefaults defaults)
    {
        var srcNodes = edges.SrcNodes;
        var dstNodes = edges.DstNodes;
        int srcDefaulted = 0, dstDefaulted = 0;
        foreach (var path in ResolveFiles(source))
        {
            var row = new RowParser(path, decoder, edges: true);
            foreach (var (lineNo, text) in DataLines(path, decoder, edges: true))
            {
                var fields = row.Split(text, lineNo);
                var srcId = row.ParseId(fields.Next(), lineNo, "src_id");
                var dstId = row.ParseId(fields.Next(), lineNo, "dst_id");
                row.ParseTail(ref fields, lineNo);
                var src = Endpoint(srcNodes, srcId, defaults, ref srcDefaulted);
                var dst = Endpoint(dstNodes, dstId, defaults, ref dstDefaulted);
                edges.Add(src, dst, row.Weight, row.Label, row.Ints, row.Floats, row.Strings);
            }
        }
        return (srcDefaulted, dstDefaulted);
    }

    private static int Endpoint(NodeTableBuilder nodes, long id, AttributeDefaults defaults, ref int defaulted)
    {
        if (nodes.IsImplicit) return nodes.GetOrAddEndpoint(id);
        if (nodes.GetOrAddWithDefaults(id, defaults.Weight, defaults.Label, defaults.Int, defaults.Float, defaults.String, out var dense)) defaulted++;
        return dense;
    }

    /// <summary>
    /// The data lines of one file after its header has been checked, with their 1-based line numbers. Trailing empty
    /// lines are allowed; an empty line followed by more data is an error naming the empty line.
    /// </summary>
    private static IEnumerable<(long LineNo, string Text)> DataLines(string path, Decoder decoder, bool edges)
    {
        using var reader = Open(path);
        ReadHeader(reader, path, decoder, edges);
        long lineNo = 1;
        long blank = 0;
        while (reader.ReadLine() is { } text)
        {
            lineNo++;
            if (text.AsSpan().IsWhiteSpace()) { if (blank == 0) blank = lineNo; continue; }
            if (blank != 0) throw EmptyLineInside(path, blank);
            yield return (lineNo, text);
        }
    }

    private static GraphInputException EmptyLineInside(string path, long line) =>
        new(path, line, null, "empty line between data lines; only trailing empty lines are allowed.");

    /// <summary>The files of a source: the file itself, or a directory's files in ordinal name order.</summary>
    internal static IReadOnlyList<string> ResolveFiles(string source)
    {
        var path = source.StartsWith(FilePrefix, StringComparison.Ordinal) ? source[FilePrefix.Length..] : source;
        if (File.Exists(path)) return [path];
        if (Directory.Exists(path))
        {
            var files = Directory.GetFiles(path);
            Array.Sort(files, StringComparer.Ordinal);
            if (files.Length == 0) throw new GraphInputException(path, 0, null, "the source directory holds no files.");
            return files;
        }
        throw new GraphInputException(path, 0, null, $"no such file or directory: '{Path.GetFullPath(path)}'.");
    }

    private static StreamReader Open(string path)
    {
        var options = new FileStreamOptions { Mode = FileMode.Open, Access = FileAccess.Read, Share = FileShare.Read, BufferSize = 1 << 16, Options = FileOptions.SequentialScan };
        try
        {
            return new StreamReader(path, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, options);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new GraphInputException(path, 0, null, $"cannot open the file: {e.Message}", e);
        }
    }

    private readonly record struct Column(string Name, string[] Types, string[] Names);

    private static Column[] Columns(Decoder decoder, bool edges)
    {
        var columns = new List<Column>(5);
        if (edges)
        {
            columns.Add(new Column("src_id", IdTypes, ["src_id"]));
            columns.Add(new Column("dst_id", IdTypes, ["dst_id"]));
        }
        else
        {
            columns.Add(new Column("id", IdTypes, ["id"]));
        }
        if (decoder.Weighted) columns.Add(new Column("weight", WeightTypes, ["weight"]));
        if (decoder.Labeled) columns.Add(new Column("label", LabelTypes, ["label"]));
        if (decoder.Attributed) columns.Add(new Column("attributes", AttributeTypes, AttributeNames));
        return columns.ToArray();
    }

    private static void ReadHeader(StreamReader reader, string path, Decoder decoder, bool edges)
    {
        var expected = Columns(decoder, edges);
        var wanted = ExpectedHeader(decoder, edges);
        var header = reader.ReadLine();
        if (header is null || header.AsSpan().IsWhiteSpace())
            throw new GraphInputException(path, 1, null, $"the file has no header; expected \"{wanted}\".");

        var items = header.Split('\t');
        for (var i = 0; i < items.Length; i++)
        {
            var item = items[i];
            var colon = item.IndexOf(':');
            if (colon < 0 || colon != item.LastIndexOf(':'))
                throw new GraphInputException(path, 1, item.Trim(), $"header item '{item}' is not name:type; expected \"{wanted}\".");
            var name = item[..colon].Trim();
            var type = item[(colon + 1)..].Trim();
            if (i >= expected.Length)
                throw new GraphInputException(path, 1, name,
                    $"column '{name}' is not in the format of {decoder}; expected \"{wanted}\".");
            var column = expected[i];
            if (Contains(column.Types, type)) continue;
            var elsewhere = IndexOfColumn(expected, name);
            var problem = elsewhere >= 0 && elsewhere != i
                ? $"column {i + 1} ('{name}') has type '{type}', but column {i + 1} of {decoder} is the {column.Name} ({string.Join(" or ", column.Types)}) " +
                  $"and '{name}' belongs at {elsewhere + 1}; GraphLearn's column order is \"{wanted}\"."
                : $"column {i + 1} ('{name}') has type '{type}'; the {column.Name} column takes {string.Join(" or ", column.Types)}; expected \"{wanted}\".";
            throw new GraphInputException(path, 1, column.Name, problem);
        }
        if (items.Length < expected.Length)
        {
            var missing = expected[items.Length];
            throw new GraphInputException(path, 1, missing.Name,
                $"column '{missing.Name}' is missing; {decoder} needs \"{wanted}\".");
        }
    }

    private static bool Contains(string[] values, string value)
    {
        foreach (var v in values)
            if (string.Equals(v, value, StringComparison.OrdinalIgnoreCase)) return true;
        return false;
    }

    private static int IndexOfColumn(Column[] columns, string name)
    {
        for (var i = 0; i < columns.Length; i++)
            if (Contains(columns[i].Names, name)) return i;
        return -1;
    }

    /// <summary>The fields of one line, taken left to right without allocating.</summary>
    internal ref struct Fields
    {
        private ReadOnlySpan<char> _rest;

        public Fields(ReadOnlySpan<char> line) => _rest = line;

        public ReadOnlySpan<char> Next()
        {
            var tab = _rest.IndexOf('\t');
            if (tab < 0)
            {
                var last = _rest;
                _rest = default;
                return last;
            }
            var field = _rest[..tab];
            _rest = _rest[(tab + 1)..];
            return field;
        }
    }

    /// <summary>Parses the columns of one source's lines, reusing one set of attribute buffers.</summary>
    private sealed class RowParser
    {
        private readonly string _path;
        private readonly Decoder _decoder;
        private readonly Column[] _columns;
        private readonly long[] _ints;
        private readonly float[] _floats;
        private readonly string[] _strings;

        public RowParser(string path, Decoder decoder, bool edges)
        {
            _path = path;
            _decoder = decoder;
            _columns = Columns(decoder, edges);
            _ints = new long[decoder.Attributes.IntCount];
            _floats = new float[decoder.Attributes.FloatCount];
            _strings = new string[decoder.Attributes.StringCount];
        }

        public float Weight { get; private set; } = 1f;
        public int Label { get; private set; } = -1;
        public ReadOnlySpan<long> Ints => _ints;
        public ReadOnlySpan<float> Floats => _floats;
        public ReadOnlySpan<string> Strings => _strings;

        public Fields Split(ReadOnlySpan<char> line, long lineNo)
        {
            var count = line.Count('\t') + 1;
            if (count < _columns.Length)
                throw new GraphInputException(_path, lineNo, _columns[count].Name,
                    $"the line has {count} columns but the header declares {_columns.Length}; '{_columns[count].Name}' and after are missing.");
            if (count > _columns.Length)
                throw new GraphInputException(_path, lineNo, null,
                    $"the line has {count} columns but the header declares {_columns.Length}.");
            return new Fields(line);
        }

        public long ParseId(ReadOnlySpan<char> text, long lineNo, string field)
        {
            if (long.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowLeadingWhite | NumberStyles.AllowTrailingWhite,
                    CultureInfo.InvariantCulture, out var id))
                return id;
            throw Bad(lineNo, field, text, "an int64 id");
        }

        /// <summary>The optional columns after the id(s): weight, label, attributes, as the decoder has them.</summary>
        public void ParseTail(ref Fields fields, long lineNo)
        {
            if (_decoder.Weighted)
            {
                var text = fields.Next();
                if (!float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var w))
                    throw Bad(lineNo, "weight", text, "a float");
                // Weighted sampling sums weights; one NaN or infinity would poison a whole row.
                if (!float.IsFinite(w))
                    throw new GraphInputException(_path, lineNo, "weight", $"'{text.ToString()}' is not a finite number.");
                Weight = w;
            }
            if (_decoder.Labeled)
            {
                var text = fields.Next();
                if (!int.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowLeadingWhite | NumberStyles.AllowTrailingWhite,
                        CultureInfo.InvariantCulture, out var label))
                    throw Bad(lineNo, "label", text, "an int32 label");
                Label = label;
            }
            if (_decoder.Attributed) ParseAttributes(fields.Next(), lineNo);
        }

        private void ParseAttributes(ReadOnlySpan<char> text, long lineNo)
        {
            var kinds = _decoder.Attributes.Kinds;
            var delimiter = _decoder.AttrDelimiter.AsSpan();
            var count = CountParts(text, delimiter);
            if (count != kinds.Count)
                throw new GraphInputException(_path, lineNo, "attributes",
                    $"'{text.ToString()}' holds {count} attributes split by \"{_decoder.AttrDelimiter}\"; the decoder declares {kinds.Count} " +
                    $"({string.Join(", ", _decoder.AttrTypes)}).");

            int ints = 0, floats = 0, strings = 0;
            var rest = text;
            for (var k = 0; k < kinds.Count; k++)
            {
                var at = rest.IndexOf(delimiter);
                var value = at < 0 ? rest : rest[..at];
                rest = at < 0 ? default : rest[(at + delimiter.Length)..];
                switch (kinds[k])
                {
                    case AttributeKind.Int:
                        if (!long.TryParse(value, NumberStyles.AllowLeadingSign | NumberStyles.AllowLeadingWhite | NumberStyles.AllowTrailingWhite,
                                CultureInfo.InvariantCulture, out _ints[ints++]))
                            throw BadAttribute(lineNo, k, value, "an int64");
                        break;
                    case AttributeKind.Float:
                        if (!float.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out _floats[floats++]))
                            throw BadAttribute(lineNo, k, value, "a float");
                        break;
                    default:
                        _strings[strings++] = value.ToString();
                        break;
                }
            }
        }

        private static int CountParts(ReadOnlySpan<char> text, ReadOnlySpan<char> delimiter)
        {
            var count = 1;
            for (var at = text.IndexOf(delimiter); at >= 0; at = text.IndexOf(delimiter))
            {
                count++;
                text = text[(at + delimiter.Length)..];
            }
            return count;
        }

        private GraphInputException Bad(long lineNo, string field, ReadOnlySpan<char> text, string what) =>
            new(_path, lineNo, field, $"'{text.ToString()}' is not {what}.");

        private GraphInputException BadAttribute(long lineNo, int index, ReadOnlySpan<char> text, string what) =>
            new(_path, lineNo, "attributes",
                $"attribute {index + 1} ({_decoder.AttrTypes[index]}) is '{text.ToString()}', not {what}.");
    }
}
