// `graphactors ctl` against a real two-process cluster on 127.0.0.1, itself run as a child process with --json.
using System.Diagnostics;
using System.Text.Json;
using GraphActors.Cluster.Tests.Support;

namespace GraphActors.Cluster.Tests.Commands;

/// <summary>
/// The seed (role partition) and a second partition node, both serving the 2-partition test store. Tests that make a
/// member come or go use a third node of their own (role trainer), so the partition placement stays put for the others.
/// </summary>
public sealed class CtlClusterFixture : IAsyncLifetime
{
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    private CliProcess? _seed, _second;

    public int SeedPort { get; } = TestNodes.FreePort();
    public int SecondPort { get; } = TestNodes.FreePort();
    public string Seed => TestNodes.Address(SeedPort);
    public string Second => TestNodes.Address(SecondPort);

    /// <summary>The cluster's ctl token (GA_CTL_TOKEN on both nodes): changing commands carry it.</summary>
    public string Token { get; } = $"ctl-test-{Guid.NewGuid():N}";
    public Dictionary<string, string> TokenEnv => new() { ["GA_CTL_TOKEN"] = Token };

    public async Task InitializeAsync()
    {
        _seed = CliProcess.Node(CliProcess.NodeHocon(SeedPort, SeedPort, "partition"), TestStore.TwoParts, TokenEnv);
        await _seed.WaitForLine("is up: joined the cluster", Wait);
        _second = CliProcess.Node(CliProcess.NodeHocon(SecondPort, SeedPort, "partition"), TestStore.TwoParts, TokenEnv);
        await _second.WaitForLine("is up: joined the cluster", Wait);
    }

    public string NodeOutput => $"=== seed ===\n{_seed?.Output}\n=== second ===\n{_second?.Output}";

    /// <summary>What the seed has logged so far (stdout: loglevel INFO).</summary>
    public string SeedLog => _seed?.Stdout ?? "";

    public Task DisposeAsync()
    {
        _second?.Dispose();
        _seed?.Dispose();
        return Task.CompletedTask;
    }
}

[Collection(MultiNodeCollection.Name)]
public class CtlProcessTests(CtlClusterFixture cluster) : IClassFixture<CtlClusterFixture>
{
    private static readonly TimeSpan Wait = CtlClusterFixture.Wait;

    private sealed record Run(int ExitCode, string Stdout, string Stderr, TimeSpan Took)
    {
        public JsonElement Json => JsonDocument.Parse(Stdout).RootElement;
        public override string ToString() => $"exit {ExitCode} after {Took}\n--- stdout ---\n{Stdout}--- stderr ---\n{Stderr}";
    }

    // Every run carries the cluster's token (as GA_CTL_TOKEN) unless the test says otherwise.
    private Task<Run> Ctl(params string[] args) => CtlWith(cluster.TokenEnv, args);

    private async Task<Run> CtlWith(IDictionary<string, string>? env, params string[] args)
    {
        var watch = Stopwatch.StartNew();
        using var p = CliProcess.Start(["ctl", "--contact", cluster.Seed, "--json", .. args], env);
        var exit = await p.WaitForExit(Wait);
        return new Run(exit, p.Stdout, p.Stderr, watch.Elapsed);
    }

