// Column-level Parquet.Net helpers shared by the Hive-table and CGDF readers and writers.
using Parquet;
using Parquet.Schema;

namespace GraphActors.Graph.Tables;

/// <summary>
/// A LIST&lt;FLOAT&gt; column of one row group, flattened: row i's values are
/// <c>Values[Offsets[i]..Offsets[i+1]]</c>; <c>IsNull[i]</c> marks a null list (an empty list is not null).
/// </summary>
public readonly record struct FloatLists(float[] Values, int[] Offsets, bool[] IsNull)
{
    public int Count => Offsets.Length - 1;
    public int Length(int row) => Offsets[row + 1] - Offsets[row];
    public ReadOnlySpan<float> Row(int row) => Values.AsSpan(Offsets[row], Offsets[row + 1] - Offsets[row]);
}

/// <summary>
/// The repetition and definition levels of row groups of up to <see cref="Rows"/> lists of exactly <see cref="Dim"/>
/// values: the same for every such group (a prefix for a shorter one), so they are made once instead of two fresh int
/// arrays beside every row group's values. Never written after construction, so a writer that keeps a reference to
/// them past a call sees the same levels.
/// </summary>
internal sealed class FixedListLevels
{
    public FixedListLevels(ListField list, int rows, int dim)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dim, 1); // an empty list takes one level entry, not dim
        Rows = rows;
        Dim = dim;
        var count = checked(rows * dim);
        var def = new int[count];
        var rep = new int[count];
        Array.Fill(def, ParquetColumns.Item(list).MaxDefinitionLevel);
        Array.Fill(rep, 1);
        for (var r = 0; r < rows; r++) rep[r * dim] = 0;
        Definition = def;
        Repetition = rep;
    }

    public int Rows { get; }
    public int Dim { get; }
    public ReadOnlyMemory<int> Definition { get; }
    public ReadOnlyMemory<int> Repetition { get; }
}

internal static class ParquetColumns
{
    /// <summary>The standard 3-level LIST of FLOAT (<c>optional group name (LIST) { repeated group list { required float element } }</c>) that Spark and pyarrow write.</summary>
    public static ListField FloatList(string name) => new(name, new DataField<float>("element"));

    public static DataField Item(ListField list) => (DataField)list.Item;

    /// <summary>Writes one list per row; <paramref name="offsets"/> has rows + 1 entries; rows in <paramref name="nullRows"/> are written as null lists.</summary>
    public static async Task WriteFloatListsAsync(ParquetRowGroupWriter rg, ListField list, ReadOnlyMemory<float> values,
        ReadOnlyMemory<int> offsets, ReadOnlyMemory<bool> nullRows = default)
    {
        var item = Item(list);
        var rows = offsets.Length - 1;
        var maxDef = item.MaxDefinitionLevel;
        var levels = 0;
        var off = offsets.Span;
        for (var r = 0; r < rows; r++) levels += Math.Max(1, off[r + 1] - off[r]);
        var rep = new int[levels];
        var def = new int[levels];
        var nulls = nullRows.Span;
        var k = 0;
        for (var r = 0; r < rows; r++)
        {
            var n = off[r + 1] - off[r];
            if (n == 0)
            {
                rep[k] = 0;
                def[k++] = !nulls.IsEmpty && nulls[r] ? 0 : maxDef - 1;
                continue;
            }
            rep[k] = 0;
            def[k++] = maxDef;
            for (var j = 1; j < n; j++) { rep[k] = 1; def[k++] = maxDef; }
        }
        await rg.WriteAllPartsAsync(item, values, def, rep, CancellationToken.None);
    }

    /// <summary>Writes <paramref name="rows"/> lists of exactly <paramref name="dim"/> values each (row-major <paramref name="values"/>).</summary>
    public static Task WriteFixedFloatListsAsync(ParquetRowGroupWriter rg, ListField list, ReadOnlyMemory<float> values, int rows, int dim)
    {
        var offsets = new int[rows + 1];
        for (var r = 0; r <= rows; r++) offsets[r] = r * dim;
        return WriteFloatListsAsync(rg, list, values[..(rows * dim)], offsets);
    }

