// The import verb: public datasets from their original files into Hive-layout tables.
using System.Globalization;
using System.Text;

namespace GraphActors.Graph.Tables;

public sealed record ImportSummary(IReadOnlyDictionary<string, long> Rows, IReadOnlyList<string> LabelNames);

/// <summary>
/// LINQS citation format (Cora, CiteSeer): <c>&lt;name&gt;.content</c> (<c>id w_0 … w_{d-1} label</c>, tab-separated) and
/// <c>&lt;name&gt;.cites</c> (<c>cited citing</c>). Writes <c>nodes_paper</c> (binary word features; label = index of the
/// label string in ordinal-sorted order of all label strings) and <c>edges_cites</c> paper → paper in the citing → cited
/// direction. With <c>train.txt</c>/<c>val.txt</c>/<c>test.txt</c> (one id per line) beside, the mask columns are written.
/// Paper ids must be integers (they are in Cora).
/// </summary>
public static class LinqsImporter
{
    public static ImportSummary Run(string inputDir, string name, string output, string dt)
    {
        var content = Path.Combine(inputDir, name + ".content");
        var cites = Path.Combine(inputDir, name + ".cites");
        if (!File.Exists(content)) throw new FileNotFoundException($"LINQS node file '{content}' not found.", content);
        if (!File.Exists(cites)) throw new FileNotFoundException($"LINQS edge file '{cites}' not found.", cites);

        var rows = new List<(long Id, float[] Features, string Label)>();
        var dim = -1;
        var lineNo = 0;
        foreach (var line in File.ReadLines(content))
        {
            lineNo++;
            if (line.Length == 0) continue;
            var parts = line.Split('\t');
            if (dim < 0) dim = parts.Length - 2;
            if (parts.Length - 2 != dim || dim <= 0)
                throw new GraphInputException(content, lineNo, null, $"{parts.Length} fields; the first line has {dim + 2}.");
            var id = ParseId(parts[0], content, lineNo);
            var f = new float[dim];
            for (var j = 0; j < dim; j++)
            {
                if (!float.TryParse(parts[j + 1], NumberStyles.Float, CultureInfo.InvariantCulture, out f[j]))
                    throw new GraphInputException(content, lineNo, $"w_{j}", $"'{parts[j + 1]}' is not a number.");
            }
            rows.Add((id, f, parts[^1]));
        }
        var labels = rows.Select(r => r.Label).Distinct().Order(StringComparer.Ordinal).ToArray();
        var labelIndex = labels.Select((l, i) => (l, i)).ToDictionary(x => x.l, x => x.i, StringComparer.Ordinal);

        var split = new[] { "train", "val", "test" }.Select(s => ReadIdSet(Path.Combine(inputDir, s + ".txt"))).ToArray();
        var hasMasks = split.Any(s => s is not null);
        using (var w = new HiveNodeTableWriter(output, "paper", dt, withMasks: hasMasks))
        {
            foreach (var r in rows)
                w.Add(r.Id, r.Features, labelIndex[r.Label],
                    split[0]?.Contains(r.Id) ?? false, split[1]?.Contains(r.Id) ?? false, split[2]?.Contains(r.Id) ?? false);
            w.Complete();
        }

        long edges = 0;
        using (var w = new HiveEdgeTableWriter(output, "cites", dt))
        {
            lineNo = 0;
            foreach (var line in File.ReadLines(cites))
            {
                lineNo++;
                if (line.Length == 0) continue;
                var parts = line.Split('\t');
                if (parts.Length != 2) throw new GraphInputException(cites, lineNo, null, $"expected 'cited<TAB>citing', got {parts.Length} fields.");
                var cited = ParseId(parts[0], cites, lineNo);
                var citing = ParseId(parts[1], cites, lineNo);
                w.Add(citing, cited, "paper", "paper", 1f);
                edges++;
            }
            w.Complete();
        }
        return new ImportSummary(new Dictionary<string, long> { ["nodes_paper"] = rows.Count, ["edges_cites"] = edges }, labels);
    }

    private static HashSet<long>? ReadIdSet(string path)
    {
        if (!File.Exists(path)) return null;
        var set = new HashSet<long>();
        var n = 0;
        foreach (var line in File.ReadLines(path))
        {
            n++;
            var t = line.Trim();
            if (t.Length > 0) set.Add(ParseId(t, path, n));
        }
        return set;
    }

    private static long ParseId(string s, string file, int line) =>
        long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var id) ? id
            : throw new GraphInputException(file, line, "id", $"'{s}' is not an integer id.");
}

