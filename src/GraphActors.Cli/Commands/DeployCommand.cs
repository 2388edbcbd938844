// graphactors deploy: DistDGL's ip_config.txt + a role layout → node HOCON files and a plan; start the nodes locally
// or over ssh (or only print what would run); `deploy stop` and `deploy status` act on the plan's pid files.
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using GraphActors.Cluster.Hosting;
using GraphActors.Contracts.Protocols;

namespace GraphActors.Cli.Commands;

public static class DeployCommand
{
    /// <summary>Exit codes: done; the cluster did not come up / a node would not stop; bad usage.</summary>
    public const int ExitOk = 0, ExitFailed = 1, ExitUsage = 2;

    public static Command Create()
    {
        var ipConfig = new Option<string?>("--ip-config") { Description = "DistDGL's ip_config.txt: one 'HOST [PORT]' per line, # comments (see deploy/ip_config.example.txt)" };
        var layout = new Option<string?>("--layout")
        {
            Description = "Roles per machine in ip_config order, ROLE[+ROLE]:COUNT,… e.g. none:1,partition+trainer:2 (none = no roles); counts add up to the host count",
        };
        var store = new Option<string?>("--store") { Description = "Partition store directory (written by `graphactors partition`)" };
        var output = new Option<string?>("--out") { Description = "Deployment folder: nodes/<name>.hocon, plan.json, logs/, pids/" };
        var local = new Option<bool>("--local") { Description = "Start every node as a process on this machine (hosts must be this machine's addresses)" };
        var ssh = new Option<bool>("--ssh") { Description = "Copy each node's HOCON with scp and start it with ssh + nohup on its host" };
        var dryRun = new Option<bool>("--dry-run") { Description = "Write the files and print the plan and the ssh commands; start nothing (the default)" };
        var basePort = new Option<int>("--base-port") { Description = "Port of a host's first node when its ip_config line gives none (the next nodes on the host count up)", DefaultValueFactory = _ => 4053 };
        var journal = new Option<string?>("--journal")
        {
            Description = "The training coordinator's journal: sqlite:PATH (relative to the node folder) or postgres:CONNSTR (default: sqlite:coordinator.db)",
        };
        var seeds = new Option<int>("--seeds") { Description = "How many of the first nodes are seed nodes (every node lists them)", DefaultValueFactory = _ => 1 };
        var upTimeout = new Option<string>("--up-timeout") { Description = "--local/--ssh: how long to wait for every member to be up (5s, 2m, …)", DefaultValueFactory = _ => "120s" };
        var bind = new Option<string?>("--bind") { Description = "Address the membership check listens on (default: 127.0.0.1 for local hosts, else this machine's address towards the seed)" };
        var remoteDir = new Option<string?>("--remote-dir") { Description = "--ssh: folder on every host for nodes/, logs/, pids/ (default: the absolute --out path)" };
        var copyStore = new Option<bool>("--copy-store") { Description = "--ssh: copy --store to REMOTE_DIR/store on every host (default: every host sees --store at the same path)" };
        var remoteCli = new Option<string>("--remote-cli") { Description = "--ssh: the command that runs graphactors on the hosts", DefaultValueFactory = _ => "graphactors" };

        var cmd = new Command("deploy", "Turn an ip_config.txt and a role layout into node HOCON files and start them (--local, --ssh) or print the plan (--dry-run); `deploy stop`, `deploy status`");
        foreach (var o in new Option[] { ipConfig, layout, store, output, local, ssh, dryRun, basePort, journal, seeds, upTimeout, bind, remoteDir, copyStore, remoteCli })
            cmd.Options.Add(o);
        cmd.SetAction((pr, ct) =>
        {
            try
            {
                var modes = new[] { pr.GetValue(local), pr.GetValue(ssh), pr.GetValue(dryRun) }.Count(b => b);
                if (modes > 1) throw new DeployException("give one of --local, --ssh, --dry-run.");
                var missing = new[] { ("--ip-config", pr.GetValue(ipConfig)), ("--layout", pr.GetValue(layout)), ("--store", pr.GetValue(store)), ("--out", pr.GetValue(output)) }
                    .Where(x => string.IsNullOrWhiteSpace(x.Item2)).Select(x => x.Item1).ToArray();
                if (missing.Length > 0) throw new DeployException($"missing {string.Join(", ", missing)} (graphactors deploy --help).");
                var options = new DeployOptions
                {
                    IpConfigPath = pr.GetValue(ipConfig)!, Layout = pr.GetValue(layout)!, Store = pr.GetValue(store)!, Out = pr.GetValue(output)!,
                    Mode = pr.GetValue(local) ? DeployMode.Local : pr.GetValue(ssh) ? DeployMode.Ssh : DeployMode.DryRun,
                    BasePort = pr.GetValue(basePort), Journal = pr.GetValue(journal), Seeds = pr.GetValue(seeds),
                    RemoteDir = pr.GetValue(remoteDir), CopyStore = pr.GetValue(copyStore), RemoteCli = pr.GetValue(remoteCli)!,
                };
                return Guard(() => Deploy(options, CtlCommand.ParseTimeout(pr.GetValue(upTimeout)!), pr.GetValue(bind), ct));
            }
            catch (Exception e) when (e is DeployException or FormatException)
            {
                Console.Error.WriteLine($"error: graphactors deploy: {e.Message}");
                return Task.FromResult(ExitUsage);
            }
        });

        var stopOut = new Option<string>("--out") { Description = "The deployment folder (holds plan.json and pids/)", Required = true };
        var stopTimeout = new Option<string>("--timeout") { Description = "How long the nodes get to leave after SIGTERM before SIGKILL", DefaultValueFactory = _ => "60s" };
        var stop = new Command("stop", "SIGTERM every node of the plan (each leaves the cluster through CoordinatedShutdown), SIGKILL the ones still running after --timeout");
        stop.Options.Add(stopOut);
        stop.Options.Add(stopTimeout);
        stop.SetAction((pr, ct) => Guard(() => Stop(DeployPlan.Read(pr.GetValue(stopOut)!), CtlCommand.ParseTimeout(pr.GetValue(stopTimeout)!), ct)));

        var statusOut = new Option<string>("--out") { Description = "The deployment folder (holds plan.json and pids/)", Required = true };
        var status = new Command("status", "Which nodes of the plan have a live process (exit 0 when all do, 1 otherwise)");
        status.Options.Add(statusOut);
        status.SetAction(pr => Guard(() => Task.FromResult(Status(DeployPlan.Read(pr.GetValue(statusOut)!)))).GetAwaiter().GetResult());

        cmd.Subcommands.Add(stop);
        cmd.Subcommands.Add(status);
        return cmd;
    }

