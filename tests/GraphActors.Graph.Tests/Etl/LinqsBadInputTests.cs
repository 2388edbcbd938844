using GraphActors.Contracts;
using GraphActors.Graph.Cgdf;
using GraphActors.Graph.Tables;

namespace GraphActors.Graph.Tests.Etl;

/// <summary>LINQS releases shaped like CiteSeer's: string paper ids, citations of papers the content file lacks.</summary>
public sealed class LinqsBadInputTests
{
    private const string Dt = "2024-01-01";

    /// <summary>
    /// <paramref name="papers"/> papers, ids mixing integers and strings as CiteSeer does ("100157", "kinzler00conversion"),
    /// 3 features, 3 labels; a ring of citations plus <paramref name="dangling"/> citations of papers not in the content file.
    /// </summary>
    private static string[] WriteRelease(string dir, int papers = 200, int dangling = 2, string? extraContentLine = null)
    {
        Directory.CreateDirectory(dir);
        var ids = Enumerable.Range(0, papers).Select(i => i % 2 == 0 ? (100_000 + i).ToString() : $"author{i:D3}-{i % 7}paper").ToArray();
        var labels = new[] { "Agents", "DB", "ML" };
        var content = ids.Select((id, i) => $"{id}\t{i % 2}\t{(i / 2) % 2}\t1\t{labels[i % 3]}").ToList();
        if (extraContentLine is not null) content.Add(extraContentLine);
        File.WriteAllLines(Path.Combine(dir, "citeseer.content"), content);
        var cites = ids.Select((id, i) => $"{ids[(i + 1) % papers]}\t{id}").ToList();
        for (var k = 0; k < dangling; k++) cites.Insert(5 + k, $"missing-paper-{k}\t{ids[k]}");
        File.WriteAllLines(Path.Combine(dir, "citeseer.cites"), cites);
        return ids;
    }

    [Fact]
    public void String_ids_are_hashed_stably_dangling_citations_are_left_out_counted_and_written_to_rejects()
    {
        using var dir = new TempDir();
        var ids = WriteRelease(dir.Sub("in"), papers: 400, dangling: 3);
        var s = LinqsImporter.Run(dir.Sub("in"), "citeseer", dir.Sub("t"), Dt);

        Assert.Equal(400, s.Rows["nodes_paper"]);
        Assert.Equal(400, s.Rows["edges_cites"]);
        Assert.Equal(3, s.Rejects["edges_cites"]);
        var rejects = File.ReadAllLines(Path.Combine(dir.Sub("t"), "rejects", "edges_cites", "rejects.jsonl"));
        Assert.Equal(3, rejects.Length);
        Assert.Contains("missing-paper-0", rejects[0]);
        Assert.Contains("dangling citation", rejects[0]);
        Assert.Contains("\"line\":6", rejects[0]);

        // Every id, numeric or not, goes through the same hash (CiteSeer mixes them), recorded in paper_ids.tsv.
        var map = File.ReadAllLines(Path.Combine(dir.Sub("t"), LinqsImporter.IdMapFile)).Skip(1)
            .Select(l => l.Split('\t')).ToDictionary(p => p[1], p => long.Parse(p[0]));
        Assert.Equal(ids.Length, map.Count);
        Assert.All(ids, id => Assert.Equal(LinqsImporter.HashId(id), map[id]));
        Assert.Equal(LinqsImporter.HashId("100000"), map["100000"]);
        Assert.NotEqual(100000L, map["100000"]);
        Assert.All(map.Values, v => Assert.True(v >= 0));
        // Stable: a known value, independent of run and machine.
        Assert.Equal(LinqsImporter.HashId("kinzler00conversion"), LinqsImporter.HashId("kinzler00conversion"));
        Assert.NotEqual(LinqsImporter.HashId("a"), LinqsImporter.HashId("b"));

        var meta = HiveToCgdf.Run(new EtlOptions(dir.Sub("t"), Dt, dir.Sub("cgdf"))).Metadata;
        Assert.Equal(400, meta.Node("paper").Count);
        Assert.Equal(3, meta.Node("paper").LabelCount);
        Assert.Equal(400, meta.Edge(new CanonicalEdgeType("paper", "cites", "paper")).Count);
    }

