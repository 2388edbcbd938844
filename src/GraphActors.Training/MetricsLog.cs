// Per-epoch metrics as CSV and the training curve as a chart (SVG and PNG).
using System.Globalization;
using GraphActors.Graph;

namespace GraphActors.Training;

/// <summary>metrics.csv in a run directory: one row per epoch, appended as epochs finish (a resumed run keeps the rows before it).</summary>
public sealed class MetricsLog
{
    public const string FileName = "metrics.csv";
    private const string Header = "epoch,loss,train_metric,val_metric,seconds,batches_per_s,metric";
    private readonly string _path;

    public MetricsLog(string directory, string metric, bool append)
    {
        Directory.CreateDirectory(directory);
        _path = Path.Combine(directory, FileName);
        if (append && File.Exists(_path)) Existing = Read(_path);
        else File.WriteAllText(_path, Header + "\n");
    }

    public IReadOnlyList<EpochReport> Existing { get; } = [];

    public void Append(EpochReport r) =>
        File.AppendAllText(_path, string.Create(CultureInfo.InvariantCulture,
            $"{r.Epoch},{r.Loss:G6},{r.TrainMetric:G6},{(r.ValMetric is { } v ? v.ToString("G6", CultureInfo.InvariantCulture) : "")},{r.Seconds:G6},{r.BatchesPerSecond:G6},{r.MetricName}\n"));

    public static IReadOnlyList<EpochReport> Read(string path) =>
        File.ReadLines(path).Skip(1).Where(l => l.Length > 0).Select(l =>
        {
            var f = l.Split(',');
            double D(string s) => double.Parse(s, CultureInfo.InvariantCulture);
            return new EpochReport(int.Parse(f[0], CultureInfo.InvariantCulture), D(f[1]), D(f[2]), f[3].Length == 0 ? null : D(f[3]), D(f[4]), D(f[5]), 0, f[6]);
        }).ToList();
}

/// <summary>
/// Loss (left axis) and train/validation metric (right axis) against epoch, whole-epoch ticks, the best epoch marked;
/// written as curve.svg and curve.png.
/// </summary>
public static class TrainingCurve
{
    public const string FileName = "curve.svg";

    public static ScottPlot.Plot Chart(IReadOnlyList<EpochReport> history, string metric, int bestEpoch)
    {
        var plot = new ScottPlot.Plot();
        var epochs = new double[history.Count];
        var loss = new double[history.Count];
        var train = new double[history.Count];
        for (var i = 0; i < history.Count; i++) (epochs[i], loss[i], train[i]) = (history[i].Epoch, history[i].Loss, history[i].TrainMetric);
        var lossLine = plot.Add.Scatter(epochs, loss);
        lossLine.LegendText = "loss (left)";
        var trainLine = plot.Add.Scatter(epochs, train);
        trainLine.LegendText = $"train {metric} (right)";
        trainLine.Axes.YAxis = plot.Axes.Right;
        var validated = new List<EpochReport>(history.Count);
        foreach (var h in history) if (h.ValMetric is not null) validated.Add(h);
        if (validated.Count > 0)
        {
            var valX = new double[validated.Count];
            var valY = new double[validated.Count];
            for (var i = 0; i < validated.Count; i++) (valX[i], valY[i]) = (validated[i].Epoch, validated[i].ValMetric!.Value);
            var valLine = plot.Add.Scatter(valX, valY);
            valLine.LegendText = $"validation {metric} (right)";
            valLine.Axes.YAxis = plot.Axes.Right;
        }
        var best = history.FirstOrDefault(h => h.Epoch == bestEpoch);
        if (best is not null)
        {
            var marker = plot.Add.VerticalLine(bestEpoch);
            marker.LinePattern = ScottPlot.LinePattern.Dashed;
            marker.LegendText = best.ValMetric is { } v
                ? string.Create(CultureInfo.InvariantCulture, $"best epoch {bestEpoch} (validation {metric} {v:F4})")
                : $"best epoch {bestEpoch}";
        }
        if (history.Count > 0) plot.Axes.Bottom.TickGenerator = Graph.Charts.IntegerTicks(history[0].Epoch, history[^1].Epoch);
        plot.Title("Training");
        plot.XLabel("epoch");
        plot.YLabel("loss");
        plot.Axes.Right.Label.Text = metric;
        plot.ShowLegend(ScottPlot.Edge.Bottom); // under the axes, never over the curves
        return plot;
    }

    /// <summary>curve.svg and curve.png in <paramref name="directory"/>.</summary>
    public static (string Svg, string Png) Write(string directory, IReadOnlyList<EpochReport> history, string metric, int bestEpoch) =>
        Graph.Charts.Write(Chart(history, metric, bestEpoch), Path.Combine(directory, FileName));
}