    private static async Task<int> Guard(Func<Task<int>> body)
    {
        try
        {
            return await body();
        }
        catch (Exception e) when (e is DeployException or FormatException or IOException)
        {
            Console.Error.WriteLine($"error: graphactors deploy: {e.Message}");
            return ExitUsage;
        }
    }

    // ---- deploy ----

    private static async Task<int> Deploy(DeployOptions o, TimeSpan upTimeout, string? bind, CancellationToken ct)
    {
        var cli = o.Mode == DeployMode.Local ? LocalCli() : o.RemoteCli;
        var plan = DeployPlan.Build(o, cli);
        var storeKnown = Directory.Exists(o.Store) && File.Exists(Path.Combine(o.Store, "partitions.json"));
        if (!storeKnown && (o.Mode == DeployMode.Local || o.CopyStore))
            throw new DeployException($"--store '{Path.GetFullPath(o.Store)}' is not a partition store (no partitions.json): build one with `graphactors partition`.");
        if (o.Mode == DeployMode.Local)
        {
            var notLocal = plan.Nodes.Where(n => !IsLocalAddress(n.Host)).ToArray();
            if (notLocal.Length > 0)
                throw new DeployException($"--local starts every node on this machine, but {plan.IpConfig} names other hosts: " +
                                          string.Join(", ", notLocal.Select(n => $"{n.Host} (line {n.IpConfigLine})")) + ". Use --ssh or --dry-run.");
            var running = LiveNodes(plan);
            if (running.Length > 0)
                throw new DeployException($"{plan.Out} already has running nodes ({string.Join(", ", running)}): `graphactors deploy stop --out {plan.Out}` first.");
        }
        DeployPlan.Write(plan);
        PrintPlan(plan);
        Console.WriteLine($"ctl token: {Path.Combine(plan.Out, DeployPlan.CtlTokenFileName)} (mode 0600; changing ctl commands need it: " +
                          $"--token-file {Path.Combine(plan.Out, DeployPlan.CtlTokenFileName)})");
        if (!storeKnown) Console.WriteLine($"note: {plan.Store} is not a partition store on this machine; every partition and trainer node must see one there.");
        if (o.Mode != DeployMode.Local && plan.Journal.StartsWith("sqlite:", StringComparison.Ordinal) && plan.Nodes.Select(n => n.Host).Distinct().Count() > 1)
            Console.WriteLine("note: the coordinator journals to a SQLite file on whichever machine hosts it; a failover to another machine starts from an empty journal. Use --journal postgres:… for a real cluster.");

        switch (o.Mode)
        {
            case DeployMode.DryRun:
                Console.WriteLine();
                Console.WriteLine("ssh commands (--ssh runs these):");
                foreach (var line in SshSteps(plan, o)) Console.WriteLine("  " + line.Display);
                Console.WriteLine($"wrote {plan.Nodes.Count} node files under {Path.Combine(plan.Out, "nodes")} and {Path.Combine(plan.Out, DeployPlan.PlanFileName)}; nothing started (--local or --ssh starts them).");
                return ExitOk;
            case DeployMode.Local:
                StartLocal(plan);
                break;
            case DeployMode.Ssh:
                foreach (var step in SshSteps(plan, o))
                {
                    Console.WriteLine("$ " + step.Display);
                    var (code, text) = await RunAsync(step.File, step.Args, TimeSpan.FromMinutes(step.File == "scp" ? 30 : 2), ct);
                    if (code != 0) throw new DeployException($"`{step.Display}` failed with exit code {code}: {text.Trim()}");
                }
                break;
        }
        return await WaitForMembers(plan, upTimeout, bind, o.Mode == DeployMode.Local, ct);
    }