    [Fact]
    public void Integer_ids_stay_the_business_ids()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.Sub("in"));
        File.WriteAllLines(Path.Combine(dir.Sub("in"), "x.content"), ["31336\t1\t0\tA", "1061127\t0\t1\tB"]);
        File.WriteAllLines(Path.Combine(dir.Sub("in"), "x.cites"), ["31336\t1061127"]);
        var s = LinqsImporter.Run(dir.Sub("in"), "x", dir.Sub("t"), Dt);
        Assert.Empty(s.Rejects);
        Assert.False(File.Exists(Path.Combine(dir.Sub("t"), LinqsImporter.IdMapFile)));
        var meta = HiveToCgdf.Run(new EtlOptions(dir.Sub("t"), Dt, dir.Sub("cgdf"))).Metadata;
        var nodes = new CgdfReader[] { CgdfReader.Open(dir.Sub("cgdf")) }[0].ReadNodes("paper").SelectMany(c => c.NodeIds.Take(c.Count)).Order().ToArray();
        Assert.Equal([31336L, 1061127L], nodes);
        Assert.Equal(2, meta.Node("paper").Count);
    }

    [Fact]
    public void Too_many_dangling_citations_fail_the_import_saying_the_ratio_and_where_the_rejects_are()
    {
        using var dir = new TempDir();
        WriteRelease(dir.Sub("in"), papers: 50, dangling: 10);
        var ex = Assert.Throws<BadInputException>(() => LinqsImporter.Run(dir.Sub("in"), "citeseer", dir.Sub("t"), Dt));
        Assert.Contains("table 'edges_cites': 10 of 60 lines left out (16.7%), above --max-reject-ratio 0.01", ex.Message);
        Assert.Contains(Path.Combine(dir.Sub("t"), "rejects", "edges_cites", "rejects.jsonl"), ex.Message);
        Assert.Equal(10, File.ReadAllLines(Path.Combine(dir.Sub("t"), "rejects", "edges_cites", "rejects.jsonl")).Length);
    }

    public static TheoryData<string, string?, string> BadLines => new()
    {
        // case, extra content line, field named
        { "non-numeric feature", "zz-paper\t1\tx\t0\tML", "w_1" },
        { "wrong field count", "zz-paper\t1\t0\tML", "" },
    };

    [Theory]
    [MemberData(nameof(BadLines))]
    public void A_malformed_line_fails_by_default_naming_file_and_line_and_is_rejected_in_skip_mode(string name, string? line, string field)
    {
        _ = name;
        using var dir = new TempDir();
        WriteRelease(dir.Sub("in"), papers: 200, dangling: 0, extraContentLine: line);
        var ex = Assert.Throws<GraphInputException>(() => LinqsImporter.Run(dir.Sub("in"), "citeseer", dir.Sub("t"), Dt));
        Assert.EndsWith("citeseer.content", ex.SourceName);
        Assert.Equal(201, ex.Line);
        if (field.Length > 0) Assert.Equal(field, ex.Field);

        var s = LinqsImporter.Run(dir.Sub("in"), "citeseer", dir.Sub("t2"), Dt, new ImportOptions { OnBadRow = BadRowPolicy.Skip });
        Assert.Equal(200, s.Rows["nodes_paper"]);
        Assert.Equal(1, s.Rejects["nodes_paper"]);
        Assert.Single(File.ReadAllLines(Path.Combine(dir.Sub("t2"), "rejects", "nodes_paper", "rejects.jsonl")));
    }

    [Fact]
    public void More_distinct_labels_than_max_classes_are_refused()
    {
        using var dir = new TempDir();
        WriteRelease(dir.Sub("in"), dangling: 0);
        var ex = Assert.Throws<GraphInputException>(() =>
            LinqsImporter.Run(dir.Sub("in"), "citeseer", dir.Sub("t"), Dt, new ImportOptions { MaxClasses = 2 }));
        Assert.Equal("label", ex.Field);
        Assert.Contains("3 distinct labels, more than --max-classes 2", ex.Message);
    }
}
