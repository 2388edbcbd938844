// Renders a partition report as a Spectre.Console table.
using System.Globalization;
using GraphActors.Graph.Partitioning;
using Spectre.Console;

namespace GraphActors.Cli.Commands;

public static class PartitionReportView
{
    public static void Render(PartitionReport report, IAnsiConsole? console = null)
    {
        console ??= AnsiConsole.Console;
        var inv = CultureInfo.InvariantCulture;
        var table = new Table().Title($"{report.Method}, {report.Parts} partitions");
        table.AddColumn("part");
        foreach (var t in report.NodeTypes) table.AddColumn(new TableColumn($"nodes:{t}").RightAligned());
        table.AddColumn(new TableColumn("out-edges").RightAligned());
        table.AddColumn(new TableColumn("in-edges").RightAligned());
        table.AddColumn(new TableColumn("cut").RightAligned());
        foreach (var r in report.Rows)
        {
            var cells = new List<string> { r.Partition.ToString(inv) };
            cells.AddRange(report.NodeTypes.Select(t => r.Nodes[t].ToString("N0", inv)));
            cells.Add(r.OutEdges.ToString("N0", inv));
            cells.Add(r.InEdges.ToString("N0", inv));
            cells.Add(r.CutEdges.ToString("N0", inv));
            table.AddRow(cells.ToArray());
        }
        var balance = new List<string> { "[bold]max/mean[/]" };
        balance.AddRange(report.NodeTypes.Select(t => report.NodeBalance[t].ToString("F3", inv)));
        balance.Add(report.EdgeBalance.ToString("F3", inv));
        balance.Add("");
        balance.Add($"{report.CutFraction.ToString("P1", inv)}");
        table.AddRow(balance.ToArray());
        console.Write(table);
        console.MarkupLine(inv, $"edges {report.Edges:N0}, cut {report.CutEdges:N0} ({report.CutFraction:P2}), took {report.Elapsed.TotalSeconds:F2} s");
    }

    /// <summary>What <c>partition --update</c> did per node type, and where the new nodes went.</summary>
    public static void RenderUpdate(IReadOnlyList<UpdateCounts> counts, IAnsiConsole? console = null)
    {
        console ??= AnsiConsole.Console;
        var inv = CultureInfo.InvariantCulture;
        var table = new Table().Title("update: nodes by business id against the previous store");
        table.AddColumn("type");
        table.AddColumn(new TableColumn("kept (same id, same partition)").RightAligned());
        table.AddColumn(new TableColumn("new").RightAligned());
        table.AddColumn(new TableColumn("retired").RightAligned());
        table.AddColumn("new per partition");
        foreach (var c in counts)
            table.AddRow(c.Type, c.Kept.ToString("N0", inv), c.Added.ToString("N0", inv), c.Retired.ToString("N0", inv),
                c.AddedPerPartition.Length == 0 ? "" : string.Join(" ", c.AddedPerPartition.Select(n => n.ToString("N0", inv))));
        console.Write(table);
        if (counts.Any(c => c.Retired > 0))
            console.MarkupLine("[yellow]retired nodes are absent from the new graph: they keep their ids, features and business ids, have no edges and are in no split.[/]");
    }
}
