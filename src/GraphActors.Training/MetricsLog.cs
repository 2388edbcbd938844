// Per-epoch metrics as CSV and the training curve as a hand-written SVG.
using System.Globalization;
using System.Text;
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

/// <summary>Loss (left axis) and train/validation metric (right axis, 0–1) against epoch.</summary>
public static class TrainingCurve
{
    public static void WriteSvg(string path, IReadOnlyList<EpochReport> history, string metric)
    {
        const double W = 720, H = 360, L = 60, R = 60, T = 30, B = 45;
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(inv, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" font-family=\"sans-serif\" font-size=\"12\">\n");
        sb.Append(inv, $"<rect width=\"{W}\" height=\"{H}\" fill=\"white\"/>\n");
        var lastEpoch = history.Count == 0 ? 1 : Math.Max(1, history.Max(h => h.Epoch));
        var firstEpoch = history.Count == 0 ? 0 : history.Min(h => h.Epoch);
        var maxLoss = history.Count == 0 ? 1 : Math.Max(1e-9, history.Max(h => h.Loss));
        double X(int e) => L + (W - L - R) * (e - firstEpoch) / Math.Max(1, lastEpoch - firstEpoch);
        double YLoss(double v) => T + (H - T - B) * (1 - v / maxLoss);
        double YMetric(double v) => T + (H - T - B) * (1 - Math.Clamp(v, 0, 1));
        sb.Append(inv, $"<line x1=\"{L}\" y1=\"{H - B}\" x2=\"{W - R}\" y2=\"{H - B}\" stroke=\"black\"/><line x1=\"{L}\" y1=\"{T}\" x2=\"{L}\" y2=\"{H - B}\" stroke=\"black\"/><line x1=\"{W - R}\" y1=\"{T}\" x2=\"{W - R}\" y2=\"{H - B}\" stroke=\"black\"/>\n");
        for (var i = 0; i <= 4; i++)
        {
            var f = i / 4.0;
            var y = T + (H - T - B) * (1 - f);
            sb.Append(inv, $"<line x1=\"{L}\" y1=\"{y:F1}\" x2=\"{W - R}\" y2=\"{y:F1}\" stroke=\"#eee\"/>");
            sb.Append(inv, $"<text x=\"{L - 6}\" y=\"{y + 4:F1}\" text-anchor=\"end\">{maxLoss * f:G3}</text>");
            sb.Append(inv, $"<text x=\"{W - R + 6}\" y=\"{y + 4:F1}\">{f:F2}</text>\n");
        }
        sb.Append(inv, $"<text x=\"{L}\" y=\"{H - B + 18}\" text-anchor=\"middle\">{firstEpoch}</text><text x=\"{W - R}\" y=\"{H - B + 18}\" text-anchor=\"middle\">{lastEpoch}</text>");
        sb.Append(inv, $"<text x=\"{(W) / 2}\" y=\"{H - 8}\" text-anchor=\"middle\">epoch</text>\n");
        void Line(IEnumerable<(int E, double V)> points, Func<double, double> y, string color, string label, int slot)
        {
            var pts = string.Join(" ", points.Select(p => string.Create(inv, $"{X(p.E):F1},{y(p.V):F1}")));
            if (pts.Length > 0) sb.Append(inv, $"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{pts}\"/>\n");
            sb.Append(inv, $"<rect x=\"{L + 10 + slot * 170}\" y=\"8\" width=\"12\" height=\"12\" fill=\"{color}\"/><text x=\"{L + 26 + slot * 170}\" y=\"18\">{label}</text>\n");
        }
        Line(history.Select(h => (h.Epoch, h.Loss)), YLoss, "#d62728", "loss (left axis)", 0);
        Line(history.Select(h => (h.Epoch, h.TrainMetric)), YMetric, "#1f77b4", $"train {metric} (right)", 1);
        Line(history.Where(h => h.ValMetric is not null).Select(h => (h.Epoch, h.ValMetric!.Value)), YMetric, "#2ca02c", $"val {metric} (right)", 2);
        sb.Append("</svg>\n");
        AtomicFile.WriteAllText(path, sb.ToString());
    }
}
