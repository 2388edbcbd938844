using GraphActors.Graph.Tables;

namespace GraphActors.Graph.Tests.Etl;

/// <summary>
/// Table writers on several threads at once (parallel ETL, generators, test classes running side by side) write files
/// every reader decodes. Parquet.Net sets a field's definition level when a schema takes the field (0, then +1 for an
/// optional one): writers that shared field objects could see an optional column as required while another thread
/// built its schema, and wrote it without definition levels — a file whose row group no reader can decode.
/// </summary>
public sealed class ConcurrentWriterTests
{
    [Fact]
    public void Edge_tables_written_on_four_threads_while_schemas_are_built_read_back_row_for_row()
    {
        using var dir = new TempDir();
        using var stop = new CancellationTokenSource();
        // Schemas built in a tight loop beside the writers: each new writer builds one.
        var builder = Task.Run(() =>
        {
            var n = 0;
            while (!stop.IsCancellationRequested)
                using (new HiveEdgeTableWriter(dir.Sub("scratch-" + n++ % 4), "e", "2024-01-01")) { }
        });
        const int tables = 24, rows = 2_000;
        try
        {
            Parallel.For(0, tables, new ParallelOptions { MaxDegreeOfParallelism = 4 }, t =>
            {
                using var w = new HiveEdgeTableWriter(dir.Sub($"t{t}"), "click", "2024-01-01", rowGroupRows: 20);
                for (var i = 0; i < rows; i++) w.Add(t * 100_000L + i, i % 7 == 0 ? null : i, "user", "item", i % 5 == 0 ? null : i * 0.5f);
                w.Complete();
            });
        }
        finally
        {
            stop.Cancel();
            builder.Wait();
        }
        for (var t = 0; t < tables; t++)
        {
            var i = 0;
            foreach (var b in HiveTableReader.ReadEdges(new HiveTablePartition(dir.Sub($"t{t}"), "edges_click", HiveTableKind.Edges, "2024-01-01")))
                for (var r = 0; r < b.Rows; r++, i++)
                {
                    Assert.Equal(t * 100_000L + i, b.Src[r]);
                    Assert.Equal(i % 7 == 0 ? null : i, b.Dst[r]);
                    Assert.Equal(i % 5 == 0 ? null : i * 0.5f, b.Weights[r]);
                }
            Assert.Equal(rows, i);
        }
    }
}
