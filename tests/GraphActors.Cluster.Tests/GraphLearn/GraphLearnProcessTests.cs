using GraphActors.Cluster.Tests.Support;
using Xunit.Abstractions;

namespace GraphActors.Cluster.Tests.GraphLearn;

/// <summary>
/// GraphLearn's distributed init forms with one process per task on 127.0.0.1: the translated GraphLearn program
/// (tests/GraphActors.GraphLearnProgram) in worker mode synchronised through a file-system tracker, and in server mode
/// with client_count, where the server's wait_for_close() returns only once both clients have closed. Workers and
/// clients each walk one GSL epoch of their share of the users.
/// </summary>
[Collection(MultiNodeCollection.Name)]
public sealed class GraphLearnProcessTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Exit = TimeSpan.FromMinutes(3);

    // Users 1000 + i carry label i mod 3: 1000, 1001, 1002 and 1599 are 0, 1, 2 and 2.
    private const string Labels = "labels=0,1,2,2";

    private static string ProgramDll
    {
        get
        {
            var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}") ? "Release" : "Debug";
            var dll = Path.Combine(RepoFiles.Root, "tests", "GraphActors.GraphLearnProgram", "bin", configuration, "net10.0", "GraphActors.GraphLearnProgram.dll");
            Assert.True(File.Exists(dll), $"{dll} is missing: build tests/GraphActors.GraphLearnProgram first.");
            return dll;
        }
    }

    private async Task<int> Exited(CliProcess p, string name)
    {
        try
        {
            return await p.WaitForExit(Exit);
        }
        finally
        {
            output.WriteLine($"=== {name}\n{p.Output}");
        }
    }

    [Fact]
    public async Task Worker_tasks_started_apart_find_each_other_through_the_tracker_directory()
    {
        var dir = Path.Combine(Path.GetTempPath(), "ga-gl-proc-worker", Guid.NewGuid().ToString("N"));
        var (nodes, edges) = ClusterInitSpec.WriteSources(dir);
        var tracker = Path.Combine(dir, "tracker");
        var store = Path.Combine(dir, "store");
        string Out(int t) => Path.Combine(dir, $"task-{t}.out");
        // Task 1 first: it waits for task 0's store and address, as tasks started by a scheduler in any order would.
        using var t1 = CliProcess.StartProgram(ProgramDll, ["worker", "1", "2", tracker, store, nodes, edges, Out(1)]);
        await Task.Delay(TimeSpan.FromSeconds(2));
        using var t0 = CliProcess.StartProgram(ProgramDll, ["worker", "0", "2", tracker, store, nodes, edges, Out(0)]);
        Assert.Equal(0, await Exited(t0, "task 0"));
        Assert.Equal(0, await Exited(t1, "task 1"));
        for (var t = 0; t < 2; t++)
        {
            var line = File.ReadAllText(Out(t)).Trim();
            Assert.StartsWith($"ok worker {t} {File.ReadAllText(Path.Combine(tracker, $"task-{t}")).Trim()} ", line);
            Assert.Contains("up=2", line);
            Assert.EndsWith(Labels, line);
        }
        AssertSharesAreEveryUserOnce(Out(0) + ".gsl", Out(1) + ".gsl");
    }

    // Each task's GSL epoch walked its own half of users 1000..1599; together, every user once.
    private static void AssertSharesAreEveryUserOnce(params string[] files)
    {
        var shares = files.Select(f => File.ReadAllLines(f).Select(long.Parse).ToArray()).ToArray();
        Assert.All(shares, s => Assert.Equal(600 / files.Length, s.Length));
        Assert.Equal(Enumerable.Range(1000, 600).Select(x => (long)x), shares.SelectMany(s => s).Order());
    }

    [Fact]
    public async Task A_server_waits_for_close_until_every_counted_client_has_closed()
    {
        var dir = Path.Combine(Path.GetTempPath(), "ga-gl-proc-server", Guid.NewGuid().ToString("N"));
        var (nodes, edges) = ClusterInitSpec.WriteSources(dir);
        var store = Path.Combine(dir, "store");
        var servers = $"127.0.0.1:{TestNodes.FreePort()}";
        var serverOut = Path.Combine(dir, "server.out");
        string ClientOut(int c) => Path.Combine(dir, $"client-{c}.out");
        using var server = CliProcess.StartProgram(ProgramDll, ["server", "0", servers, "2", store, nodes, edges, serverOut]);
        using (var c0 = CliProcess.StartProgram(ProgramDll, ["client", "0", servers, "2", store, ClientOut(0)]))
            Assert.Equal(0, await Exited(c0, "client 0"));
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.False(server.HasExited, "the server returned from wait_for_close() with one of its two clients never seen");
        Assert.DoesNotContain("closed", File.ReadAllText(serverOut));

        using (var c1 = CliProcess.StartProgram(ProgramDll, ["client", "1", servers, "2", store, ClientOut(1)]))
            Assert.Equal(0, await Exited(c1, "client 1"));
        Assert.Equal(0, await Exited(server, "server"));
        var lines = File.ReadAllLines(serverOut);
        Assert.Equal(2, lines.Length);
        Assert.StartsWith($"ok server 0 {servers} ", lines[0]);
        Assert.EndsWith(Labels, lines[0]);
        Assert.Equal("closed", lines[1]);
        for (var c = 0; c < 2; c++) Assert.EndsWith(Labels, File.ReadAllText(ClientOut(c)).Trim());
        AssertSharesAreEveryUserOnce(ClientOut(0) + ".gsl", ClientOut(1) + ".gsl");
    }
}
