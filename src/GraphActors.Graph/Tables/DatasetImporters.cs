// The import verb: public datasets from their original files into Hive-layout tables.
using System.Globalization;
using System.Text;

namespace GraphActors.Graph.Tables;

public sealed record ImportSummary(IReadOnlyDictionary<string, long> Rows, IReadOnlyList<string> LabelNames)
{
    /// <summary>Rows left out per table (dangling citations, bad lines in skip mode); their records are under <see cref="RejectsDirectory"/>.</summary>
    public IReadOnlyDictionary<string, long> Rejects { get; init; } = new Dictionary<string, long>();
    public string? RejectsDirectory { get; init; }
    /// <summary>Lines for the user about how ids were read (e.g. where the string-id map went).</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];
}

/// <summary>How an importer treats bad lines: the same policy, bounds and ratio as <c>etl</c>.</summary>
public sealed record ImportOptions
{
    public Cgdf.BadRowPolicy OnBadRow { get; init; } = Cgdf.BadRowPolicy.Fail;
    public int MaxClasses { get; init; } = Cgdf.EtlOptions.DefaultMaxClasses;
    public double MaxRejectRatio { get; init; } = Cgdf.EtlOptions.DefaultMaxRejectRatio;
}

/// <summary>
/// LINQS citation format (Cora, CiteSeer, PubMed-Diabetes's content/cites layout): <c>&lt;name&gt;.content</c>
/// (<c>id w_0 … w_{d-1} label</c>, tab-separated) and <c>&lt;name&gt;.cites</c> (<c>cited citing</c>). Writes
/// <c>nodes_paper</c> (binary word features; label = index of the label string in ordinal-sorted order of all label
/// strings) and <c>edges_cites</c> paper → paper in the citing → cited direction. With <c>train.txt</c>/<c>val.txt</c>/
/// <c>test.txt</c> (one id per line) beside, the mask columns are written.
/// <para>Paper ids: when every id of the content file is an integer (Cora) it is the business id unchanged. Otherwise
/// (CiteSeer mixes "100157" with "kinzler00conversion") EVERY id is mapped to <see cref="HashId"/>: the first 8 bytes of
/// SHA-256 of its UTF-8 text, top bit cleared — stable across runs, releases and machines, independent of line order;
/// a collision is refused. The map is written to <c>&lt;out&gt;/paper_ids.tsv</c> (<c>node_id TAB paper_id</c>).</para>
/// <para>A citation naming a paper absent from the content file (CiteSeer has some) is left out, counted and written
/// to <c>&lt;out&gt;/rejects/edges_cites/rejects.jsonl</c>; a malformed line follows <see cref="ImportOptions.OnBadRow"/>.
/// Either way a table whose left-out share passes <see cref="ImportOptions.MaxRejectRatio"/> fails the import.</para>
/// </summary>
public static class LinqsImporter
{
    public const string IdMapFile = "paper_ids.tsv";

