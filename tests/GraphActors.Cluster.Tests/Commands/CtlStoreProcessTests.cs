// `graphactors ctl store version|reload` against a real node process: the daily refresh's last step, through the CLI.
using System.Diagnostics;
using System.Text.Json;
using GraphActors.Cluster.Tests.Support;

namespace GraphActors.Cluster.Tests.Commands;

[Collection(MultiNodeCollection.Name)]
public sealed class CtlStoreProcessTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    // TestStore.Updated was written by `partition --update` from the store beside it.
    private static readonly string Old = Path.Combine(Path.GetDirectoryName(TestStore.Updated)!, "store");
    private readonly int _port = TestNodes.FreePort();
    private readonly string _dir = JobCheckpoints.TempDir("ctl-store");
    private CliProcess? _node;

    private string TokenFile => Path.Combine(_dir, "ctl.token");

    public async Task InitializeAsync()
    {
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
    public async Task Store_version_then_reload_switches_the_node_to_the_refreshed_store_and_a_bad_store_or_no_token_changes_nothing()
    {
        // The singleton answers once it runs: until then the proxy buffers and a ctl run may time out.
        var deadline = DateTime.UtcNow + Wait;
        Run version;
        while ((version = await Ctl(false, "store", "version")).ExitCode != 0 && DateTime.UtcNow < deadline) await Task.Delay(500);
        Assert.True(version.ExitCode == 0, version + _node!.Output);
        Assert.Equal(0, version.Json.GetProperty("version").GetInt32());
        Assert.Equal(Old, version.Json.GetProperty("path").GetString());

        var bare = await Ctl(false, "store", "reload", TestStore.Updated);
        Assert.True(bare.ExitCode == 5, bare.ToString());

        var unrelated = await Ctl(true, "store", "reload", TestStore.TwoParts);
        Assert.True(unrelated.ExitCode == 1, unrelated.ToString());
        Assert.Contains("was not brought up to date from the current store", unrelated.Json.GetProperty("message").GetString());

        var reload = await Ctl(true, "store", "reload", TestStore.Updated);
        Assert.True(reload.ExitCode == 0, reload + _node.Output);
        Assert.True(reload.Json.GetProperty("ok").GetBoolean());
        Assert.Equal(1, reload.Json.GetProperty("version").GetInt32());

        var after = await Ctl(false, "store", "version");
        Assert.Equal((1, TestStore.Updated, 0), (after.Json.GetProperty("version").GetInt32(), after.Json.GetProperty("path").GetString(),
            after.Json.GetProperty("previous").GetInt32()));

        // The partition table reads the entities of version 1: both partitions serving.
        var partitions = await Ctl(false, "partitions", "show");
        Assert.True(partitions.ExitCode == 0, partitions.ToString());
        await _node.WaitForLine("Store version 1 [", Wait);
    }
}
