// CREATE TABLE statements for the Hive-layout tables and a CGDF directory, so Spark/Hive can register them.
using System.Text;
using GraphActors.Graph.Cgdf;
using Parquet;
using Parquet.Schema;

namespace GraphActors.Graph.Tables;

/// <summary>
/// HiveQL (also Spark SQL) for what GraphActors reads and writes: every <c>nodes_*</c>, <c>edges_*</c> and
/// <c>labels_*</c> table under a root as an external table partitioned by <c>dt</c> (then <c>MSCK REPAIR TABLE</c> to
/// pick up the partitions), and each node and edge folder of a finished CGDF as an external table. Columns come from
/// the Parquet files themselves (the first data file of the folder), so the statements match what is on disk.
/// </summary>
public static class HiveDdl
{
    public static string For(string tablesRoot, string dt, string? cgdfDirectory)
    {
        var sql = new StringBuilder();
        sql.Append("-- Hive-layout tables under ").Append(Path.GetFullPath(tablesRoot)).Append(" (partition dt=").Append(dt).AppendLine(")");
        foreach (var t in HiveLayout.Tables(tablesRoot, dt))
        {
            HiveTableReader.RequirePartition(t);
            var file = t.Files.FirstOrDefault()
                ?? throw new GraphInputException(t.Directory, 0, null, "no part-*.parquet file to read the columns from.");
            var location = Path.GetFullPath(Path.Combine(t.Root, t.Table));
            Table(sql, t.Table, Columns(file), location, partitioned: true);
            sql.Append("MSCK REPAIR TABLE ").Append(Quote(t.Table)).AppendLine(";");
        }
        if (cgdfDirectory is null) return sql.ToString();

        sql.AppendLine();
        if (!File.Exists(Path.Combine(cgdfDirectory, CgdfMetadata.FileName)))
        {
            sql.Append("-- no finished CGDF at ").Append(Path.GetFullPath(cgdfDirectory)).AppendLine(" yet: run etl first for its tables");
            return sql.ToString();
        }
        var meta = CgdfMetadata.Load(cgdfDirectory);
        sql.Append("-- CGDF ").Append(meta.GraphName).Append(" at ").Append(Path.GetFullPath(cgdfDirectory)).AppendLine();
        foreach (var n in meta.NodeTypes)
            Folder(sql, $"{meta.GraphName}_node_{n.Name}", CgdfLayout.NodeDirectory(cgdfDirectory, n.Name));
        foreach (var e in meta.EdgeTypes)
            Folder(sql, $"{meta.GraphName}_edge_{e.Type.DirectoryName}", CgdfLayout.EdgeDirectory(cgdfDirectory, e.Type));
        return sql.ToString();
    }

    private static void Folder(StringBuilder sql, string table, string directory)
    {
        var file = CgdfLayout.PartFiles(directory).FirstOrDefault();
        if (file is null) throw new GraphInputException(directory, 0, null, "no part-*.parquet file to read the columns from.");
        Table(sql, Identifier(table), Columns(file), Path.GetFullPath(directory), partitioned: false);
    }

    private static void Table(StringBuilder sql, string name, IReadOnlyList<(string Name, string Type)> columns, string location, bool partitioned)
    {
        sql.Append("CREATE EXTERNAL TABLE IF NOT EXISTS ").Append(Quote(name)).AppendLine(" (");
        for (var i = 0; i < columns.Count; i++)
            sql.Append("  ").Append(Quote(columns[i].Name)).Append(' ').Append(columns[i].Type).AppendLine(i + 1 < columns.Count ? "," : "");
        sql.AppendLine(")");
        if (partitioned) sql.AppendLine("PARTITIONED BY (`dt` STRING)");
        sql.AppendLine("STORED AS PARQUET");
        sql.Append("LOCATION '").Append(new Uri(location).AbsoluteUri.Replace("'", "%27", StringComparison.Ordinal)).AppendLine("';");
    }

    /// <summary>The top-level columns of a Parquet file as Hive types.</summary>
    public static IReadOnlyList<(string Name, string Type)> Columns(string parquetFile)
    {
        ParquetSchema schema;
        try
        {
            using var stream = File.OpenRead(parquetFile);
            var reader = ParquetReader.CreateAsync(stream).GetAwaiter().GetResult();
            schema = reader.Schema;
            reader.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new GraphInputException(parquetFile, 0, null, $"not a readable Parquet file: {e.Message}", e);
        }
        return schema.Fields.Select(f => (f.Name, HiveType(parquetFile, f))).ToArray();
    }

    private static string HiveType(string file, Field field) => field switch
    {
        ListField list => $"ARRAY<{HiveType(file, list.Item)}>",
        DataField data when data.ClrType == typeof(ReadOnlyMemory<char>) => "STRING", // how Parquet.Net surfaces UTF-8 strings
        DataField data when data.ClrType == typeof(byte[]) => "BINARY",
        DataField data => Type.GetTypeCode(Nullable.GetUnderlyingType(data.ClrType) ?? data.ClrType) switch
        {
            TypeCode.Int64 => "BIGINT",
            TypeCode.Int32 => "INT",
            TypeCode.Int16 => "SMALLINT",
            TypeCode.SByte or TypeCode.Byte => "TINYINT",
            TypeCode.Single => "FLOAT",
            TypeCode.Double => "DOUBLE",
            TypeCode.Boolean => "BOOLEAN",
            TypeCode.String => "STRING",
            _ => throw new GraphInputException(file, 0, field.Name, $"type {data.ClrType.Name} has no Hive column type here."),
        },
        _ => throw new GraphInputException(file, 0, field.Name, $"a {field.SchemaType} column has no Hive column type here."),
    };

    private static string Quote(string identifier) => "`" + identifier.Replace("`", "``", StringComparison.Ordinal) + "`";

    /// <summary>Hive table names: letters, digits and underscores.</summary>
    private static string Identifier(string name)
    {
        var chars = name.ToCharArray();
        for (var i = 0; i < chars.Length; i++) if (!char.IsAsciiLetterOrDigit(chars[i]) && chars[i] != '_') chars[i] = '_';
        return new string(chars);
    }
}
