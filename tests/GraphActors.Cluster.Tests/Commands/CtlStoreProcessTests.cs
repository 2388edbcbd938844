// The daily refresh through the CLI with real processes: generate, etl and partition two days, then `ctl store reload` a running node.
using System.Diagnostics;
using System.Text.Json;
using GraphActors.Cluster.Tests.Support;

namespace GraphActors.Cluster.Tests.Commands;

/// <summary>
/// docs/DATA.md's daily loop as a user runs it: day 1 is generated, ETLed and partitioned; a node serves it; day 2 (the
/// same graph grown by 10 %) is generated beside it, ETLed into its own CGDF and brought up to date with `partition
/// --update`; `ctl store reload` switches the running node to it.
/// </summary>
[Collection(MultiNodeCollection.Name)]
public sealed class CtlStoreProcessTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    private readonly int _port = TestNodes.FreePort();
    private readonly string _dir = JobCheckpoints.TempDir("ctl-store");
    private CliProcess? _node;
    private string Old => Path.Combine(_dir, "store", "2024-01-01");
    private string New => Path.Combine(_dir, "store", "2024-01-02");

    private string TokenFile => Path.Combine(_dir, "ctl.token");

    private static async Task Cli(params string[] args)
    {
        using var p = CliProcess.Start(args);
        var exit = await p.WaitForExit(Wait);
        Assert.True(exit == 0, $"graphactors {string.Join(' ', args)}: exit {exit}\n{p.Output}");
    }

    public async Task InitializeAsync()
    {
        var tables = Path.Combine(_dir, "tables");
        string[] graph = ["--users", "600", "--items", "300", "--clicks", "4000", "--swings", "2000", "--feature-dim", "16"];
        await Cli(["generate", "--out", tables, "--dt", "2024-01-01", .. graph]);
        await Cli("etl", "--tables", tables, "--dt", "2024-01-01", "--out", Path.Combine(_dir, "cgdf", "2024-01-01"));
        await Cli("partition", "--cgdf", Path.Combine(_dir, "cgdf", "2024-01-01"), "--out", Old, "--parts", "2");
        await Cli(["generate", "--out", tables, "--dt", "2024-01-02", "--grow", "0.1", .. graph]);
        await Cli("etl", "--tables", tables, "--dt", "2024-01-02", "--out", Path.Combine(_dir, "cgdf", "2024-01-02"));
        await Cli("partition", "--update", Old, "--cgdf", Path.Combine(_dir, "cgdf", "2024-01-02"), "--out", New);
        var journal = Path.Combine(_dir, "journal", "coordinator.db");
        Directory.CreateDirectory(Path.GetDirectoryName(journal)!);
        _node = CliProcess.Node(CliProcess.NodeHocon(_port, _port, "partition") + $"\ngraphactors.ctl.token-file = \"{TokenFile}\"\ngraphactors.store-versions.drain = 1s\n",
            Old, new Dictionary<string, string> { ["GA_JOURNAL"] = $"sqlite:Data Source={journal}" });
        await _node.WaitForLine("is up: joined the cluster", Wait);
    }

    public Task DisposeAsync()
    {
        _node?.Dispose();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
        return Task.CompletedTask;
    }

    private sealed record Run(int ExitCode, string Stdout, string Stderr)
    {
        public JsonElement Json => JsonDocument.Parse(Stdout).RootElement;
        public override string ToString() => $"exit {ExitCode}\n--- stdout ---\n{Stdout}--- stderr ---\n{Stderr}";
    }

    private async Task<Run> Ctl(bool token, params string[] args)
    {
        string[] credential = token ? ["--token-file", TokenFile] : [];
        using var p = CliProcess.Start(["ctl", "--contact", TestNodes.Address(_port), "--timeout", "15s", .. credential, "--json", .. args]);
        var exit = await p.WaitForExit(Wait);
        return new Run(exit, p.Stdout, p.Stderr);
    }

    [Fact]
    public async Task The_daily_loop_through_the_CLI_ends_with_the_running_node_switched_to_the_refreshed_store_and_a_bad_store_or_no_token_changes_nothing()
    {
        // The singleton answers once it runs: until then the proxy buffers and a ctl run may time out.
        var deadline = DateTime.UtcNow + Wait;
        Run version;
        while ((version = await Ctl(false, "store", "version")).ExitCode != 0 && DateTime.UtcNow < deadline) await Task.Delay(500);
        Assert.True(version.ExitCode == 0, version + _node!.Output);
        Assert.Equal(0, version.Json.GetProperty("version").GetInt32());
        Assert.Equal(Old, version.Json.GetProperty("path").GetString());

        var bare = await Ctl(false, "store", "reload", New);
        Assert.True(bare.ExitCode == 5, bare.ToString());

        var unrelated = await Ctl(true, "store", "reload", TestStore.TwoParts);
        Assert.True(unrelated.ExitCode == 1, unrelated.ToString());
        Assert.Contains("was not brought up to date from the current store", unrelated.Json.GetProperty("message").GetString());

        var reload = await Ctl(true, "store", "reload", New);
        Assert.True(reload.ExitCode == 0, reload + _node.Output);
        Assert.True(reload.Json.GetProperty("ok").GetBoolean());
        Assert.Equal(1, reload.Json.GetProperty("version").GetInt32());

        var after = await Ctl(false, "store", "version");
        Assert.Equal((1, New, 0), (after.Json.GetProperty("version").GetInt32(), after.Json.GetProperty("path").GetString(),
            after.Json.GetProperty("previous").GetInt32()));

        // The partition table reads the entities of version 1: both partitions serving.
        var partitions = await Ctl(false, "partitions", "show");
        Assert.True(partitions.ExitCode == 0, partitions.ToString());
        await _node.WaitForLine("Store version 1 [", Wait);
    }
}