    public static ImportSummary Run(string inputDir, string name, string output, string dt, ImportOptions? options = null)
    {
        options ??= new ImportOptions();
        var content = Path.Combine(inputDir, name + ".content");
        var cites = Path.Combine(inputDir, name + ".cites");
        if (!Directory.Exists(inputDir)) throw new BadInputException($"--input: LINQS folder '{inputDir}' does not exist.");
        if (!File.Exists(content)) throw new GraphInputException(content, 0, null, $"LINQS node file not found (--input {inputDir}, --name {name}).");
        if (!File.Exists(cites)) throw new GraphInputException(cites, 0, null, $"LINQS edge file not found (--input {inputDir}, --name {name}).");
        using var rejects = new ImportRejects(output, options, ["nodes_paper", "edges_cites"]);

        var rows = new List<(string Id, float[] Features, string Label)>();
        var dim = -1;
        var lineNo = 0;
        long contentLines = 0;
        foreach (var line in File.ReadLines(content))
        {
            lineNo++;
            if (line.Length == 0) continue;
            contentLines++;
            var parts = line.Split('\t');
            if (dim < 0)
            {
                if (parts.Length < 3) throw new GraphInputException(content, lineNo, null, $"{parts.Length} fields; a LINQS line is 'id<TAB>w_0 … w_(d-1)<TAB>label'.");
                dim = parts.Length - 2;
            }
            if (parts.Length - 2 != dim) { rejects.Bad("nodes_paper", content, lineNo, null, $"{parts.Length} fields; the first line has {dim + 2}.", parts[0]); continue; }
            var f = new float[dim];
            var ok = true;
            for (var j = 0; j < dim && ok; j++)
            {
                if (!float.TryParse(parts[j + 1], NumberStyles.Float, CultureInfo.InvariantCulture, out f[j]) || !float.IsFinite(f[j]))
                {
                    rejects.Bad("nodes_paper", content, lineNo, $"w_{j}", $"'{parts[j + 1]}' is not a finite number.", parts[0]);
                    ok = false;
                }
            }
            if (!ok) continue;
            if (parts[0].Length == 0) { rejects.Bad("nodes_paper", content, lineNo, "id", "empty paper id.", null); continue; }
            rows.Add((parts[0], f, parts[^1]));
        }
        rejects.CheckRatio("nodes_paper", contentLines);
        if (rows.Count == 0) throw new GraphInputException(content, 0, null, "no papers.");

        var integerIds = rows.All(r => long.TryParse(r.Id, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _));
        var ids = new Dictionary<string, long>(rows.Count, StringComparer.Ordinal);
        var byBusiness = new Dictionary<long, string>(rows.Count);
        foreach (var r in rows)
        {
            var b = integerIds ? long.Parse(r.Id, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture) : HashId(r.Id);
            if (byBusiness.TryGetValue(b, out var other) && other != r.Id)
                throw new GraphInputException(content, 0, "id", $"paper ids '{other}' and '{r.Id}' hash to the same node id {b}; rename one.");
            byBusiness[b] = r.Id;
            ids[r.Id] = b;
        }
        var notes = new List<string>();
        if (!integerIds)
        {
            AtomicFile.Write(Path.Combine(output, IdMapFile), temp =>
            {
                using var w = new StreamWriter(temp);
                w.WriteLine("node_id\tpaper_id");
                foreach (var r in rows) w.WriteLine($"{ids[r.Id]}\t{r.Id}");
            });
            notes.Add($"paper ids are strings: node_id = {nameof(HashId)}(paper id), the map is in {Path.Combine(output, IdMapFile)}");
        }

        var labels = rows.Select(r => r.Label).Distinct().Order(StringComparer.Ordinal).ToArray();
        if (labels.Length > options.MaxClasses)
            throw new GraphInputException(content, 0, "label", $"{labels.Length:N0} distinct labels, more than --max-classes {options.MaxClasses:N0}.");
        var labelIndex = labels.Select((l, i) => (l, i)).ToDictionary(x => x.l, x => x.i, StringComparer.Ordinal);

        var split = new[] { "train", "val", "test" }.Select(s => ReadIdSet(Path.Combine(inputDir, s + ".txt"), ids)).ToArray();
        var hasMasks = split.Any(s => s is not null);
        using (var w = new HiveNodeTableWriter(output, "paper", dt, withMasks: hasMasks))
        {
            foreach (var r in rows)
                w.Add(ids[r.Id], r.Features, labelIndex[r.Label],
                    split[0]?.Contains(r.Id) ?? false, split[1]?.Contains(r.Id) ?? false, split[2]?.Contains(r.Id) ?? false);
            w.Complete();
        }
        HiveLabelNamesWriter.Write(output, "paper", dt, labels);

        long edges = 0, citeLines = 0;
        using (var w = new HiveEdgeTableWriter(output, "cites", dt))
        {
            lineNo = 0;
            foreach (var line in File.ReadLines(cites))
            {
                lineNo++;
                if (line.Length == 0) continue;
                citeLines++;
                var parts = line.Split('\t');
                if (parts.Length != 2) { rejects.Bad("edges_cites", cites, lineNo, null, $"expected 'cited<TAB>citing', got {parts.Length} fields.", line); continue; }
                // A citation of a paper the content file lacks is a known trait of LINQS releases, not a corrupt line:
                // it is always left out and counted, whatever --on-bad-row says.
                if (!ids.TryGetValue(parts[0], out var cited)) { rejects.Dangling(cites, lineNo, "cited", parts[0]); continue; }
                if (!ids.TryGetValue(parts[1], out var citing)) { rejects.Dangling(cites, lineNo, "citing", parts[1]); continue; }
                w.Add(citing, cited, "paper", "paper", 1f);
                edges++;
            }
            w.Complete();
        }
        rejects.CheckRatio("edges_cites", citeLines);
        return new ImportSummary(new Dictionary<string, long> { ["nodes_paper"] = rows.Count, ["edges_cites"] = edges }, labels)
        {
            Rejects = rejects.Counts, RejectsDirectory = rejects.Total > 0 ? rejects.Directory : null, Notes = notes,
        };
    }

