// `graphactors deploy` as a user runs it: the real executable, real node processes on 127.0.0.1, real pid files.
using System.Text.Json;
using GraphActors.Cluster.Tests.Support;
using Xunit.Abstractions;

namespace GraphActors.Cluster.Tests.Hosting;

[Collection(MultiNodeCollection.Name)]
public sealed class DeployCommandTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "ga-deploy-cmd", Guid.NewGuid().ToString("N"));
    private readonly List<int> _pids = [];

    private async Task<(int Exit, string Stdout, string Stderr)> Cli(params string[] args)
    {
        using var p = CliProcess.Start(args);
        var exit = await p.WaitForExit(TimeSpan.FromMinutes(3));
        output.WriteLine($"$ graphactors {string.Join(' ', args)}  → exit {exit}\n{p.Output}");
        return (exit, p.Stdout, p.Stderr);
    }

    private string IpConfig(string text)
    {
        Directory.CreateDirectory(_dir);
        var path = Path.Combine(_dir, "ip_config.txt");
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public async Task A_local_deploy_of_a_seed_and_two_workers_forms_the_cluster_and_deploy_stop_stops_every_node()
    {
        int[] ports = [TestNodes.FreePort(), TestNodes.FreePort(), TestNodes.FreePort()];
        var ip = IpConfig($"# seed, then two workers\n127.0.0.1 {ports[0]}\n127.0.0.1 {ports[1]}\n\n127.0.0.1 {ports[2]}  # last\n");
        var outDir = Path.Combine(_dir, "out");

        var deploy = await Cli("deploy", "--ip-config", ip, "--layout", "none:1,partition+trainer:2", "--store", TestStore.TwoParts, "--out", outDir,
            "--local", "--up-timeout", "90s");
        foreach (var pidFile in Directory.GetFiles(Path.Combine(outDir, "pids"), "*.pid"))
            _pids.Add(int.Parse(File.ReadAllText(pidFile).Trim()));
        Assert.True(deploy.Exit == 0, $"deploy exited {deploy.Exit}");
        Assert.Contains("cluster up: 3 members", deploy.Stdout);
        Assert.Equal(3, _pids.Count);
        Assert.All(_pids, pid => Assert.True(Directory.Exists($"/proc/{pid}"), $"pid {pid} is not running"));

        var show = await Cli("ctl", "cluster", "show", "--json", "--contact", $"127.0.0.1:{ports[0]}", "--timeout", "10s");
        Assert.Equal(0, show.Exit);
        var members = JsonDocument.Parse(show.Stdout).RootElement.GetProperty("members").EnumerateArray()
            .ToDictionary(m => m.GetProperty("address").GetString()!, m => (Status: m.GetProperty("status").GetString(),
                Roles: string.Join("+", m.GetProperty("roles").EnumerateArray().Select(r => r.GetString()).Order())));
        Assert.Equal(3, members.Count);
        Assert.Equal(("Up", ""), members[TestNodes.Address(ports[0])]);
        Assert.Equal(("Up", "partition+trainer"), members[TestNodes.Address(ports[1])]);
        Assert.Equal(("Up", "partition+trainer"), members[TestNodes.Address(ports[2])]);

        var status = await Cli("deploy", "status", "--out", outDir);
        Assert.Equal(0, status.Exit);
        Assert.Contains("3 of 3 node processes alive", status.Stdout);

        // A second deploy into the same folder refuses while its nodes run.
        var again = await Cli("deploy", "--ip-config", ip, "--layout", "none:1,partition+trainer:2", "--store", TestStore.TwoParts, "--out", outDir, "--local");
        Assert.Equal(2, again.Exit);
        Assert.Contains("already has running nodes", again.Stderr);

        var stop = await Cli("deploy", "stop", "--out", outDir, "--timeout", "45s");
        Assert.Equal(0, stop.Exit);
        Assert.Contains("every node is stopped", stop.Stdout);
        Assert.Equal(3, System.Text.RegularExpressions.Regex.Matches(stop.Stdout, @"stopped \(SIGTERM\)").Count);
        Assert.All(_pids, pid => Assert.False(IsLiveProcess(pid), $"pid {pid} still runs after deploy stop"));
        Assert.Empty(Directory.GetFiles(Path.Combine(outDir, "pids")));
        // Each node left through CoordinatedShutdown.
        foreach (var n in new[] { "node-0", "node-1", "node-2" })
            Assert.Contains("node left the cluster and stopped", File.ReadAllText(Path.Combine(outDir, "logs", n + ".log")));

        var after = await Cli("deploy", "status", "--out", outDir);
        Assert.Equal(1, after.Exit);
        Assert.Contains("0 of 3 node processes alive", after.Stdout);
    }

    [Fact]
    public async Task A_dry_run_prints_the_plan_and_the_ssh_commands_and_starts_nothing()
    {
        var ip = IpConfig("10.9.0.1\n10.9.0.2 4100\n10.9.0.3\n");
        var outDir = Path.Combine(_dir, "dry");
        var r = await Cli("deploy", "--ip-config", ip, "--layout", "partition:1,trainer:2", "--store", "/data/store", "--out", outDir, "--dry-run",
            "--journal", "postgres:Host=db;Database=ga;Username=ga;Password=pw");
        Assert.Equal(0, r.Exit);
        Assert.Matches(@"node-0\s+10\.9\.0\.1:4053\s+partition\s+" + System.Text.RegularExpressions.Regex.Escape(outDir), r.Stdout);
        Assert.Matches(@"node-1\s+10\.9\.0\.2:4100\s+trainer", r.Stdout);
        Assert.Contains($"scp -q -o BatchMode=yes -o ConnectTimeout=10 {outDir}/nodes/node-2.hocon 10.9.0.3:{outDir}/nodes/node-2.hocon", r.Stdout);
        Assert.Contains($"ssh -o BatchMode=yes -o ConnectTimeout=10 10.9.0.3 'cd {outDir} && nohup graphactors node --config {outDir}/nodes/node-2.hocon", r.Stdout);
        Assert.Contains("Password=***", r.Stdout);
        Assert.DoesNotContain("Password=pw", r.Stdout);
        Assert.Equal(3, Directory.GetFiles(Path.Combine(outDir, "nodes"), "*.hocon").Length);
        Assert.False(Directory.Exists(Path.Combine(outDir, "pids")));
    }

    [Fact]
    public async Task Bad_input_exits_2_with_a_message_naming_the_line_or_the_counts()
    {
        var ip = IpConfig("127.0.0.1\n127.0.0.1 http\n");
        var bad = await Cli("deploy", "--ip-config", ip, "--layout", "none:2", "--store", _dir, "--out", Path.Combine(_dir, "o"));
        Assert.Equal(2, bad.Exit);
        Assert.Contains($"{ip} line 2", bad.Stderr);

        var ip2 = IpConfig("127.0.0.1\n127.0.0.1\n");
        var counts = await Cli("deploy", "--ip-config", ip2, "--layout", "none:1,partition:2", "--store", _dir, "--out", Path.Combine(_dir, "o"));
        Assert.Equal(2, counts.Exit);
        Assert.Contains("places 3 node(s)", counts.Stderr);
        Assert.Contains("lists 2 host(s)", counts.Stderr);

        var notLocal = await Cli("deploy", "--ip-config", IpConfig("10.9.9.9\n"), "--layout", "none", "--store", TestStore.TwoParts, "--out", Path.Combine(_dir, "o"), "--local");
        Assert.Equal(2, notLocal.Exit);
        Assert.Contains("10.9.9.9 (line 1)", notLocal.Stderr);
    }

    private static bool IsLiveProcess(int pid)
    {
        try
        {
            // A zombie (exited, not yet reaped by its new parent) has an empty command line.
            return File.ReadAllText($"/proc/{pid}/cmdline").Length > 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        // A failed test must not leave nodes behind: they were started detached (setsid), not as our children.
        foreach (var pid in _pids.Where(IsLiveProcess))
            try { System.Diagnostics.Process.GetProcessById(pid).Kill(); } catch (Exception e) when (e is ArgumentException or InvalidOperationException) { }
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
