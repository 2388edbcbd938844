// Reads the LINQS Cora files and the Planetoid split straight from shared/data/cora.
using System.Globalization;

namespace GraphActors.Models.Tests;

internal sealed class CoraData
{
    public required int NumNodes { get; init; }
    public required int NumFeatures { get; init; }
    public required int NumClasses { get; init; }

    /// <summary>Row-normalised bag of words (each row sums to 1, as DGL's and PyG's Cora), row-major.</summary>
    public required float[] Features { get; init; }
    public required long[] Labels { get; init; }

    /// <summary>Citations made undirected and deduplicated (10556 directed edges).</summary>
    public required long[] EdgeSrc { get; init; }
    public required long[] EdgeDst { get; init; }
    public required long[] Train { get; init; }
    public required long[] Val { get; init; }
    public required long[] Test { get; init; }

    public static CoraData Load(string dir)
    {
        var ids = new Dictionary<string, int>();
        var rows = new List<float[]>();
        var labelNames = new List<string>();
        foreach (var line in File.ReadLines(Path.Combine(dir, "cora.content")))
        {
            if (line.Length == 0)
                continue;
            var parts = line.Split('\t');
            ids[parts[0]] = ids.Count;
            var row = new float[parts.Length - 2];
            for (var j = 0; j < row.Length; j++)
                row[j] = float.Parse(parts[j + 1], CultureInfo.InvariantCulture);
            rows.Add(row);
            labelNames.Add(parts[^1]);
        }
        var classes = labelNames.Distinct().Order(StringComparer.Ordinal).ToList();
        var numFeatures = rows[0].Length;
        var features = new float[rows.Count * numFeatures];
        for (var i = 0; i < rows.Count; i++)
        {
            var sum = rows[i].Sum();
            for (var j = 0; j < numFeatures; j++)
                features[(i * numFeatures) + j] = sum > 0 ? rows[i][j] / sum : 0;
        }

        var edges = new HashSet<(int, int)>();
        foreach (var line in File.ReadLines(Path.Combine(dir, "cora.cites")))
        {
            var parts = line.Split('\t', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length < 2)
                continue;
            var (a, b) = (ids[parts[0]], ids[parts[1]]);
            if (a == b)
                continue;
            edges.Add((a, b));
            edges.Add((b, a));
        }
        var ordered = edges.OrderBy(e => e.Item2).ThenBy(e => e.Item1).ToArray();

        long[] Split(string file) => File.ReadLines(Path.Combine(dir, file)).Where(l => l.Length > 0).Select(l => (long)ids[l.Trim()]).ToArray();
        return new CoraData
        {
            NumNodes = rows.Count,
            NumFeatures = numFeatures,
            NumClasses = classes.Count,
            Features = features,
            Labels = labelNames.Select(n => (long)classes.IndexOf(n)).ToArray(),
            EdgeSrc = ordered.Select(e => (long)e.Item1).ToArray(),
            EdgeDst = ordered.Select(e => (long)e.Item2).ToArray(),
            Train = Split("train.txt"),
            Val = Split("val.txt"),
            Test = Split("test.txt"),
        };
    }
}
