// graphactors bench idle: the CPU an idle cluster burns, per node process, from /proc/<pid>/stat over a window.
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using GraphActors.Cluster.Hosting;
using Spectre.Console;

namespace GraphActors.Cli.Bench;

/// <summary>
/// Either starts <c>--nodes</c> `graphactors node` processes on 127.0.0.1 (the first is the seed, every node with
/// <c>--roles</c>, <c>--set</c> lines appended to each node's HOCON), waits until each says it is up, lets them settle
/// (the runtime keeps compiling methods for a minute or so after start), measures, and stops them with SIGTERM; or
/// measures the running nodes of a `graphactors deploy --local` (<c>--deploy-out</c>) and leaves them running. The
/// figures: utime + stime of each process over <c>--window</c> seconds (CPU-seconds, and % of one core), RSS, by
/// role set, and the load average at start and end (other work on the machine shows there, not in a process's time).
/// </summary>
public static class IdleBenchmark
{
    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);

    internal sealed record Node(string Name, string Roles, int Pid);

    public static Command Create()
    {
        var nodes = new Option<int>("--nodes") { Description = "Node processes to start on 127.0.0.1 (ignored with --deploy-out)", DefaultValueFactory = _ => 1 };
        var roles = new Option<string>("--roles") { Description = "Roles of every started node, comma separated ('' = none)", DefaultValueFactory = _ => "" };
        var set = new Option<string[]>("--set") { Description = "A HOCON line appended to every started node's config (repeatable), e.g. 'akka.scheduler.tick-duration = 10ms'" };
        var basePort = new Option<int>("--base-port") { Description = "Port of the seed; the others take the next ones", DefaultValueFactory = _ => 4800 };
        var settle = new Option<int>("--settle") { Description = "Seconds between all up and the measurement", DefaultValueFactory = _ => 60 };
        var window = new Option<int>("--window") { Description = "Seconds measured", DefaultValueFactory = _ => 60 };
        var upTimeout = new Option<int>("--up-timeout") { Description = "Seconds to wait for every started node to be up", DefaultValueFactory = _ => 300 };
        var deployOut = new Option<string?>("--deploy-out") { Description = "Measure the running nodes of `graphactors deploy --local --out DIR` instead of starting any" };
        var cmd = new Command("idle", "CPU (utime+stime from /proc) and RSS of idle cluster nodes over a window: nodes it starts, or a local deployment's");
        foreach (var o in new Option[] { nodes, roles, set, basePort, settle, window, upTimeout, deployOut }) cmd.Options.Add(o);
        cmd.SetAction(async (pr, ct) =>
        {
            var inv = CultureInfo.InvariantCulture;
            var machine = $"{Environment.ProcessorCount} cores, {GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1L << 30)} GB";
            var loadStart = BenchLoad.Read();
            AnsiConsole.MarkupLineInterpolated(inv, $"{machine}; load average at start {loadStart}");
            var dir = pr.GetValue(deployOut);
            var started = new List<Process>();
            var workDir = Path.Combine(Path.GetTempPath(), $"ga-bench-idle-{Environment.ProcessId}");
            try
            {
                IReadOnlyList<Node> measured;
                if (dir is not null)
                {
                    measured = DeployedNodes(dir);
                    if (measured.Count == 0)
                        throw new DeployException($"no node of the deployment in {Path.GetFullPath(dir)} is running (`graphactors deploy status --out {dir}`).");
                    AnsiConsole.MarkupLineInterpolated(inv, $"measuring {measured.Count} running node(s) of {Path.GetFullPath(dir)}");
                }
                else
                {
                    var sw = Stopwatch.StartNew();
                    measured = await StartNodes(pr.GetValue(nodes), pr.GetValue(roles)!, pr.GetValue(set) ?? [], pr.GetValue(basePort), workDir, started,
                        TimeSpan.FromSeconds(pr.GetValue(upTimeout)), ct);
                    AnsiConsole.MarkupLineInterpolated(inv, $"{measured.Count} node(s) up after {sw.Elapsed.TotalSeconds:F1} s; settling {pr.GetValue(settle)} s");
                    await Task.Delay(TimeSpan.FromSeconds(pr.GetValue(settle)), ct);
                }

                var seconds = pr.GetValue(window);
                var tick = (double)sysconf(ClockTicksName);
                var before = measured.ToDictionary(n => n.Pid, n => CpuTicks(n.Pid));
                var loadMeasured = BenchLoad.Read();
                await Task.Delay(TimeSpan.FromSeconds(seconds), ct);
                var rows = measured.Select(n =>
                {
                    var after = CpuTicks(n.Pid);
                    var cpu = after is { } a && before[n.Pid] is { } b ? (a - b) / tick : double.NaN;
                    return (Node: n, CpuSeconds: cpu, Rss: RssMb(n.Pid));
                }).ToList();
                var loadEnd = BenchLoad.Read();

                var table = new Table().AddColumns("node", "roles", "pid", "CPU-s", "% of a core", "RSS (MB)");
                foreach (var r in rows)
                    table.AddRow(r.Node.Name, r.Node.Roles, r.Node.Pid.ToString(inv), r.CpuSeconds.ToString("F2", inv),
                        (100 * r.CpuSeconds / seconds).ToString("F2", inv), r.Rss.ToString("F0", inv));
                AnsiConsole.Write(table);
                var byRole = new Table().AddColumns("roles", "nodes", "% of a core per node (mean)", "max", "RSS per node (MB, mean)", "max");
                foreach (var g in rows.GroupBy(r => r.Node.Roles).OrderBy(g => g.Key, StringComparer.Ordinal))
                    byRole.AddRow(g.Key, g.Count().ToString(inv), (100 * g.Average(r => r.CpuSeconds) / seconds).ToString("F2", inv),
                        (100 * g.Max(r => r.CpuSeconds) / seconds).ToString("F2", inv), g.Average(r => r.Rss).ToString("F0", inv), g.Max(r => r.Rss).ToString("F0", inv));
                AnsiConsole.Write(byRole);
                var gone = rows.Where(r => double.IsNaN(r.CpuSeconds)).Select(r => r.Node.Name).ToArray();
                var live = rows.Where(r => !double.IsNaN(r.CpuSeconds)).ToList();
                var total = live.Sum(r => r.CpuSeconds);
                Console.WriteLine(string.Create(inv,
                    $"| {live.Count} idle node(s) | {seconds} s | {100 * total / seconds:F1} % of a core in all | {100 * total / seconds / Math.Max(1, live.Count):F2} % per node (mean) | " +
                    $"{100 * live.Max(r => r.CpuSeconds) / seconds:F2} % (max) | RSS {live.Average(r => r.Rss):F0} MB per node | load average {loadMeasured} → {loadEnd} |"));
                AnsiConsole.MarkupLineInterpolated(inv, $"load average at the window's start {loadMeasured}, at its end {loadEnd}");
                if (gone.Length > 0)
                {
                    AnsiConsole.MarkupLineInterpolated(inv, $"[red]error:[/] {string.Join(", ", gone)} exited during the measurement");
                    return 1;
                }
                return 0;
            }
            finally
            {
                await StopAll(started);
                if (started.Count > 0 && Directory.Exists(workDir)) Directory.Delete(workDir, recursive: true);
            }
        });
        return cmd;
    }

    internal static IReadOnlyList<Node> DeployedNodes(string dir)
    {
        var plan = DeployPlan.Read(dir);
        var nodes = new List<Node>();
        foreach (var n in plan.Nodes)
        {
            if (!File.Exists(n.PidFile) || !int.TryParse(File.ReadAllText(n.PidFile).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)) continue;
            string cmdline;
            try
            {
                cmdline = File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
            }
            catch (IOException)
            {
                continue;
            }
            // A pid file outlives its node, and pids are reused: only a process whose command line names the node's config is it.
            if (cmdline.Contains(n.Config, StringComparison.Ordinal)) nodes.Add(new Node(n.Name, RoleText(n.Roles), pid));
        }
        return nodes;
    }

    private static async Task<IReadOnlyList<Node>> StartNodes(int count, string roles, string[] extra, int basePort, string workDir,
        List<Process> started, TimeSpan upTimeout, CancellationToken ct)
    {
        Directory.CreateDirectory(workDir);
        var seed = DeployPlan.AkkaAddress("127.0.0.1", basePort);
        var roleList = roles.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var up = new List<Task>();
        var nodes = new List<Node>();
        for (var i = 0; i < count; i++)
        {
            var name = $"node-{i}";
            var config = Path.Combine(workDir, name + ".hocon");
            var lines = new List<string>
            {
                $"akka.remote.dot-netty.tcp.port = {basePort + i}",
                $"akka.cluster.seed-nodes = [{NodeConfig.Quote(seed)}]",
                $"akka.cluster.roles = [{string.Join(", ", roleList)}]",
                $"graphactors.node.data-dir = {NodeConfig.Quote(Path.Combine(workDir, name))}",
                $"graphactors.ctl.token-file = {NodeConfig.Quote(Path.Combine(workDir, "ctl.token"))}",
            };
            lines.AddRange(extra);
            File.WriteAllLines(config, lines);
            // The node's configuration is its file: GA_* variables of this shell must not steer it.
            var psi = ChildCli.StartInfo(["node", "--config", config], withoutGaVariables: true);
            var p = Process.Start(psi) ?? throw new InvalidOperationException($"Could not start {psi.FileName} node.");
            started.Add(p);
            var isUp = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            p.OutputDataReceived += (_, e) =>
            {
                if (e.Data?.Contains(" is up: ", StringComparison.Ordinal) == true) isUp.TrySetResult();
            };
            p.ErrorDataReceived += (_, _) => { };
            p.BeginOutputReadLine();
            p.BeginErrorReadLine();
            up.Add(isUp.Task);
            nodes.Add(new Node(name, RoleText(roleList), p.Id));
        }
        var all = Task.WhenAll(up);
        var deadline = DateTime.UtcNow + upTimeout;
        while (!all.IsCompleted)
        {
            if (started.FirstOrDefault(p => p.HasExited) is { } dead)
                throw new InvalidOperationException($"node process {dead.Id} exited with code {dead.ExitCode} before the cluster was up.");
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"{up.Count(t => !t.IsCompleted)} of {count} node(s) were not up after {upTimeout.TotalSeconds:0} s.");
            await Task.WhenAny(all, Task.Delay(500, ct));
        }
        return nodes;
    }

    private static async Task StopAll(List<Process> started)
    {
        foreach (var p in started.Where(p => !p.HasExited)) kill(p.Id, 15);
        foreach (var p in started)
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            try
            {
                await p.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                Console.Error.WriteLine($"node process {p.Id} did not leave within 60 s: killing it");
                p.Kill(entireProcessTree: true);
            }
            p.Dispose();
        }
    }

    internal static string RoleText(IReadOnlyList<string> roles) => roles.Count == 0 ? "(none)" : string.Join("+", roles);

    private const int ClockTicksName = 2; // _SC_CLK_TCK

    [DllImport("libc")]
    private static extern long sysconf(int name);

    /// <summary>utime + stime of the process in clock ticks, or null when it is gone.</summary>
    internal static long? CpuTicks(int pid) =>
        ProcFiles.StatFields(pid) is { } fields
            ? long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)
            : null;

    internal static double RssMb(int pid) =>
        ProcFiles.Values($"/proc/{pid}/status") is { } status && status.TryGetValue("VmRSS", out var rss) ? rss / 1048576.0 : double.NaN;

}