    // `dotnet graphactors.dll` when this process runs that way, else the apphost itself.
    private static string LocalCli()
    {
        var process = Environment.ProcessPath ?? "dotnet";
        var dll = typeof(DeployCommand).Assembly.Location;
        return Path.GetFileNameWithoutExtension(process) == "dotnet"
            ? $"{DeployPlan.ShellQuote(process)} {DeployPlan.ShellQuote(dll)}"
            : DeployPlan.ShellQuote(process);
    }

    private static void PrintPlan(DeployPlanFile plan)
    {
        Console.WriteLine($"deployment of {plan.Nodes.Count} node(s) from {plan.IpConfig} with layout {plan.Layout} ({plan.Mode})");
        Console.WriteLine($"seeds: {string.Join(", ", plan.Seeds)}; store: {plan.Store}; journal: {plan.Journal}");
        PrintTable(["name", "host:port", "roles", "config", "command"],
            plan.Nodes.Select(n => new[] { n.Name, n.Endpoint, Roles(n), n.Config, n.Command }).ToList());
    }

    private static string Roles(DeployNode n) => n.Roles.Count == 0 ? "(none)" : string.Join("+", n.Roles);

    private static void PrintTable(string[] header, IReadOnlyList<string[]> rows)
    {
        var widths = header.Select((h, i) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(r => r[i].Length))).ToArray();
        string Line(string[] cells) => string.Join("  ", cells.Select((c, i) => i == cells.Length - 1 ? c : c.PadRight(widths[i]))).TrimEnd();
        Console.WriteLine(Line(header));
        Console.WriteLine(Line(widths.Select(w => new string('-', w)).ToArray()));
        foreach (var r in rows) Console.WriteLine(Line(r));
    }

    // ---- local processes ----

    private static void StartLocal(DeployPlanFile plan)
    {
        Directory.CreateDirectory(Path.Combine(plan.Out, "logs"));
        Directory.CreateDirectory(Path.Combine(plan.Out, "pids"));
        var ignored = NodeConfig.Overrides.Select(x => x.Variable).Where(v => !string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(v))).ToArray();
        if (ignored.Length > 0) Console.WriteLine($"note: {string.Join(", ", ignored)} set here; the nodes start without them (their HOCON files say it all).");
        foreach (var n in plan.Nodes)
        {
            File.Delete(n.PidFile);
            // setsid: the node outlives this command and a Ctrl-C here; the shell writes its own pid, then execs the node under it.
            var psi = new ProcessStartInfo("setsid") { UseShellExecute = false };
            var q = DeployPlan.ShellQuote;
            psi.ArgumentList.Add("sh");
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add($"echo $$ > {q(n.PidFile + ".tmp")} && mv {q(n.PidFile + ".tmp")} {q(n.PidFile)} && exec {n.Command} > {q(n.Log)} 2>&1 < /dev/null");
            foreach (var v in ignored) psi.Environment.Remove(v);
            using var p = Process.Start(psi) ?? throw new DeployException($"could not start {n.Name}: setsid did not run.");
        }
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        foreach (var n in plan.Nodes)
        {
            while (ReadPid(n.PidFile) is null)
            {
                if (DateTime.UtcNow > deadline) throw new DeployException($"{n.Name} wrote no pid file {n.PidFile} within 15 s; see {n.Log}.");
                Thread.Sleep(50);
            }
            Console.WriteLine($"started {n.Name} (pid {ReadPid(n.PidFile)}, {n.Endpoint}, roles {Roles(n)}), log {n.Log}");
        }
    }

    private static string[] LiveNodes(DeployPlanFile plan)
    {
        if (!File.Exists(Path.Combine(plan.Out, DeployPlan.PlanFileName))) return [];
        var old = DeployPlan.Read(plan.Out);
        return old.Mode == "local" ? old.Nodes.Where(n => LocalAlive(n) is not null).Select(n => n.Name).ToArray() : [];
    }

    private static int? ReadPid(string file)
    {
        try
        {
            return File.Exists(file) && int.TryParse(File.ReadAllText(file).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    // The node's pid when its process is alive and is this node (its command line names the node's config: pids get reused).
    private static int? LocalAlive(DeployNode n)
    {
        if (ReadPid(n.PidFile) is not { } pid) return null;
        try
        {
            var cmdline = File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
            return cmdline.Contains(n.Config, StringComparison.Ordinal) ? pid : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static bool IsLocalAddress(string host)
    {
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase)) return true;
        if (!IPAddress.TryParse(host, out var ip))
        {
            if (host.Equals(Dns.GetHostName(), StringComparison.OrdinalIgnoreCase)) return true;
            return false;
        }
        if (IPAddress.IsLoopback(ip)) return true;
        return System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
            .SelectMany(i => i.GetIPProperties().UnicastAddresses).Any(a => a.Address.Equals(ip));
    }

    // ---- ssh ----

    private sealed record Step(string File, string[] Args)
    {
        public string Display => File + " " + string.Join(' ', Args.Select(DeployPlan.ShellQuote));
    }

    private static readonly string[] SshOptions = ["-o", "BatchMode=yes", "-o", "ConnectTimeout=10"];

    private static string SshHost(string host) => host.Contains(':') ? $"[{host}]" : host;

    private static IEnumerable<Step> SshSteps(DeployPlanFile plan, DeployOptions o)
    {
        var root = plan.NodeRoot;
        var q = DeployPlan.ShellQuote;
        foreach (var host in plan.Nodes.Select(n => n.Host).Distinct())
        {
            yield return new Step("ssh", [.. SshOptions, host, $"mkdir -p {q(root + "/nodes")} {q(root + "/logs")} {q(root + "/pids")}"]);
            // -p keeps its mode 0600 on the host.
            yield return new Step("scp", ["-p", "-q", .. SshOptions, Path.Combine(plan.Out, DeployPlan.CtlTokenFileName),
                $"{SshHost(host)}:{root}/{DeployPlan.CtlTokenFileName}"]);
            if (o.CopyStore)
                yield return new Step("scp", ["-r", "-q", .. SshOptions, Path.GetFullPath(o.Store) + "/.", $"{SshHost(host)}:{root}/store"]);
        }
        foreach (var n in plan.Nodes)
        {
            yield return new Step("scp", ["-q", .. SshOptions, n.LocalConfig, $"{SshHost(n.Host)}:{n.Config}"]);
            yield return new Step("ssh", [.. SshOptions, n.Host,
                $"cd {q(root)} && nohup {n.Command} > {q(n.Log)} 2>&1 < /dev/null & echo $! > {q(n.PidFile)}"]);
        }
    }

    private static async Task<(int Code, string Output)> RunAsync(string file, IEnumerable<string> args, TimeSpan timeout, CancellationToken ct)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync(ct);
        var stderr = p.StandardError.ReadToEndAsync(ct);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        try
        {
            await p.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            return (-1, $"no exit within {timeout.TotalSeconds:0} s");
        }
        return (p.ExitCode, await stdout + await stderr);
    }

    // ---- waiting for the members ----

    private static async Task<int> WaitForMembers(DeployPlanFile plan, TimeSpan timeout, string? bind, bool local, CancellationToken ct)
    {
        bind ??= plan.Nodes.All(n => IsLocalAddress(n.Host)) ? "127.0.0.1" : LocalAddressTowards(plan.Nodes[0].Host, plan.Nodes[0].Port);
        var expected = plan.Nodes.ToDictionary(n => n.Address);
        Console.WriteLine($"waiting up to {timeout.TotalSeconds:0} s for {expected.Count} members to be up …");
        await using var client = CtlClient.Start(plan.Seeds, bind, verbose: false);
        var deadline = DateTime.UtcNow + timeout;
        CommandProtocol.ClusterStateResult? last = null;
        string lastError = "no answer yet";
        while (true)
        {
            if (local)
            {
                var dead = plan.Nodes.Where(n => LocalAlive(n) is null).ToArray();
                if (dead.Length > 0)
                {
                    foreach (var n in dead) Console.Error.WriteLine($"{n.Name} ({n.Endpoint}) exited; the end of {n.Log}:\n{Tail(n.Log, 15)}");
                    Console.Error.WriteLine($"graphactors deploy: {string.Join(", ", dead.Select(n => n.Name))} exited before the cluster was up; " +
                                            $"the others keep running: `graphactors deploy stop --out {plan.Out}`.");
                    return ExitFailed;
                }
            }
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero) break;
            try
            {
                last = await client.Request<CommandProtocol.ClusterStateResult>(CommandProtocol.GetClusterState.Instance,
                    left < TimeSpan.FromSeconds(3) ? left : TimeSpan.FromSeconds(3), ct);
                if (expected.Keys.All(a => last.Members.Any(m => m.Address == a && m.Status == "Up"))) break;
            }
            catch (CtlUnreachableException e)
            {
                lastError = e.Message;
            }
            await Task.Delay(500, ct);
        }
        var rows = plan.Nodes.Select(n =>
        {
            var m = last?.Members.FirstOrDefault(x => x.Address == n.Address);
            return new[] { n.Name, n.Endpoint, Roles(n), m is null ? "-" : string.Join("+", m.Roles), m?.Status ?? "not a member", local ? LocalAlive(n)?.ToString(CultureInfo.InvariantCulture) ?? "-" : "", n.Log };
        }).ToList();
        PrintTable(["name", "host:port", "roles", "member roles", "status", "pid", "log"], rows);
        var missing = plan.Nodes.Where(n => last?.Members.Any(m => m.Address == n.Address && m.Status == "Up") != true).ToArray();
        if (missing.Length == 0)
        {
            Console.WriteLine($"cluster up: {plan.Nodes.Count} members. Stop it with: graphactors deploy stop --out {plan.Out}");
            return ExitOk;
        }
        Console.Error.WriteLine($"graphactors deploy: {plan.Nodes.Count - missing.Length} of {plan.Nodes.Count} members up after {timeout.TotalSeconds:0} s; " +
                                $"not up: {string.Join(", ", missing.Select(n => $"{n.Name} ({n.Endpoint})"))}" +
                                (last is null ? $"; {lastError}" : "") + $". Logs: {plan.NodeRoot}/logs; stop with `graphactors deploy stop --out {plan.Out}`.");
        return ExitFailed;
    }

    // The address this machine uses to reach the seed: nodes must reach the membership check's client there.
    private static string LocalAddressTowards(string host, int port)
    {
        try
        {
            using var s = new Socket(SocketType.Dgram, ProtocolType.Udp);
            s.Connect(host, port);
            return ((IPEndPoint)s.LocalEndPoint!).Address.ToString();
        }
        catch (SocketException e)
        {
            throw new DeployException($"cannot find this machine's address towards {host}: {e.Message}; give --bind ADDRESS.");
        }
    }

    private static string Tail(string file, int lines)
    {
        try
        {
            return File.Exists(file) ? string.Join('\n', File.ReadAllLines(file).TakeLast(lines).Select(l => "  | " + l)) : "  (no log)";
        }
        catch (IOException e)
        {
            return "  (" + e.Message + ")";
        }
    }

    // ---- stop, status ----

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);

    private const int SigTerm = 15, SigKill = 9;

    private static async Task<int> Stop(DeployPlanFile plan, TimeSpan timeout, CancellationToken ct)
    {
        if (plan.Mode == "ssh") return await StopSsh(plan, timeout, ct);
        var pids = plan.Nodes.ToDictionary(n => n.Name, LocalAlive);
        var result = plan.Nodes.ToDictionary(n => n.Name, n => pids[n.Name] is null ? "not running" : "");
        foreach (var n in plan.Nodes)
            if (pids[n.Name] is { } pid) kill(pid, SigTerm);
        var running = pids.Where(p => p.Value is not null).Select(p => p.Key).ToHashSet();
        if (running.Count > 0) Console.WriteLine($"SIGTERM sent to {string.Join(", ", running)}; waiting up to {timeout.TotalSeconds:0} s for them to leave …");
        var deadline = DateTime.UtcNow + timeout;
        while (running.Count > 0 && DateTime.UtcNow < deadline)
        {
            foreach (var n in plan.Nodes.Where(n => running.Contains(n.Name) && LocalAlive(n) is null))
            {
                running.Remove(n.Name);
                result[n.Name] = "stopped (SIGTERM)";
            }
            if (running.Count > 0) await Task.Delay(200, ct);
        }
        foreach (var name in running)
        {
            kill(pids[name]!.Value, SigKill);
            result[name] = $"killed (SIGKILL after {timeout.TotalSeconds:0} s)";
        }
        var killDeadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (plan.Nodes.Any(n => LocalAlive(n) is not null) && DateTime.UtcNow < killDeadline) await Task.Delay(100, ct);
        var survivors = plan.Nodes.Where(n => LocalAlive(n) is not null).ToArray();
        foreach (var n in survivors) result[n.Name] = "STILL RUNNING after SIGKILL";
        foreach (var n in plan.Nodes.Where(n => !survivors.Contains(n) && File.Exists(n.PidFile))) File.Delete(n.PidFile);
        PrintTable(["name", "host:port", "pid", "result"],
            plan.Nodes.Select(n => new[] { n.Name, n.Endpoint, pids[n.Name]?.ToString(CultureInfo.InvariantCulture) ?? "-", result[n.Name] }).ToList());
        Console.WriteLine(survivors.Length == 0 ? "every node is stopped" : $"{survivors.Length} node(s) still running");
        return survivors.Length == 0 ? ExitOk : ExitFailed;
    }

    private static async Task<int> StopSsh(DeployPlanFile plan, TimeSpan timeout, CancellationToken ct)
    {
        var q = DeployPlan.ShellQuote;
        string Signal(DeployNode n, string sig) => $"test -f {q(n.PidFile)} && kill -{sig} $(cat {q(n.PidFile)}) 2>/dev/null";
        var result = new Dictionary<string, string>();
        foreach (var n in plan.Nodes)
            result[n.Name] = (await RunAsync("ssh", [.. SshOptions, n.Host, Signal(n, "TERM")], TimeSpan.FromSeconds(30), ct)).Code == 0 ? "" : "not running";
        var running = result.Where(r => r.Value == "").Select(r => r.Key).ToHashSet();
        var deadline = DateTime.UtcNow + timeout;
        while (running.Count > 0 && DateTime.UtcNow < deadline)
        {
            foreach (var n in plan.Nodes.Where(n => running.Contains(n.Name)).ToArray())
                if ((await RunAsync("ssh", [.. SshOptions, n.Host, Signal(n, "0")], TimeSpan.FromSeconds(30), ct)).Code != 0)
                {
                    running.Remove(n.Name);
                    result[n.Name] = "stopped (SIGTERM)";
                }
            if (running.Count > 0) await Task.Delay(1000, ct);
        }
        foreach (var n in plan.Nodes.Where(n => running.Contains(n.Name)))
        {
            await RunAsync("ssh", [.. SshOptions, n.Host, Signal(n, "KILL")], TimeSpan.FromSeconds(30), ct);
            result[n.Name] = $"killed (SIGKILL after {timeout.TotalSeconds:0} s)";
        }
        PrintTable(["name", "host:port", "result"], plan.Nodes.Select(n => new[] { n.Name, n.Endpoint, result[n.Name] }).ToList());
        return ExitOk;
    }

    private static int Status(DeployPlanFile plan)
    {
        var rows = new List<string[]>();
        var alive = 0;
        foreach (var n in plan.Nodes)
        {
            string state;
            if (plan.Mode == "ssh")
            {
                var q = DeployPlan.ShellQuote;
                var (code, text) = RunAsync("ssh", [.. SshOptions, n.Host, $"kill -0 $(cat {q(n.PidFile)}) 2>/dev/null && cat {q(n.PidFile)}"],
                    TimeSpan.FromSeconds(30), CancellationToken.None).GetAwaiter().GetResult();
                state = code == 0 ? $"alive (pid {text.Trim()})" : "not running";
            }
            else state = LocalAlive(n) is { } pid ? $"alive (pid {pid})" : "not running";
            if (state.StartsWith("alive", StringComparison.Ordinal)) alive++;
            rows.Add([n.Name, n.Endpoint, Roles(n), state, n.Log]);
        }
        PrintTable(["name", "host:port", "roles", "process", "log"], rows);
        Console.WriteLine($"{alive} of {plan.Nodes.Count} node processes alive");
        return alive == plan.Nodes.Count ? ExitOk : ExitFailed;
    }
}