/// <summary>
/// MovieLens-100K: <c>u.user</c> (<c>id|age|gender|occupation|zip</c>), <c>u.item</c> (<c>id|title|release|video release|url|19 genre flags</c>)
/// and <c>u.data</c> (<c>user TAB item TAB rating TAB timestamp</c>), latin-1. Writes <c>nodes_user</c>, <c>nodes_movie</c> and
/// <c>edges_rates</c> user → movie weighted by the rating.
/// User features: age / 100, gender one-hot [F, M], occupation one-hot (occupations in ordinal-sorted order);
/// label −1. With <paramref name="occupationLabel"/>, the label is the occupation index and the occupation one-hot
/// is left out of the features (it would be the answer). Movie features: the 19 genre flags; label −1.
/// </summary>
public static class MovieLensImporter
{
    public const int GenreCount = 19;

    public static ImportSummary Run(string inputDir, string output, string dt, bool occupationLabel = false)
    {
        var latin1 = Encoding.Latin1;
        var userFile = Path.Combine(inputDir, "u.user");
        var itemFile = Path.Combine(inputDir, "u.item");
        var dataFile = Path.Combine(inputDir, "u.data");
        foreach (var f in new[] { userFile, itemFile, dataFile })
            if (!File.Exists(f)) throw new FileNotFoundException($"MovieLens file '{f}' not found.", f);

        var users = new List<(long Id, int Age, string Gender, string Occupation)>();
        var n = 0;
        foreach (var line in File.ReadLines(userFile, latin1))
        {
            n++;
            if (line.Length == 0) continue;
            var p = line.Split('|');
            if (p.Length < 4) throw new GraphInputException(userFile, n, null, $"expected id|age|gender|occupation|zip, got {p.Length} fields.");
            users.Add((Long(p[0], userFile, n, "user id"), (int)Long(p[1], userFile, n, "age"), p[2], p[3]));
        }
        var occupations = users.Select(u => u.Occupation).Distinct().Order(StringComparer.Ordinal).ToArray();
        var occIndex = occupations.Select((o, i) => (o, i)).ToDictionary(x => x.o, x => x.i, StringComparer.Ordinal);
        var dim = 1 + 2 + (occupationLabel ? 0 : occupations.Length);
        using (var w = new HiveNodeTableWriter(output, "user", dt))
        {
            var f = new float[dim];
            foreach (var u in users)
            {
                Array.Clear(f);
                f[0] = u.Age / 100f;
                if (u.Gender == "F") f[1] = 1; else if (u.Gender == "M") f[2] = 1;
                if (!occupationLabel) f[3 + occIndex[u.Occupation]] = 1;
                w.Add(u.Id, f, occupationLabel ? occIndex[u.Occupation] : -1);
            }
            w.Complete();
        }

        long movies = 0;
        using (var w = new HiveNodeTableWriter(output, "movie", dt))
        {
            var f = new float[GenreCount];
            n = 0;
            foreach (var line in File.ReadLines(itemFile, latin1))
            {
                n++;
                if (line.Length == 0) continue;
                var p = line.Split('|');
                if (p.Length < 5 + GenreCount) throw new GraphInputException(itemFile, n, null, $"expected 24 fields, got {p.Length}.");
                for (var g = 0; g < GenreCount; g++) f[g] = p[p.Length - GenreCount + g] == "1" ? 1f : 0f;
                w.Add(Long(p[0], itemFile, n, "movie id"), f, -1);
                movies++;
            }
            w.Complete();
        }

        long ratings = 0;
        using (var w = new HiveEdgeTableWriter(output, "rates", dt))
        {
            n = 0;
            foreach (var line in File.ReadLines(dataFile, latin1))
            {
                n++;
                if (line.Length == 0) continue;
                var p = line.Split('\t');
                if (p.Length < 3) throw new GraphInputException(dataFile, n, null, $"expected user TAB item TAB rating TAB timestamp, got {p.Length} fields.");
                w.Add(Long(p[0], dataFile, n, "user id"), Long(p[1], dataFile, n, "item id"), "user", "movie", Long(p[2], dataFile, n, "rating"));
                ratings++;
            }
            w.Complete();
        }
        return new ImportSummary(
            new Dictionary<string, long> { ["nodes_user"] = users.Count, ["nodes_movie"] = movies, ["edges_rates"] = ratings },
            occupationLabel ? occupations : []);
    }

    private static long Long(string s, string file, int line, string field) =>
        long.TryParse(s.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v
            : throw new GraphInputException(file, line, field, $"'{s}' is not an integer.");
}
