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
        var dim = new Option<int>("--feature-dim", "--dim") { DefaultValueFactory = _ => 32 };
        var duckdb = new Option<string?>("--duckdb")
        {
            Description = "A folder where `npm install @duckdb/node-api` was run: DuckDB (1 thread) reads and sums the same files as a second peer (needs node)",
        };
        var cmd = new Command("etl", "ETL rows/s vs a plain Parquet.Net read of the same generated tables (default ~1M nodes / 10M edges), per table; optionally vs DuckDB");
        foreach (var o in new Option[] { work, users, items, clicks, swings, dim, duckdb }) cmd.Options.Add(o);
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
            var perTable = new List<(string Table, long Rows, double Seconds)>();
            var clock = Stopwatch.StartNew();
            foreach (var t in HiveLayout.Tables(tables, dt).Where(t => t.Kind != HiveTableKind.LabelNames))
            {
                var c = Stopwatch.StartNew();
                var n = PlainRead(t.Files);
                perTable.Add((t.Table, n, c.Elapsed.TotalSeconds));
            }
            var plainRows = perTable.Sum(t => t.Rows);
            var plainSeconds = clock.Elapsed.TotalSeconds;

            var etlLog = new StringWriter();
            clock.Restart();
            var s = HiveToCgdf.Run(new EtlOptions(tables, dt, Path.Combine(root, "cgdf")) { Progress = etlLog });
            var etlSeconds = clock.Elapsed.TotalSeconds;
            Console.Error.Write(etlLog.ToString());

            var duck = pr.GetValue(duckdb) is { } modules ? DuckDbRead(modules, HiveLayout.Tables(tables, dt).Where(t => t.Kind != HiveTableKind.LabelNames).ToArray()) : null;

            var plainRate = plainRows / plainSeconds;
            var etlRate = s.TotalRowsRead / etlSeconds;
            Console.WriteLine($"plain Parquet.Net read: {plainRows:N0} rows in {plainSeconds:F2} s = {plainRate:N0} rows/s");
            Console.WriteLine($"etl (read+validate+map+write CGDF): {s.TotalRowsRead:N0} rows in {etlSeconds:F2} s = {etlRate:N0} rows/s");
            Console.WriteLine($"ratio etl/plain read: {etlRate / plainRate:F2}");
            Console.WriteLine($"{"table",-16} {"rows",12} {"plain rows/s",14} {"duckdb rows/s",14}");
            foreach (var t in perTable)
            {
                var d = duck?.FirstOrDefault(x => x.Table == t.Table);
                Console.WriteLine($"{t.Table,-16} {t.Rows,12:N0} {t.Rows / t.Seconds,14:N0} {(d is { } x ? (x.Rows / x.Seconds).ToString("N0") : "-"),14}");
            }
            Console.WriteLine("(the etl's own per-table rates are on stderr: `etl: <table> … rows/s done in …`)");
            if (duck is not null)
            {
                var duckRate = duck.Sum(d => d.Rows) / duck.Sum(d => d.Seconds);
                Console.WriteLine($"duckdb (1 thread) read+sum: {duck.Sum(d => d.Rows):N0} rows in {duck.Sum(d => d.Seconds):F2} s = {duckRate:N0} rows/s; ratio etl/duckdb: {etlRate / duckRate:F2}");
            }
            Console.WriteLine($"peak working set: {Process.GetCurrentProcess().PeakWorkingSet64 / 1e6:F0} MB");
        }));
        return cmd;
    }

    // DuckDB reads and sums every column of each table on one thread (lists by list_sum, strings by length): the query
    // cannot be answered from the footer, so every value is decoded. Run by node from the given npm folder.
    private const string DuckDbScript = """
        import { createRequire } from 'node:module';
        const require = createRequire(process.argv[2] + '/');
        const { DuckDBInstance } = require('@duckdb/node-api');
        const tables = JSON.parse(process.argv[3]);
        const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
        const con = await instance.connect();
        const out = [];
        for (const t of tables) {
          const list = '[' + t.files.map(f => "'" + f.replaceAll("'", "''") + "'").join(',') + ']';
          const source = `read_parquet(${list}, hive_partitioning = false)`;
          const cols = (await con.runAndReadAll(`DESCRIBE SELECT * FROM ${source}`)).getRowObjects();
          const terms = cols.map(c => {
            const n = '"' + c.column_name.replaceAll('"', '""') + '"';
            if (c.column_type.endsWith('[]')) return `coalesce(list_sum(${n}), 0)`;
            if (c.column_type === 'VARCHAR') return `coalesce(length(${n}), 0)`;
            if (c.column_type === 'BOOLEAN') return `coalesce(${n}::INT, 0)`;
            if (/^(U?(BIG|SMALL|TINY)?INT(EGER)?|HUGEINT|DOUBLE|FLOAT|REAL|DECIMAL.*)$/.test(c.column_type)) return `coalesce(${n}::DOUBLE, 0)`;
            return `coalesce(length(${n}::VARCHAR), 0)`;
          });
          const start = performance.now();
          const r = (await con.runAndReadAll(`SELECT count(*)::BIGINT AS n, sum(${terms.join(' + ')}) AS s FROM ${source}`)).getRowObjects()[0];
          out.push({ table: t.table, rows: Number(r.n), seconds: (performance.now() - start) / 1000 });
        }
        console.log(JSON.stringify(out));
        """;

    private sealed record DuckDbTable(string Table, long Rows, double Seconds);

    private static List<DuckDbTable> DuckDbRead(string modules, HiveTablePartition[] tables)
    {
        var folder = Path.GetFullPath(modules);
        if (!Directory.Exists(Path.Combine(folder, "node_modules", "@duckdb", "node-api")))
            throw new GraphActors.Graph.BadInputException($"--duckdb {modules}: no node_modules/@duckdb/node-api there (run `npm install --prefix {modules} @duckdb/node-api`).");
        var script = Path.Combine(Path.GetTempPath(), $"ga-bench-duckdb-{Guid.NewGuid():N}.mjs");
        File.WriteAllText(script, DuckDbScript);
        try
        {
            var arg = System.Text.Json.JsonSerializer.Serialize(tables.Select(t => new { table = t.Table, files = t.Files.Select(Path.GetFullPath).ToArray() }));
            var psi = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in new[] { script, folder, arg }) psi.ArgumentList.Add(a);
            using var node = Process.Start(psi) ?? throw new InvalidOperationException("node did not start.");
            var stdout = node.StandardOutput.ReadToEndAsync();
            var stderr = node.StandardError.ReadToEndAsync();
            if (!node.WaitForExit(TimeSpan.FromMinutes(30))) { node.Kill(true); throw new TimeoutException("DuckDB's read did not finish within 30 minutes."); }
            if (node.ExitCode != 0) throw new InvalidOperationException($"node exited with {node.ExitCode}: {stderr.Result}");
            using var doc = System.Text.Json.JsonDocument.Parse(stdout.Result.Trim().Split('\n')[^1]);
            return doc.RootElement.EnumerateArray().Select(e => new DuckDbTable(e.GetProperty("table").GetString()!, e.GetProperty("rows").GetInt64(), e.GetProperty("seconds").GetDouble())).ToList();
        }
        finally
        {
            File.Delete(script);
        }
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
