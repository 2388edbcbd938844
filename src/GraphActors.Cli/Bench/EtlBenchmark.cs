// graphactors bench etl: ETL throughput beside a plain Parquet.Net read of the same files.
using System.CommandLine;
using System.Diagnostics;
using GraphActors.Cli.Commands;
using GraphActors.Graph.Cgdf;
using GraphActors.Graph.Tables;
using Parquet;
using Parquet.Schema;

namespace GraphActors.Cli.Bench;

public static class EtlBenchmark
{
    public static Command Create()
    {
        var work = new Option<string>("--work") { Description = "Scratch folder (tables and CGDF go here)", DefaultValueFactory = _ => Path.Combine(Path.GetTempPath(), "graphactors-bench-etl") };
        var users = new Option<int>("--users") { DefaultValueFactory = _ => 600_000 };
        var items = new Option<int>("--items") { DefaultValueFactory = _ => 400_000 };
        var clicks = new Option<long>("--clicks") { DefaultValueFactory = _ => 7_000_000 };
        var swings = new Option<long>("--swings") { DefaultValueFactory = _ => 3_000_000 };
        var dim = new Option<int>("--feature-dim") { DefaultValueFactory = _ => 32 };
        var cmd = new Command("etl", "ETL rows/s vs a plain Parquet.Net read of the same generated tables (default ~1M nodes / 10M edges)");
        foreach (var o in new Option[] { work, users, items, clicks, swings, dim }) cmd.Options.Add(o);
        cmd.SetAction(pr => CliRun.Guarded(() =>
        {
            var root = pr.GetValue(work)!;
            var tables = Path.Combine(root, "tables");
            const string dt = "2024-01-01";
            if (!Directory.Exists(tables))
            {
                var g = SyntheticGenerator.Run(new GenerateOptions(tables)
                {
                    Users = pr.GetValue(users), Items = pr.GetValue(items), Clicks = pr.GetValue(clicks), Swings = pr.GetValue(swings), FeatureDim = pr.GetValue(dim), Dt = dt,
                }, Console.Error);
                Console.WriteLine($"generated in {g.Seconds:F1} s");
            }
            var files = HiveLayout.Tables(tables, dt).Where(t => t.Kind != HiveTableKind.LabelNames).SelectMany(t => t.Files).ToArray();
            Console.WriteLine($"{files.Length} files, {files.Sum(f => new FileInfo(f).Length) / 1e6:F0} MB");

            // Warm both paths once on the smallest file, then measure.
            PlainRead(files.OrderBy(f => new FileInfo(f).Length).Take(1));
            var clock = Stopwatch.StartNew();
            var plainRows = PlainRead(files);
            var plainSeconds = clock.Elapsed.TotalSeconds;

            clock.Restart();
            var s = HiveToCgdf.Run(new EtlOptions(tables, dt, Path.Combine(root, "cgdf")) { Progress = Console.Error });
            var etlSeconds = clock.Elapsed.TotalSeconds;

            var plainRate = plainRows / plainSeconds;
            var etlRate = s.TotalRowsRead / etlSeconds;
            Console.WriteLine($"plain Parquet.Net read: {plainRows:N0} rows in {plainSeconds:F2} s = {plainRate:N0} rows/s");
            Console.WriteLine($"etl (read+validate+map+write CGDF): {s.TotalRowsRead:N0} rows in {etlSeconds:F2} s = {etlRate:N0} rows/s");
            Console.WriteLine($"ratio etl/plain read: {etlRate / plainRate:F2}");
            Console.WriteLine($"peak working set: {Process.GetCurrentProcess().PeakWorkingSet64 / 1e6:F0} MB");
        }));
        return cmd;
    }

    /// <summary>Reads every column of every row group with Parquet.Net and nothing else.</summary>
    private static long PlainRead(IEnumerable<string> files)
    {
        long rows = 0;
        foreach (var f in files)
        {
            var reader = ParquetReader.CreateAsync(f).GetAwaiter().GetResult();
            try
            {
                var fields = reader.Schema.GetDataFields();
                for (var g = 0; g < reader.RowGroupCount; g++)
                {
                    var rg = reader.OpenRowGroupReader(g);
                    var n = (int)rg.RowCount;
                    foreach (var field in fields) ReadColumn(rg, field, n);
                    rows += n;
                }
            }
            finally
            {
                reader.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
        }
        return rows;
    }

    private static void ReadColumn(ParquetRowGroupReader rg, DataField field, int rows)
    {
        if (field.MaxRepetitionLevel > 0)
        {
            var count = (int)rg.GetMetadata(field)!.MetaData!.NumValues;
            rg.ReadRawAsync<float>(field, new float[count], new int[count], new int[count]).GetAwaiter().GetResult();
        }
        else if (field.ClrType == typeof(long)) rg.ReadAsync<long>(field, new long?[rows]).GetAwaiter().GetResult();
        else if (field.ClrType == typeof(int)) rg.ReadAsync<int>(field, new int?[rows]).GetAwaiter().GetResult();
        else if (field.ClrType == typeof(float)) rg.ReadAsync<float>(field, new float?[rows]).GetAwaiter().GetResult();
        else if (field.ClrType == typeof(bool)) rg.ReadAsync<bool>(field, new bool?[rows]).GetAwaiter().GetResult();
        else rg.ReadAsync(field, new string[rows]).GetAwaiter().GetResult();
    }
}
