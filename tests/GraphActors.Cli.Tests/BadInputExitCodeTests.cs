using GraphActors.Graph.Cgdf;
using GraphActors.Graph.Tables;

namespace GraphActors.Cli.Tests;

/// <summary>Inputs every case can point at: valid tables and CGDF, and broken variants of them.</summary>
public sealed class BadInputs : IDisposable
{
    public const string Dt = "2024-01-01";
    private readonly Scratch _dir = new();

    public BadInputs()
    {
        WriteTables(Tables, label: i => i % 3);
        WriteTables(MinusSeven, label: i => i == 7 ? -7 : i % 3);
        WriteTables(HalfBad, label: i => i % 2 == 0 ? 100_000_001 : 1);
        HiveToCgdf.Run(new EtlOptions(Tables, Dt, Cgdf));
        HiveToCgdf.Run(new EtlOptions(Tables, Dt, Truncated));
        var meta = Path.Combine(Truncated, CgdfMetadata.FileName);
        File.WriteAllText(meta, File.ReadAllText(meta)[..100]);
        // Akka's HOCON parser takes unclosed brackets; an unresolved substitution it refuses.
        File.WriteAllText(BadHocon, "akka.cluster.roles = ${nope}\ntraining { fanouts = ${nope} }\n");
        File.WriteAllText(TrainHocon, "training { target = a, epochs = 1 }\n");
        File.WriteAllText(IpConfig, "127.0.0.1 4053\n");
    }

    public string Root => _dir.Path;
    public string Tables => _dir.Sub("tables");
    public string MinusSeven => _dir.Sub("minus-seven");
    public string HalfBad => _dir.Sub("half-bad");
    public string Cgdf => _dir.Sub("cgdf");
    public string Truncated => _dir.Sub("truncated");
    public string BadHocon => _dir.Sub("bad.hocon");
    public string TrainHocon => _dir.Sub("train.hocon");
    public string IpConfig => _dir.Sub("ip_config.txt");

    private static void WriteTables(string root, Func<int, int> label)
    {
        using (var nodes = new HiveNodeTableWriter(root, "a", Dt))
        {
            for (var i = 0; i < 30; i++) nodes.Add(i, [i, 1], label(i));
            nodes.Complete();
        }
        using var edges = new HiveEdgeTableWriter(root, "e", Dt);
        for (var i = 0; i < 30; i++) edges.Add(i, (i + 1) % 30, "a", "a");
        edges.Complete();
    }

    public void Dispose() => _dir.Dispose();
}

