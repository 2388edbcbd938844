// Reads the Prometheus text exposition the metrics port serves back into samples, for the status page's serving table.
using System.Globalization;

namespace GraphActors.Cluster.Status;

/// <summary>One sample line: a metric name, its labels in order, and the value.</summary>
public sealed record MetricSample(string Name, IReadOnlyList<KeyValuePair<string, string>> Labels, double Value)
{
    public string Label(string key)
    {
        foreach (var (k, v) in Labels)
            if (k == key) return v;
        return "";
    }
}

/// <summary>
/// The subset of the text format (version 0.0.4) that <see cref="GraphActors.Serving.ServingMetrics.Render"/> writes:
/// comment lines, <c>name value</c> and <c>name{k="v",…} value</c> with \\, \" and \n escapes. Reading the rendered
/// text keeps the status page's numbers the very ones the metrics port reports.
/// </summary>
public static class MetricsText
{
    public static List<MetricSample> Parse(string text)
    {
        var samples = new List<MetricSample>();
        var lineNo = 0;
        foreach (var raw in text.Split('\n'))
        {
            lineNo++;
            var line = raw.TrimEnd('\r');
            if (line.Length == 0 || line[0] == '#') continue;
            samples.Add(ParseLine(line, lineNo));
        }
        return samples;
    }

    private static MetricSample ParseLine(string line, int lineNo)
    {
        var i = 0;
        while (i < line.Length && line[i] != '{' && line[i] != ' ') i++;
        var name = line[..i];
        if (name.Length == 0) throw Bad(lineNo, line, "no metric name");
        var labels = new List<KeyValuePair<string, string>>();
        if (i < line.Length && line[i] == '{')
        {
            i++;
            while (true)
            {
                if (i >= line.Length) throw Bad(lineNo, line, "unterminated label set");
                if (line[i] == '}') { i++; break; }
                if (line[i] == ',') { i++; continue; }
                var eq = line.IndexOf('=', i);
                if (eq < 0 || eq + 1 >= line.Length || line[eq + 1] != '"') throw Bad(lineNo, line, "a label is not key=\"value\"");
                var key = line[i..eq];
                var value = new System.Text.StringBuilder();
                i = eq + 2;
                while (true)
                {
                    if (i >= line.Length) throw Bad(lineNo, line, $"unterminated value of label '{key}'");
                    var c = line[i++];
                    if (c == '"') break;
                    if (c == '\\' && i < line.Length)
                    {
                        var e = line[i++];
                        value.Append(e == 'n' ? '\n' : e);
                    }
                    else value.Append(c);
                }
                labels.Add(new(key, value.ToString()));
            }
        }
        var rest = line[i..].Trim();
        var space = rest.IndexOf(' '); // an optional timestamp follows the value
        var number = space < 0 ? rest : rest[..space];
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
            v = number switch
            {
                "NaN" => double.NaN,
                "+Inf" => double.PositiveInfinity,
                "-Inf" => double.NegativeInfinity,
                _ => throw Bad(lineNo, line, $"'{number}' is not a number"),
            };
        return new MetricSample(name, labels, v);
    }

    private static FormatException Bad(int lineNo, string line, string why) =>
        new($"metrics text line {lineNo} ('{line}'): {why}.");
}
