// What a partitioning run produced: per-partition nodes, edges and cuts, and how balanced they are.
using System.Globalization;
using System.Text;
using GraphActors.Graph.Storage;

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

    /// <summary>A bar chart of nodes and out-edges per partition, as a standalone SVG.</summary>
    public string ToSvg()
    {
        const int barW = 28, gap = 18, chartH = 200, left = 60, top = 30;
        var groupW = 2 * barW + gap;
        var width = left + Parts * groupW + 40;
        var maxNodes = Math.Max(1, Rows.Max(r => r.Nodes_Total));
        var maxEdges = Math.Max(1, Rows.Max(r => r.OutEdges));
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(inv, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{chartH + top + 60}\" font-family=\"sans-serif\" font-size=\"11\">\n");
        sb.Append(inv, $"<text x=\"{left}\" y=\"18\" font-size=\"13\">{Method}, {Parts} parts: nodes (blue, max {maxNodes:N0}) and out-edges (orange, max {maxEdges:N0}); cut {CutFraction:P1}</text>\n");
        for (var p = 0; p < Rows.Count; p++)
        {
            var x = left + p * groupW;
            var hn = (int)Math.Round(chartH * (double)Rows[p].Nodes_Total / maxNodes);
            var he = (int)Math.Round(chartH * (double)Rows[p].OutEdges / maxEdges);
            var hc = (int)Math.Round(chartH * (double)Rows[p].CutEdges / maxEdges);
            sb.Append(inv, $"<rect x=\"{x}\" y=\"{top + chartH - hn}\" width=\"{barW}\" height=\"{hn}\" fill=\"#4c78a8\"/>\n");
            sb.Append(inv, $"<rect x=\"{x + barW}\" y=\"{top + chartH - he}\" width=\"{barW}\" height=\"{he}\" fill=\"#f58518\"/>\n");
            sb.Append(inv, $"<rect x=\"{x + barW}\" y=\"{top + chartH - hc}\" width=\"{barW}\" height=\"{hc}\" fill=\"#e45756\" opacity=\"0.8\"/>\n");
            sb.Append(inv, $"<text x=\"{x + barW}\" y=\"{top + chartH + 16}\" text-anchor=\"middle\">part {p}</text>\n");
        }
        sb.Append(inv, $"<line x1=\"{left - 4}\" y1=\"{top + chartH}\" x2=\"{width - 20}\" y2=\"{top + chartH}\" stroke=\"black\"/>\n");
        sb.Append(inv, $"<text x=\"{left}\" y=\"{top + chartH + 40}\">red: cut out-edges · node balance {NodeTotalBalance:F3} · edge balance {EdgeBalance:F3}</text>\n");
        sb.Append("</svg>\n");
        return sb.ToString();
    }
}