/// <summary>
/// Every verb, run as the real executable: bad input exits 2 with exactly one line on stderr, <c>error: …</c>, naming the
/// file, row, field or option, and no stack trace (docs/CLI.md).
/// </summary>
public sealed class BadInputExitCodeTests(BadInputs inputs) : IClassFixture<BadInputs>
{
    public static TheoryData<string, string, string> Cases => new()
    {
        // verb and arguments ({root}, {tables}, … are the fixture's paths) | what the one line must contain
        { "unknown verb", "frobnicate", "frobnicate" },
        { "generate", "generate --out {root}/gen --users 0", "--users must be at least 1, not 0" },
        { "generate", "generate --out {root}/gen --dt 2024-13-45", "--dt: '2024-13-45' is not a YYYY-MM-DD date" },
        { "generate", "generate movielens --out {root}/ml --users 10 --ratings 100", "100 ratings for 10 users: need at least 20 per user" },
        { "import", "import linqs --input {root}/no-such --out {root}/imp", "--input: LINQS folder" },
        { "import", "import graphlearn --node user --out {root}/imp", "--node: needs key=path" },
        { "import", "import linqs --input {root} --out {root}/imp --on-bad-row maybe", "--on-bad-row" },
        { "etl", "etl --tables {root}/no-such --dt 2024-01-01 --out {root}/c1", "table root" },
        { "etl", "etl --tables {minus-seven} --dt 2024-01-01 --out {root}/c2", "field 'label': label -7 is outside [-1, 100000)" },
        { "etl", "etl --tables {half-bad} --dt 2024-01-01 --out {root}/c3 --on-bad-row skip", "15 of 30 rows rejected (50.0%), above --max-reject-ratio 0.01" },
        { "etl", "etl --tables {tables} --dt 2024-01-01 --out {root}/c4 --max-reject-ratio 2", "--max-reject-ratio must be between 0 and 1" },
        { "etl", "etl --tables {tables} --dt 2023-01-01 --out {root}/c5 --on-bad-row skip", "table 'nodes_a': field 'dt': no partition dt=2023-01-01" },
        { "etl", "etl --tables {tables} --dt 2023-01-01 --out {root}/c6 --hive-ddl", "field 'dt': no partition dt=2023-01-01" },
        { "partition", "partition --cgdf {root}/no-such --out {root}/p1", "no such CGDF directory" },
        { "partition", "partition --cgdf {cgdf} --out {root}/p2 --parts 0", "--parts must be at least 1, not 0" },
        { "partition", "partition --cgdf {cgdf} --out {root}/p3 --parts 5000", "--parts 5000: must be between 1 and the graph's node count (30)" },
        { "partition", "partition --cgdf {cgdf} --out {root}/p4 --split 0.9/0.9/0.9", "--split: '0.9/0.9/0.9' sums to 2.7" },
        { "partition", "partition --cgdf {truncated} --out {root}/p5", "metadata.json" },
        { "partition", "partition --out {root}/p6", "--cgdf" },
        { "partition", "partition --update {root}/no-such --cgdf {cgdf} --out {root}/p7", "no-such: does not exist" },
        { "partition", "partition --update {root}/no-such --cgdf {cgdf} --out {root}/p8 --parts 3", "--parts: comes from the previous store with --update" },
        { "partition", "partition --cgdf {cgdf} --out {root}/p9 --place neighbours", "--place: applies only with --update" },
        { "train", "train --config {root}/no-such.hocon --store {root}/s", "no-such.hocon" },
        { "train", "train --config {bad-hocon} --store {root}/s", "bad.hocon: not valid HOCON" },
        { "train", "train --config {train-hocon} --store {root}/no-such-store", "no-such-store" },
        { "train", "train --config {train-hocon} --store {root}/s --resume {root}/a --init-from {root}/b", "--init-from: and --resume exclude each other" },
        { "eval", "eval --checkpoint {root}/ckpt", "--store" },
        { "feature-sync", "feature-sync --redis 127.0.0.1:1 --cgdf {root}/no-such --node-type a", "no such CGDF directory" },
        { "node", "node --config {root}/no-such.hocon", "no-such.hocon" },
        { "node", "node --config {bad-hocon}", "bad.hocon: bad HOCON: Unresolved substitution: nope" },
        { "bench", "bench sampling --nodes 0", "--nodes must be at least 1, not 0" },
        { "bench", "bench serve --fanouts 10,x", "--fanouts: 'x' is not a positive integer" },
        { "quickstart", "quickstart --out {root}/qs --parts 0", "--parts must be at least 1, not 0" },
        { "ctl", "ctl model register --name sage", "--url" },
        { "ctl", "ctl model scale sage --max-worker 2", "--min-worker" },
        { "ctl", "ctl cluster join", "address" },
        { "deploy", "deploy --ip-config {root}/no-such.txt --layout partition:1 --store {cgdf} --out {root}/dep", "no-such.txt" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Bad_input_exits_2_with_one_line_naming_what_is_wrong(string verb, string command, string expected)
    {
        _ = verb;
        var args = command.Split(' ').Select(Expand).ToArray();
        var r = Cli.Run(args);
        Assert.True(r.ExitCode == 2, r.ToString());
        // Progress lines may precede it on stderr (etl reports rows/s there); the error is one line, and the last.
        var errors = r.StderrLines.Where(l => l.Contains("error", StringComparison.OrdinalIgnoreCase)).ToArray();
        Assert.True(errors.Length == 1, r.ToString());
        Assert.Equal(errors[0], r.StderrLines[^1]);
        Assert.StartsWith("error: ", errors[0]);
        Assert.Contains(expected, errors[0]);
        Assert.DoesNotContain("   at ", r.Stderr);
    }

    [Fact]
    public void Skip_within_the_ratio_exits_0_and_says_where_the_rejects_are()
    {
        var output = Path.Combine(inputs.Root, "ok");
        var r = Cli.Run("etl", "--tables", inputs.MinusSeven, "--dt", BadInputs.Dt, "--out", output, "--on-bad-row", "skip", "--max-reject-ratio", "0.1");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains($"rejects, each with its reason: {Path.Combine(output, "rejects")}", r.Stdout);
        // Node 7's label -7, and the two edges that touch node 7.
        Assert.Single(File.ReadAllLines(Path.Combine(output, "rejects", "nodes_a", "rejects.jsonl")));
        Assert.Equal(2, File.ReadAllLines(Path.Combine(output, "rejects", "edges_e", "rejects.jsonl")).Length);
    }

    private string Expand(string arg) => arg
        .Replace("{root}", inputs.Root).Replace("{tables}", inputs.Tables).Replace("{minus-seven}", inputs.MinusSeven)
        .Replace("{half-bad}", inputs.HalfBad).Replace("{cgdf}", inputs.Cgdf).Replace("{truncated}", inputs.Truncated)
        .Replace("{bad-hocon}", inputs.BadHocon).Replace("{train-hocon}", inputs.TrainHocon);
}
