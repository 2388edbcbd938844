// What a partitioning run produced: per-partition nodes, edges and cuts, and how balanced they are.
using System.Globalization;
using GraphActors.Graph.Storage;
using ScottPlot;

namespace GraphActors.Graph.Partitioning;

/// <summary>One partition's row: nodes per type, out-edges (source owned), in-edges (destination owned), cut out-edges.</summary>
public sealed record PartitionReportRow(int Partition, IReadOnlyDictionary<string, int> Nodes, long Nodes_Total, long OutEdges, long InEdges, long CutEdges);

/// <summary>
/// The table a person reads after partitioning. Balance is max/mean over partitions (1.0 = perfect). The edge cut is
/// the number of edges whose endpoints have different owners (each counted once, at its source's partition).
/// </summary>
public sealed record PartitionReport(
    string Method,
    int Parts,
    IReadOnlyList<string> NodeTypes,
    IReadOnlyList<PartitionReportRow> Rows,
    long Edges,
    long CutEdges,
    IReadOnlyDictionary<string, double> NodeBalance,
    double NodeTotalBalance,
    double EdgeBalance,
    TimeSpan Elapsed,
    IReadOnlyList<(string Phase, TimeSpan Time)> Phases)
{
    public double CutFraction => Edges == 0 ? 0 : (double)CutEdges / Edges;

    public static PartitionReport From(StoreManifest m, TimeSpan elapsed, IReadOnlyList<(string, TimeSpan)> phases)
    {
        var types = m.NodeTypes.Select(n => n.Name).ToArray();
        var rows = m.Partitions.Select(p => new PartitionReportRow(p.Id, p.Nodes, p.Nodes.Values.Sum(x => (long)x),
            p.OutEdges.Values.Sum(), p.InEdges.Values.Sum(), p.CutEdges.Values.Sum())).ToArray();
        return new PartitionReport(m.Method, m.Parts, types, rows,
            rows.Sum(r => r.OutEdges), rows.Sum(r => r.CutEdges),
            types.ToDictionary(t => t, t => Balance(rows.Select(r => (double)r.Nodes[t]))),
            Balance(rows.Select(r => (double)r.Nodes_Total)),
            Balance(rows.Select(r => (double)r.OutEdges)),
            elapsed, phases);
    }

    /// <summary>max / mean; 1 when everything is empty.</summary>
    public static double Balance(IEnumerable<double> values)
    {
        var v = values.ToArray();
        var mean = v.Length == 0 ? 0 : v.Average();
        return mean == 0 ? 1 : v.Max() / mean;
    }

    /// <summary>
    /// The balance chart: per partition its nodes, out-edges and cut out-edges, each as a multiple of the mean over
    /// partitions (so all three share one axis and 1 is perfect balance; cut edges against the mean out-edges).
    /// </summary>
    public Plot Chart()
    {
        var plot = new Plot();
        (string Label, string Color, Func<PartitionReportRow, double> Value, double Mean)[] series =
        [
            ("nodes", "#4c78a8", r => r.Nodes_Total, Rows.Average(r => (double)r.Nodes_Total)),
            ("out-edges", "#f58518", r => r.OutEdges, Rows.Average(r => (double)r.OutEdges)),
            ("cut out-edges", "#e45756", r => r.CutEdges, Rows.Average(r => (double)r.OutEdges)),
        ];
        var bars = new List<Bar>(Rows.Count * series.Length);
        const double width = 0.8 / 3;
        for (var s = 0; s < series.Length; s++)
        {
            var (label, color, value, mean) = series[s];
            foreach (var row in Rows)
                bars.Add(new Bar
                {
                    Position = row.Partition + (s - 1) * width, Value = mean == 0 ? 0 : value(row) / mean, Size = width,
                    FillColor = ScottPlot.Color.FromHex(color), LineWidth = 0,
                });
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = label, FillColor = ScottPlot.Color.FromHex(color) });
        }
        plot.Add.Bars(bars.ToArray());
        var perfect = plot.Add.HorizontalLine(1);
        perfect.LinePattern = LinePattern.Dashed;
        perfect.Color = Colors.Black;
        perfect.LegendText = "perfect balance";
        plot.Axes.Bottom.TickGenerator = Charts.IntegerTicks(0, Parts - 1, p => $"part {p}");
        plot.Axes.Margins(bottom: 0);
        plot.Title($"{Method}, {Parts} partitions");
        plot.YLabel("÷ mean over partitions");
        plot.XLabel(string.Create(CultureInfo.InvariantCulture,
            $"node balance {NodeTotalBalance:F3} · edge balance {EdgeBalance:F3} · cut {CutFraction:P1} of {Edges:N0} edges"));
        plot.ShowLegend(Edge.Right); // beside the bars, never over them
        return plot;
    }
}