    /// <summary>
    /// Writes <paramref name="rows"/> lists of exactly <paramref name="levels"/>' width each, with levels made once
    /// for every row group of that width (see <see cref="FixedListLevels"/>).
    /// </summary>
    public static Task WriteFixedFloatListsAsync(ParquetRowGroupWriter rg, ListField list, ReadOnlyMemory<float> values, int rows, FixedListLevels levels)
    {
        var count = rows * levels.Dim;
        if (rows > levels.Rows) throw new ArgumentOutOfRangeException(nameof(rows), rows, $"the levels were made for {levels.Rows} rows.");
        return rg.WriteAllPartsAsync(Item(list), values[..count], levels.Definition[..count], levels.Repetition[..count], CancellationToken.None);
    }

    /// <summary>Reads a LIST&lt;FLOAT&gt; column of one row group; <paramref name="item"/> is the list's leaf data field.</summary>
    public static async Task<FloatLists> ReadFloatListsAsync(ParquetRowGroupReader rg, DataField item, int rows)
    {
        var count = checked((int)rg.GetMetadata(item)!.MetaData!.NumValues);
        var values = new float[count];
        var def = new int[count];
        var rep = new int[count];
        await rg.ReadRawAsync<float>(item, values, def, rep);
        var maxDef = item.MaxDefinitionLevel;
        var offsets = new int[rows + 1];
        var isNull = new bool[rows];
        var row = -1;
        var v = 0;
        for (var i = 0; i < count; i++)
        {
            if (rep[i] == 0)
            {
                row++;
                if (row >= rows) throw new InvalidDataException($"Column '{item.Path}' holds more lists than the row group's {rows} rows.");
                offsets[row] = v;
                // def 0 on the first entry of a row: the list itself is null (maxDef - 1 is an empty list).
                if (def[i] == 0 && maxDef >= 2) isNull[row] = true;
            }
            if (def[i] == maxDef) v++;
        }
        if (row != rows - 1) throw new InvalidDataException($"Column '{item.Path}' holds {row + 1} lists for {rows} rows.");
        offsets[rows] = v;
        if (v < values.Length) Array.Resize(ref values, v);
        return new FloatLists(values, offsets, isNull);
    }

    /// <summary>Reads a scalar column whether the file declares it required or optional; nulls come back as null entries.</summary>
    public static async Task<T?[]> ReadNullableAsync<T>(ParquetRowGroupReader rg, DataField field, int rows) where T : struct
    {
        var result = new T?[rows];
        if (field.IsNullable)
        {
            await rg.ReadAsync<T>(field, result);
            return result;
        }
        var plain = new T[rows];
        await rg.ReadAsync<T>(field, plain);
        for (var i = 0; i < rows; i++) result[i] = plain[i];
        return result;
    }

    /// <summary>Reads a scalar column that is required in files we wrote; falls back to the nullable path (nulls as <paramref name="nullValue"/>).</summary>
    public static async Task<T[]> ReadAsync<T>(ParquetRowGroupReader rg, DataField field, int rows, T nullValue = default) where T : struct
    {
        var plain = new T[rows];
        if (!field.IsNullable)
        {
            await rg.ReadAsync<T>(field, plain);
            return plain;
        }
        var nullable = new T?[rows];
        await rg.ReadAsync<T>(field, nullable);
        for (var i = 0; i < rows; i++) plain[i] = nullable[i] ?? nullValue;
        return plain;
    }

    public static async Task<string?[]> ReadStringsAsync(ParquetRowGroupReader rg, DataField field, int rows)
    {
        var result = new string[rows];
        await rg.ReadAsync(field, result);
        return result;
    }

    /// <summary>Finds a top-level column's leaf data field by name (for a list, its element field); null when absent.</summary>
    public static DataField? Leaf(ParquetSchema schema, string column)
    {
        foreach (var f in schema.Fields)
        {
            if (f.Name != column) continue;
            return f switch
            {
                DataField d => d,
                ListField l when l.Item is DataField d => d,
                _ => null,
            };
        }
        return null;
    }

    /// <summary>Writes through a temp file in the same folder, renamed into place on success, deleted on failure.</summary>
    public static async Task WriteFileAtomicallyAsync(string path, Func<Stream, Task> write)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var temp = path + ".tmp-" + Guid.NewGuid().ToString("N");
        try
        {
            await using (var fs = new FileStream(temp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16))
                await write(fs);
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    public static void TryDelete(string path)
    {
        try { if (File.Exists(path)) File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