    /// <summary>The business id of a string paper id: SHA-256 of its UTF-8 bytes, first 8 bytes little-endian, top bit cleared.</summary>
    public static long HashId(string paperId)
    {
        Span<byte> hash = stackalloc byte[32];
        System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(paperId), hash);
        return (long)(System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(hash) & long.MaxValue);
    }

    private static HashSet<string>? ReadIdSet(string path, IReadOnlyDictionary<string, long> known)
    {
        if (!File.Exists(path)) return null;
        var set = new HashSet<string>(StringComparer.Ordinal);
        var n = 0;
        foreach (var line in File.ReadLines(path))
        {
            n++;
            var t = line.Trim();
            if (t.Length == 0) continue;
            if (!known.ContainsKey(t)) throw new GraphInputException(path, n, "id", $"paper '{t}' is not in the content file.");
            set.Add(t);
        }
        return set;
    }
}

/// <summary>An importer's rejected lines: <c>&lt;out&gt;/rejects/&lt;table&gt;/rejects.jsonl</c>, as etl writes them.</summary>
internal sealed class ImportRejects : IDisposable
{
    private readonly ImportOptions options;
    private readonly Dictionary<string, (StreamWriter Writer, string Temp, string Path)> _files = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _counts = new(StringComparer.Ordinal);

    /// <summary>Clears the rejects of <paramref name="tables"/> a previous import left, so what is there is this run's.</summary>
    public ImportRejects(string output, ImportOptions options, IEnumerable<string> tables)
    {
        this.options = options;
        Directory = Path.Combine(output, "rejects");
        foreach (var t in tables)
        {
            var old = Path.Combine(Directory, t, "rejects.jsonl");
            if (File.Exists(old)) File.Delete(old);
        }
    }

    public string Directory { get; }
    public IReadOnlyDictionary<string, long> Counts => _counts;
    public long Total => _counts.Values.Sum();

    /// <summary>A malformed line: fails the import, or (skip) is recorded.</summary>
    public void Bad(string table, string file, int line, string? field, string reason, string? value)
    {
        if (options.OnBadRow == Cgdf.BadRowPolicy.Fail) throw new GraphInputException(file, line, field, reason);
        Write(table, file, line, field, reason, value);
    }

    public void Dangling(string file, int line, string field, string paper) =>
        Write("edges_cites", file, line, field, $"{field} paper '{paper}' is not in the content file (dangling citation)", paper);

    /// <summary>Fails when a table's left-out share exceeds the ratio (the records stay in <see cref="Directory"/>).</summary>
    public void CheckRatio(string table, long lines)
    {
        var n = _counts.GetValueOrDefault(table);
        if (n == 0 || (double)n / Math.Max(lines, 1) <= options.MaxRejectRatio) return;
        Dispose();
        throw new BadInputException(string.Create(CultureInfo.InvariantCulture,
            $"table '{table}': {n:N0} of {lines:N0} lines left out ({100.0 * n / Math.Max(lines, 1):F1}%), above --max-reject-ratio {options.MaxRejectRatio}; rejects written to {Path.Combine(Directory, table, "rejects.jsonl")}."));
    }

    private void Write(string table, string file, int line, string? field, string reason, string? value)
    {
        if (!_files.TryGetValue(table, out var f))
        {
            // Written beside its name and renamed on Dispose: a crash never leaves a half file under the real name.
            var dir = Path.Combine(Directory, table);
            System.IO.Directory.CreateDirectory(dir);
            var path = Path.Combine(dir, "rejects.jsonl");
            var temp = path + ".tmp-" + Guid.NewGuid().ToString("N");
            f = (new StreamWriter(temp), temp, path);
            _files[table] = f;
        }
        f.Writer.WriteLine(System.Text.Json.JsonSerializer.Serialize(new { table, file, line, field, reason, value }));
        _counts[table] = _counts.GetValueOrDefault(table) + 1;
    }

    public void Dispose()
    {
        foreach (var (w, temp, path) in _files.Values)
        {
            w.Dispose();
            File.Move(temp, path, overwrite: true);
        }
        _files.Clear();
    }
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
        if (occupationLabel) HiveLabelNamesWriter.Write(output, "user", dt, occupations);

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