    /// <summary>Runs a ctl command until <paramref name="done"/> holds for its answer; every try and the whole wait are bounded.</summary>
    private async Task<Run> Eventually(Func<Run, bool> done, string what, params string[] args)
    {
        var deadline = DateTime.UtcNow + Wait;
        while (true)
        {
            var run = await Ctl(args);
            if (done(run)) return run;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"after {Wait}, still not {what}; last `ctl {string.Join(' ', args)}`: {run}\n{cluster.NodeOutput}");
            await Task.Delay(300);
        }
    }

    private static IEnumerable<JsonElement> Members(Run r) => r.Json.GetProperty("members").EnumerateArray();

    private static bool HasMember(Run r, string address, string status = "Up") =>
        r.ExitCode == 0 && Members(r).Any(m => m.GetProperty("address").GetString() == address && m.GetProperty("status").GetString() == status);

    [Fact]
    public async Task Cluster_show_lists_both_members_with_their_roles_status_Up_and_a_leader()
    {
        var run = await Eventually(r => HasMember(r, cluster.Seed) && HasMember(r, cluster.Second), "both members up", "cluster", "show");

        Assert.Equal(cluster.Seed, run.Json.GetProperty("self").GetString());
        var leader = run.Json.GetProperty("leader").GetString();
        Assert.Contains(leader, new[] { cluster.Seed, cluster.Second });
        foreach (var address in new[] { cluster.Seed, cluster.Second })
        {
            var m = Members(run).Single(m => m.GetProperty("address").GetString() == address);
            Assert.Equal(new[] { "partition" }, m.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
            Assert.True(m.GetProperty("reachable").GetBoolean());
        }
        // The seed watched the second node come up.
        Assert.NotEqual(JsonValueKind.Null, Members(run).Single(m => m.GetProperty("address").GetString() == cluster.Second).GetProperty("upSince").ValueKind);
    }

    [Fact]
    public async Task Partitions_show_lists_every_partition_with_the_node_hosting_it()
    {
        // Exit 0 only when every partition serves; partition 1 moves to its home (the second node) after it joined.
        var run = await Eventually(r => r.ExitCode == 0 && r.Json.GetProperty("partitions").EnumerateArray()
            .Select(p => p.GetProperty("node").GetString()).Distinct().Count() == 2, "every partition serving on its home node", "partitions", "show");

        Assert.Equal(2, run.Json.GetProperty("parts").GetInt32());
        var partitions = run.Json.GetProperty("partitions").EnumerateArray().ToArray();
        Assert.Equal(new[] { 0, 1 }, partitions.Select(p => p.GetProperty("partition").GetInt32()));
        foreach (var p in partitions)
        {
            Assert.Equal("Serving", p.GetProperty("state").GetString());
            Assert.Contains(p.GetProperty("node").GetString(), new[] { cluster.Seed, cluster.Second });
            Assert.True(p.GetProperty("mappedBytes").GetInt64() > 0);
            Assert.True(p.GetProperty("requests").GetInt64() >= 1);
        }

        // Asked again, a node that answered before knows the previous counts and gives a rate. Each ctl run may reach
        // either node's handler (the receptionist picks one), so the first repeat can land on the node that has not
        // answered yet: ask until one gives rates, which must then be numbers ≥ 0.
        var again = await Eventually(r => r.ExitCode == 0 && r.Json.GetProperty("partitions").EnumerateArray()
            .All(p => p.GetProperty("requestsPerSecond").ValueKind == JsonValueKind.Number), "a rate for every partition", "partitions", "show");
        Assert.All(again.Json.GetProperty("partitions").EnumerateArray(),
            p => Assert.True(p.GetProperty("requestsPerSecond").GetDouble() >= 0, again.ToString()));
    }

    [Fact]
    public async Task Cluster_tail_with_count_1_prints_the_event_when_a_node_joins()
    {
        var port = TestNodes.FreePort();
        var joiner = TestNodes.Address(port);
        using var tail = CliProcess.Start(["ctl", "--contact", cluster.Seed, "--json", "cluster", "tail", "--count", "1"]);
        await tail.WaitForLine("tailing membership events seen by", Wait);

        using var node = CliProcess.Node(CliProcess.NodeHocon(port, cluster.SeedPort, "trainer"));
        try
        {
            Assert.Equal(0, await tail.WaitForExit(Wait));
            var e = JsonDocument.Parse(tail.Stdout.Trim()).RootElement;
            Assert.Equal("joined", e.GetProperty("kind").GetString());
            Assert.Equal(joiner, e.GetProperty("member").GetProperty("address").GetString());
            Assert.Equal(new[] { "trainer" }, e.GetProperty("member").GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
            Assert.Equal(cluster.Seed, e.GetProperty("observedBy").GetString());
        }
        finally
        {
            await node.WaitForLine("is up: joined the cluster", Wait);
            await node.Terminate(Wait);
        }
    }

    [Fact]
    public async Task Cluster_leave_removes_the_member_and_its_process_exits_0()
    {
        var port = TestNodes.FreePort();
        var leaver = TestNodes.Address(port);
        using var node = CliProcess.Node(CliProcess.NodeHocon(port, cluster.SeedPort, "trainer"));
        await node.WaitForLine("is up: joined the cluster", Wait);
        await Eventually(r => HasMember(r, leaver), "the new member up as the seed sees it", "cluster", "show");

        var leave = await Ctl("cluster", "leave", leaver);
        Assert.True(leave.ExitCode == 0, leave.ToString());
        Assert.True(leave.Json.GetProperty("ok").GetBoolean());

        Assert.Equal(0, await node.WaitForExit(Wait));
        Assert.Contains("asked to leave", node.Stdout);
        await Eventually(r => r.ExitCode == 0 && Members(r).All(m => m.GetProperty("address").GetString() != leaver),
            "the member gone", "cluster", "show");
    }

    [Fact]
    public async Task Cluster_leave_of_an_address_that_is_no_member_is_refused_with_exit_code_1()
    {
        var run = await Ctl("cluster", "leave", "127.0.0.1:1");
        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.False(run.Json.GetProperty("ok").GetBoolean());
        Assert.Contains("is not a member", run.Json.GetProperty("message").GetString());
    }

    [Fact]
    public async Task Train_commands_without_a_trainer_node_are_refused_at_once_naming_the_missing_role()
    {
        // Other tests of this class bring trainer nodes that leave again: wait until none is a member.
        var run = await Eventually(r => r.ExitCode == 1, "refused for want of a trainer node", "train", "status");
        Assert.Contains("no member with role 'trainer' is up", run.Json.GetProperty("message").GetString());

        var export = await Ctl("model", "export", "--out", Path.Combine(Path.GetTempPath(), $"ga-no-model-{Guid.NewGuid():N}"));
        Assert.True(export.ExitCode == 1, export.ToString());
        Assert.False(export.Json.GetProperty("ok").GetBoolean());
        Assert.Contains("role 'trainer'", export.Json.GetProperty("message").GetString());
    }

    [Fact]
    public async Task Changing_commands_without_the_token_or_with_a_wrong_one_are_refused_with_exit_code_5_and_change_nothing()
    {
        await Eventually(r => HasMember(r, cluster.Second), "the second node up", "cluster", "show");

        var bare = await CtlWith(null, "cluster", "leave", cluster.Second);
        Assert.True(bare.ExitCode == 5, bare.ToString());
        Assert.False(bare.Json.GetProperty("authorized").GetBoolean());
        Assert.Equal("cluster leave", bare.Json.GetProperty("command").GetString());
        Assert.Contains("needs the cluster's ctl token, and none was given", bare.Json.GetProperty("message").GetString());
        Assert.Contains("--token-file", bare.Stderr);

        var wrong = await CtlWith(new Dictionary<string, string> { ["GA_CTL_TOKEN"] = "not-the-token" }, "cluster", "down", cluster.Second);
        Assert.True(wrong.ExitCode == 5, wrong.ToString());
        Assert.Contains("`ctl cluster down` was refused: the token given is not this node's", wrong.Json.GetProperty("message").GetString());

        // The check comes before anything else: an export is refused for its credential, not for want of a trainer.
        var export = await CtlWith(null, "model", "export", "--out", Path.Combine(Path.GetTempPath(), $"ga-no-model-{Guid.NewGuid():N}"));
        Assert.True(export.ExitCode == 5, export.ToString());
        Assert.Equal("model export", export.Json.GetProperty("command").GetString());

        // Read-only commands need nothing, and the member is still there.
        var show = await CtlWith(null, "cluster", "show");
        Assert.True(HasMember(show, cluster.Second), show.ToString());
        // The node logs through Akka's asynchronous logger and its stdout reaches the test through a pipe: the refusal's
        // line may follow the answer by a moment on a busy machine.
        var logged = DateTime.UtcNow.AddSeconds(15);
        while (DateTime.UtcNow < logged && !cluster.SeedLog.Contains("ctl: refused `cluster leave`")) await Task.Delay(50);
        Assert.Contains("ctl: refused `cluster leave`", cluster.SeedLog);
        Assert.DoesNotContain("not-the-token", cluster.SeedLog);
    }

    [Fact]
    public async Task Ctl_clients_that_come_and_go_leave_no_ERROR_in_the_node_log_even_one_killed_mid_connection()
    {
        for (var i = 0; i < 3; i++)
        {
            var run = await Ctl("cluster", "show");
            Assert.True(run.ExitCode == 0, run.ToString());
        }
        // A client that never says goodbye: Akka.Remote logged its disassociation as an ERROR with a stack trace.
        using (var tail = CliProcess.Start(["ctl", "--contact", cluster.Seed, "cluster", "tail"]))
        {
            await tail.WaitForLine("tailing membership events seen by", Wait);
            await tail.Kill(Wait);
        }
        var settled = DateTime.UtcNow + TimeSpan.FromSeconds(8);
        while (DateTime.UtcNow < settled && !cluster.SeedLog.Contains("Association with remote system akka.tcp://graphactors-ctl@"))
            await Task.Delay(200);

        // Only lines about a ctl client (its system's name, plain or URL-encoded in an endpoint's path): other tests of
        // this class make a node leave the shared cluster, and that node's disassociation is not a ctl client's.
        var errors = cluster.SeedLog.Split('\n')
            .Where(l => l.StartsWith("[ERROR]", StringComparison.Ordinal) && l.Contains(Names.CtlSystem, StringComparison.Ordinal))
            .ToArray();
        Assert.True(errors.Length == 0, $"ERROR lines about ctl clients:\n{string.Join('\n', errors)}\n{cluster.NodeOutput}");
    }

    [Fact]
    public async Task Cluster_down_unreachable_with_every_member_reachable_downs_none_and_exits_0()
    {
        var run = await Ctl("cluster", "down-unreachable");
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.True(run.Json.GetProperty("ok").GetBoolean());
        Assert.Equal(0, run.Json.GetProperty("downed").GetArrayLength());
        Assert.Equal(cluster.Seed, run.Json.GetProperty("observedBy").GetString());

        var text = await CtlText("cluster", "down-unreachable");
        Assert.True(text.ExitCode == 0, text.ToString());
        Assert.Contains("nothing to down", text.Stdout);

        var bare = await CtlWith(null, "cluster", "down-unreachable");
        Assert.True(bare.ExitCode == 5, bare.ToString());
    }

    [Fact]
    public async Task Cluster_join_of_a_member_to_another_cluster_is_refused_with_exit_code_1_saying_Akka_would_ignore_it()
    {
        var run = await Ctl("cluster", "join", "127.0.0.1:1");
        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.False(run.Json.GetProperty("ok").GetBoolean());
        Assert.Contains("Akka ignores a join of a node that is part of a cluster", run.Json.GetProperty("message").GetString());

        // Its own cluster: nothing to do.
        var same = await Ctl("cluster", "join", cluster.Second);
        Assert.True(same.ExitCode == 0, same.ToString());
        Assert.Contains("nothing to do", same.Json.GetProperty("message").GetString());
    }

    [Fact]
    public async Task Model_commands_without_an_inference_node_exit_1_naming_the_missing_role_and_bad_usage_exits_2()
    {
        var list = await Ctl("model", "list");
        Assert.True(list.ExitCode == 1, list.ToString());
        Assert.False(list.Json.GetProperty("ok").GetBoolean());
        Assert.Contains("no member with role 'inference' is up", list.Json.GetProperty("problem").GetString());

        var register = await Ctl("model", "register", "--url", "runs/job-1", "--name", "sage");
        Assert.True(register.ExitCode == 1, register.ToString());
        Assert.Contains("role 'inference'", register.Json.GetProperty("problem").GetString());

        var bare = await CtlWith(null, "model", "unregister", "sage");
        Assert.True(bare.ExitCode == 5, bare.ToString());

        var scale = await Ctl("model", "scale", "sage", "--min-worker", "3", "--max-worker", "1");
        Assert.True(scale.ExitCode == 2, scale.ToString());
        Assert.Contains("--max-worker 1 is less than --min-worker 3", scale.Stderr);

        var noUrl = await Ctl("model", "register", "--name", "sage");
        Assert.True(noUrl.ExitCode == 2, noUrl.ToString());
        Assert.Contains("--url", noUrl.Stderr);
    }

    [Fact]
    public async Task Help_of_the_new_verbs_says_what_they_do()
    {
        var join = await CtlText("cluster", "join", "--help");
        Assert.Contains("Akka ignores a join of a node that is", join.Stdout);
        var model = await CtlText("model", "--help");
        foreach (var verb in new[] { "list", "register", "unregister", "scale", "export" }) Assert.Contains(verb, model.Stdout);
        var root = await CtlText("--help");
        Assert.Contains("down-unreachable", root.Stdout);
    }

    /// <summary>A run without --json: the text a person reads.</summary>
    private async Task<Run> CtlText(params string[] args)
    {
        var watch = Stopwatch.StartNew();
        using var p = CliProcess.Start(["ctl", "--contact", cluster.Seed, .. args], cluster.TokenEnv);
        var exit = await p.WaitForExit(Wait);
        return new Run(exit, p.Stdout, p.Stderr, watch.Elapsed);
    }

    [Fact]
    public async Task Ctl_against_a_port_where_nothing_listens_fails_with_exit_code_3_within_seconds()
    {
        var nobody = TestNodes.Address(TestNodes.FreePort());
        var watch = Stopwatch.StartNew();
        using var p = CliProcess.Start(["ctl", "--contact", nobody, "--timeout", "2s", "cluster", "show"]);
        var exit = await p.WaitForExit(Wait);

        Assert.Equal(3, exit);
        Assert.Contains(nobody, p.Stderr);
        Assert.Contains("no answer from the cluster within 2 s", p.Stderr);
        // 2 s of waiting plus starting and stopping the client process (slow on a loaded 2-core machine), never a hang.
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(12), $"took {watch.Elapsed}");
    }
}
