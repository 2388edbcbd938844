// `graphactors deploy`'s pure part: DistDGL's ip_config.txt and a role layout → one node HOCON per machine and a plan.json.
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Akka.Configuration;
using GraphActors.Graph;

namespace GraphActors.Cluster.Hosting;

/// <summary>A bad ip_config, layout or deploy option; the message names the file and line, or the option.</summary>
public sealed class DeployException(string message) : Exception(message);

/// <summary>One line of an ip_config: the host, the port when the line gives one, and the 1-based line number.</summary>
public sealed record IpConfigEntry(string Host, int? Port, int Line);

/// <summary>DistDGL's <c>ip_config.txt</c>: one machine per line, <c>HOST [PORT]</c>; blank lines and <c>#</c> comments ignored.</summary>
public static partial class IpConfig
{
    [GeneratedRegex(@"^[A-Za-z0-9]([A-Za-z0-9\-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9\-]{0,62}))*$")]
    private static partial Regex HostName();

    public static IReadOnlyList<IpConfigEntry> Load(string path)
    {
        if (!File.Exists(path)) throw new DeployException($"ip_config '{Path.GetFullPath(path)}' does not exist.");
        return Parse(File.ReadAllLines(path), Path.GetFullPath(path));
    }

    public static IReadOnlyList<IpConfigEntry> Parse(IEnumerable<string> lines, string fileName)
    {
        var entries = new List<IpConfigEntry>();
        var n = 0;
        foreach (var raw in lines)
        {
            n++;
            var hash = raw.IndexOf('#');
            var line = (hash >= 0 ? raw[..hash] : raw).Trim();
            if (line.Length == 0) continue;
            var fields = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            string Where() => $"{fileName} line {n} ('{raw.Trim()}')";
            if (fields.Length > 2)
                throw new DeployException($"{Where()}: expected 'HOST [PORT]', found {fields.Length} fields " +
                                          "(the old DistDGL 'IP PORT SERVERS' form is not supported: repeat the line once per node instead).");
            var host = fields[0];
            if (!IsHost(host)) throw new DeployException($"{Where()}: '{host}' is not an IP address or host name.");
            int? port = null;
            if (fields.Length == 2)
            {
                if (!int.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var p) || p < 1 || p > 65535)
                    throw new DeployException($"{Where()}: port '{fields[1]}' is not a port number (1..65535).");
                port = p;
            }
            entries.Add(new IpConfigEntry(host, port, n));
        }
        if (entries.Count == 0) throw new DeployException($"{fileName} lists no host (one 'HOST [PORT]' per line).");
        return entries;
    }

    private static bool IsHost(string s) =>
        (s.Contains(':') || s.All(c => char.IsDigit(c) || c == '.')) ? IPAddress.TryParse(s, out _) : HostName().IsMatch(s);
}

/// <summary>One group of a layout: this many consecutive ip_config machines get these roles.</summary>
public sealed record LayoutGroup(IReadOnlyList<string> Roles, int Count);

/// <summary>
/// Role sets in ip_config order, <c>none:1,partition+trainer:2</c>: role names joined by '+', a count after ':'
/// (':1' may be left out); <c>none</c> is a node without roles (membership and the ctl entry point only).
/// </summary>
public static class DeployLayout
{
    public static IReadOnlyList<LayoutGroup> Parse(string layout)
    {
        if (string.IsNullOrWhiteSpace(layout)) throw new DeployException("--layout is empty (e.g. 'none:1,partition+trainer:2').");
        var groups = new List<LayoutGroup>();
        foreach (var part in layout.Split(',', StringSplitOptions.TrimEntries))
        {
            if (part.Length == 0) throw new DeployException($"--layout '{layout}': an empty group (two commas, or a comma at an end).");
            var colon = part.LastIndexOf(':');
            var rolesText = colon >= 0 ? part[..colon].Trim() : part;
            var count = 1;
            if (colon >= 0 && (!int.TryParse(part[(colon + 1)..].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out count) || count < 1))
                throw new DeployException($"--layout '{layout}': group '{part}' has no positive node count after ':'.");
            var roles = new List<string>();
            foreach (var role in rolesText.Split('+', StringSplitOptions.TrimEntries))
            {
                var r = role.ToLowerInvariant();
                if (r is "none" or "seed" && rolesText.Split('+').Length == 1) break;
                if (!ClusterRoles.All.Contains(r))
                    throw new DeployException($"--layout '{layout}': unknown role '{role}' in group '{part}' " +
                                              $"(roles: {string.Join(", ", ClusterRoles.All)}; 'none' for a node without roles).");
                if (!roles.Contains(r)) roles.Add(r);
            }
            groups.Add(new LayoutGroup(roles, count));
        }
        return groups;
    }

    /// <summary>The role set of each node, in order; the total must equal the ip_config's host count.</summary>
    public static IReadOnlyList<IReadOnlyList<string>> Expand(IReadOnlyList<LayoutGroup> groups, int hosts, string layout, string ipConfigName)
    {
        var total = groups.Sum(g => g.Count);
        if (total != hosts)
            throw new DeployException($"--layout '{layout}' places {total} node(s) but {ipConfigName} lists {hosts} host(s): the counts must add up to the host count.");
        return groups.SelectMany(g => Enumerable.Repeat(g.Roles, g.Count)).ToArray();
    }
}

/// <summary>How a deployment reaches its machines.</summary>
public enum DeployMode { DryRun, Local, Ssh }

/// <summary>Everything `graphactors deploy` was told.</summary>
public sealed record DeployOptions
{
    public required string IpConfigPath { get; init; }
    public required string Layout { get; init; }
    public required string Store { get; init; }
    public required string Out { get; init; }
    public DeployMode Mode { get; init; } = DeployMode.DryRun;
    public int BasePort { get; init; } = 4053;
    /// <summary><c>sqlite:PATH</c> or <c>postgres:CONNSTR</c>; null = a SQLite file <c>coordinator.db</c> under the node root.</summary>
    public string? Journal { get; init; }
    /// <summary>How many of the first nodes are seeds (every node lists them).</summary>
    public int Seeds { get; init; } = 1;
    /// <summary>ssh: the folder on every machine that holds nodes/, logs/, pids/ (default: the absolute --out path).</summary>
    public string? RemoteDir { get; init; }
    /// <summary>ssh: copy the store to REMOTE_DIR/store instead of pointing at --store on every machine.</summary>
    public bool CopyStore { get; init; }
    /// <summary>ssh: the command that runs graphactors on the machines.</summary>
    public string RemoteCli { get; init; } = "graphactors";
}

/// <summary>One node of a plan. Paths in <see cref="Config"/>, <see cref="Log"/> and <see cref="PidFile"/> are where the node runs.</summary>
public sealed record DeployNode(
    string Name, string Host, int Port, IReadOnlyList<string> Roles, int IpConfigLine, string Address,
    string LocalConfig, string Config, string Log, string PidFile, string Command)
{
    /// <summary>The node's HOCON (written to <see cref="LocalConfig"/>; not part of plan.json).</summary>
    [JsonIgnore] public string Hocon { get; init; } = "";
    public string Endpoint => Host.Contains(':') ? $"[{Host}]:{Port}" : $"{Host}:{Port}";
}

/// <summary>The plan `graphactors deploy` writes to OUT/plan.json and `deploy stop|status` read back.</summary>
public sealed record DeployPlanFile(
    int Version, string Mode, string IpConfig, string Layout, string Store, string Out, string NodeRoot, string Journal,
    IReadOnlyList<string> Seeds, IReadOnlyList<DeployNode> Nodes, string CreatedUtc);

public static class DeployPlan
{
    public const string PlanFileName = "plan.json";

    /// <summary>The ctl token every node of the deployment reads (graphactors.ctl.token-file), in OUT and in the node root of every host.</summary>
    public const string CtlTokenFileName = "ctl.token";

    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>
    /// Builds the plan: reads the ip_config, expands the layout, assigns ports (the line's, else --base-port plus the
    /// host's earlier nodes), names nodes node-0…, and renders each node's HOCON. Writes nothing.
    /// <paramref name="cliCommand"/> is how a node is started where it runs (the local dll, or the remote CLI).
    /// </summary>
    public static DeployPlanFile Build(DeployOptions o, string cliCommand)
    {
        if (o.BasePort is < 1 or > 65535) throw new DeployException($"--base-port {o.BasePort} is not a port number (1..65535).");
        var entries = IpConfig.Load(o.IpConfigPath);
        var ipName = Path.GetFullPath(o.IpConfigPath);
        var roles = DeployLayout.Expand(DeployLayout.Parse(o.Layout), entries.Count, o.Layout, ipName);
        if (o.Seeds < 1 || o.Seeds > entries.Count)
            throw new DeployException($"--seeds {o.Seeds}: must be between 1 and the {entries.Count} host(s) of {ipName}.");

        var outDir = Path.GetFullPath(o.Out);
        // The folder the nodes run in: --out itself for --local, --remote-dir (default: the same path) on the ssh hosts.
        var remote = o.Mode != DeployMode.Local;
        var root = remote && !string.IsNullOrWhiteSpace(o.RemoteDir) ? o.RemoteDir!.TrimEnd('/') : outDir;
        if (remote && !root.StartsWith('/'))
            throw new DeployException($"--remote-dir '{root}' must be an absolute path (it goes into the node HOCON files).");
        var store = remote && o.CopyStore ? root + "/store" : Path.GetFullPath(o.Store);
        var journalHocon = JournalHocon(o.Journal, root, out var journalText);

        // Ports: explicit ones first, so an implicit port never takes one that a later line names.
        var taken = new Dictionary<(string, int), int>();
        foreach (var e in entries.Where(e => e.Port is not null))
        {
            if (taken.TryGetValue((e.Host, e.Port!.Value), out var other))
                throw new DeployException($"{ipName} line {e.Line}: {e.Host}:{e.Port} is already used by line {other}.");
            taken[(e.Host, e.Port.Value)] = e.Line;
        }
        var ports = new int[entries.Count];
        for (var i = 0; i < entries.Count; i++)
        {
            var e = entries[i];
            if (e.Port is { } p) { ports[i] = p; continue; }
            var port = o.BasePort;
            while (taken.ContainsKey((e.Host, port))) port++;
            if (port > 65535) throw new DeployException($"{ipName} line {e.Line}: no free port at or above --base-port {o.BasePort} on {e.Host}.");
            taken[(e.Host, port)] = e.Line;
            ports[i] = port;
        }

        var width = (entries.Count - 1).ToString(CultureInfo.InvariantCulture).Length;
        var names = Enumerable.Range(0, entries.Count).Select(i => "node-" + i.ToString(CultureInfo.InvariantCulture).PadLeft(width, '0')).ToArray();
        var addresses = Enumerable.Range(0, entries.Count).Select(i => AkkaAddress(entries[i].Host, ports[i])).ToArray();
        var seeds = addresses.Take(o.Seeds).ToArray();
        // A layout with sampler machines splits sampling from training: every node learns that the sampler role samples.
        var splitSampling = roles.Any(r => r.Contains(ClusterRoles.Sampler));
        // The most nodes any one host runs: above one, their heartbeats wait behind each other's work on shared cores.
        var nodesPerHost = entries.GroupBy(e => e.Host, StringComparer.OrdinalIgnoreCase).Max(g => g.Count());
        var inferenceOnHost = new Dictionary<string, int>();
        var nodes = new List<DeployNode>();
        for (var i = 0; i < entries.Count; i++)
        {
            var name = names[i];
            var inferenceIndex = 0;
            if (roles[i].Contains(ClusterRoles.Inference))
            {
                inferenceOnHost.TryGetValue(entries[i].Host, out inferenceIndex);
                inferenceOnHost[entries[i].Host] = inferenceIndex + 1;
            }
            var config = $"{root}/nodes/{name}.hocon";
            var hocon = NodeHocon(name, entries[i], ports[i], roles[i], seeds, store, root, journalHocon, inferenceIndex, splitSampling, nodesPerHost, ipName);
            var command = $"{cliCommand} node --config {ShellQuote(config)}";
            nodes.Add(new DeployNode(name, entries[i].Host, ports[i], roles[i], entries[i].Line, addresses[i],
                Path.Combine(outDir, "nodes", name + ".hocon"), config, $"{root}/logs/{name}.log", $"{root}/pids/{name}.pid", command) { Hocon = hocon });
        }
        return new DeployPlanFile(1, ModeName(o.Mode), ipName, o.Layout, store, outDir, root, journalText, seeds, nodes,
            DateTime.UtcNow.ToString("o", CultureInfo.InvariantCulture));
    }

    public static string ModeName(DeployMode m) => m switch { DeployMode.Local => "local", DeployMode.Ssh => "ssh", _ => "dry-run" };

    public static string AkkaAddress(string host, int port) =>
        $"akka.tcp://{Names.ActorSystem}@{(host.Contains(':') ? $"[{host}]" : host)}:{port}";

    // --journal sqlite:PATH | postgres:CONNSTR → the graphactors.persistence lines of every node.
    private static string JournalHocon(string? journal, string root, out string description)
    {
        if (string.IsNullOrWhiteSpace(journal))
        {
            var file = root + "/coordinator.db";
            description = "sqlite:" + file;
            return $"graphactors.persistence.sqlite-path = {NodeConfig.Quote(file)}";
        }
        var colon = journal.IndexOf(':');
        var kind = colon > 0 ? journal[..colon].Trim().ToLowerInvariant() : "";
        var rest = colon > 0 ? journal[(colon + 1)..].Trim() : "";
        if (rest.Length == 0 || kind is not ("sqlite" or "postgres" or "postgresql"))
            throw new DeployException($"--journal '{journal}': expected sqlite:PATH or postgres:CONNSTR (e.g. postgres:Host=db;Database=graphactors;Username=ga;Password=…).");
        if (kind == "sqlite")
        {
            var file = rest.StartsWith('/') ? rest : root + "/" + rest;
            description = "sqlite:" + file;
            return $"graphactors.persistence.sqlite-path = {NodeConfig.Quote(file)}";
        }
        if (!rest.Contains("Host=", StringComparison.OrdinalIgnoreCase))
            throw new DeployException($"--journal '{journal}': a PostgreSQL connection string needs Host=… (Host=db;Database=graphactors;Username=ga;Password=…).");
        description = "postgres:" + Regex.Replace(rest, @"(?i)(password=)[^;]*", "$1***");
        return $"graphactors.persistence.journal-connection-string = {NodeConfig.Quote("postgresql:" + rest)}";
    }

    private static string NodeHocon(string name, IpConfigEntry entry, int port, IReadOnlyList<string> roles, IReadOnlyList<string> seeds,
        string store, string root, string journal, int inferenceIndex, bool splitSampling, int nodesPerHost, string ipName)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"# {name}: written by `graphactors deploy` from {ipName} line {entry.Line}; base.hocon (built into graphactors) underneath.");
        sb.AppendLine($"# Start: graphactors node --config {root}/nodes/{name}.hocon   (GA_* environment variables still override it)");
        sb.AppendLine($"akka.remote.dot-netty.tcp.hostname = {NodeConfig.Quote(entry.Host)}");
        sb.AppendLine($"akka.remote.dot-netty.tcp.port = {port}");
        sb.AppendLine($"akka.cluster.seed-nodes = [{string.Join(", ", seeds.Select(NodeConfig.Quote))}]");
        sb.AppendLine($"akka.cluster.roles = [{string.Join(", ", roles)}]");
        sb.AppendLine($"graphactors.partitions.store-path = {NodeConfig.Quote(store)}");
        sb.AppendLine($"graphactors.node.data-dir = {NodeConfig.Quote($"{root}/data/{name}")}");
        sb.AppendLine($"# GET /metrics for Prometheus: the remoting port + {MetricsPortOffset}, so that nodes sharing a machine do not collide.");
        sb.AppendLine($"graphactors.metrics.port = {MetricsPort(port)}");
        sb.AppendLine($"# GET /alive and /ready (liveness, readiness = Up in the cluster): the remoting port + {HealthPortOffset}.");
        sb.AppendLine($"graphactors.health.port = {HealthPort(port)}");
        sb.AppendLine("# The secret ctl's changing commands carry (cluster leave/down/down-unreachable/join, train start/stop/resume, model register/unregister/scale/export): ctl --token-file it.");
        sb.AppendLine($"graphactors.ctl.token-file = {NodeConfig.Quote($"{root}/{DeployPlan.CtlTokenFileName}")}");
        sb.AppendLine("# The training coordinator's journal (every node that may host it must reach the same one: PostgreSQL across machines).");
        sb.AppendLine(journal);
        if (splitSampling)
        {
            sb.AppendLine("# The layout has sampler machines: they run the SamplerActors, and trainers without the sampler role use them.");
            sb.AppendLine($"graphactors.sampler.role = {ClusterRoles.Sampler}");
        }
        if (nodesPerHost > 1) sb.Append(SharedHostFailureDetection(nodesPerHost));
        if (inferenceIndex > 0)
        {
            // A second inference node on the same machine: TorchServe's three ports move up by 10 per node.
            var b = 8080 + 10 * inferenceIndex;
            sb.AppendLine($"graphactors.inference {{ inference-port = {b}, management-port = {b + 1}, metrics-port = {b + 2} }}");
        }
        return sb.ToString();
    }

    /// <summary>A node's metrics port is its remoting port plus this (0, any free port, when that passes 65535).</summary>
    public const int MetricsPortOffset = 10000;

    public static int MetricsPort(int remotingPort) => remotingPort + MetricsPortOffset is var p and <= 65535 ? p : 0;

    /// <summary>A node's health port (graphactors.health.port) is its remoting port plus this (0, any free port, when that passes 65535).</summary>
    public const int HealthPortOffset = 20000;

    public static int HealthPort(int remotingPort) => remotingPort + HealthPortOffset is var p and <= 65535 ? p : 0;

    /// <summary>How long a member's heartbeats may pause before it counts as unreachable, when nodes share hosts.</summary>
    public static readonly TimeSpan SharedHostHeartbeatPause = TimeSpan.FromSeconds(20);

    /// <summary>
    /// Failure detection for a plan that puts several nodes on one host. Akka's defaults (3 s of silence, phi 8) suit one
    /// node per machine; 33 processes starting on 2 cores keep them busy for tens of seconds (just-in-time compilation),
    /// heartbeats queue behind that work, members flap between reachable and unreachable, and the split-brain resolver
    /// downs the whole cluster as unstable. Every node of the plan gets the same tolerance (a node's detector judges
    /// its peers, wherever they run). A node that really dies is still removed: its peers stop hearing it, and it is
    /// unreachable after this pause, then downed after split-brain-resolver.stable-after.
    /// </summary>
    private static string SharedHostFailureDetection(int nodesPerHost)
    {
        var pause = (int)SharedHostHeartbeatPause.TotalSeconds;
        return $$"""
            # Up to {{nodesPerHost}} nodes share a host: heartbeats wait behind each other's work on the same cores, so a member
            # counts as unreachable only after {{pause}} s of silence (Akka's default, 3 s, suits one node per machine). Every
            # heartbeat costs CPU on the cores they share: each member is watched by 5 others (not 9), every 2 s (not 1 s).
            akka.cluster.failure-detector {
              acceptable-heartbeat-pause = {{pause}}s
              threshold = 12.0
              heartbeat-interval = 2s
              monitored-by-nr-of-members = 5
            }
            akka.remote.watch-failure-detector.acceptable-heartbeat-pause = {{pause}}s

            """;
    }

    /// <summary>A word for a POSIX shell: as is when it is plainly safe, else in single quotes.</summary>
    public static string ShellQuote(string s) =>
        s.Length > 0 && s.All(c => char.IsAsciiLetterOrDigit(c) || "/._-+:=@,".Contains(c)) ? s : "'" + s.Replace("'", "'\\''") + "'";

    /// <summary>
    /// Writes every node's HOCON to OUT/nodes/, the plan to OUT/plan.json, Prometheus' scrape configuration to
    /// OUT/prometheus.yml, and OUT/ctl.token (0600) unless it exists.
    /// </summary>
    public static void Write(DeployPlanFile plan)
    {
        Commands.CtlToken.ReadOrCreate(Path.Combine(plan.Out, DeployPlan.CtlTokenFileName));
        foreach (var n in plan.Nodes) AtomicFile.WriteAllText(n.LocalConfig, n.Hocon);
        AtomicFile.WriteAllText(Path.Combine(plan.Out, PrometheusFileName), PrometheusConfig(plan));
        AtomicFile.WriteAllText(Path.Combine(plan.Out, PlanFileName), JsonSerializer.Serialize(plan, Json));
    }

    public const string PrometheusFileName = "prometheus.yml";

    /// <summary>
    /// Prometheus' configuration for the plan: every node's GET /metrics (graphactors.metrics.port) and every inference
    /// node's TorchServe metrics port, one target per node labelled with its name and roles.
    /// </summary>
    public static string PrometheusConfig(DeployPlanFile plan)
    {
        static string Target(string host, int port) => host.Contains(':') ? $"[{host}]:{port}" : $"{host}:{port}";
        var sb = new StringBuilder();
        sb.AppendLine("# Written by `graphactors deploy`: prometheus --config.file=prometheus.yml (or copy its scrape_configs).");
        sb.AppendLine("global:");
        sb.AppendLine("  scrape_interval: 15s");
        sb.AppendLine("scrape_configs:");
        sb.AppendLine("  - job_name: graphactors-nodes");
        sb.AppendLine("    static_configs:");
        var configs = plan.Nodes.Select(n => (Node: n, Config: ConfigurationFactory.ParseString(n.Hocon))).ToList();
        foreach (var (n, config) in configs)
        {
            var port = config.GetInt("graphactors.metrics.port", 0);
            if (port == 0) continue; // any free port: printed by the node, not known here
            sb.AppendLine($"      - targets: [\"{Target(n.Host, port)}\"]");
            sb.AppendLine($"        labels: {{ node: \"{n.Name}\", roles: \"{string.Join(",", n.Roles)}\" }}");
        }
        var inference = configs.Where(c => c.Node.Roles.Contains(ClusterRoles.Inference)).ToList();
        if (inference.Count > 0)
        {
            sb.AppendLine("  - job_name: graphactors-inference");
            sb.AppendLine("    static_configs:");
            foreach (var (n, config) in inference)
            {
                var port = config.GetInt("graphactors.inference.metrics-port", DefaultInferenceMetricsPort);
                sb.AppendLine($"      - targets: [\"{Target(n.Host, port)}\"]");
                sb.AppendLine($"        labels: {{ node: \"{n.Name}\" }}");
            }
        }
        return sb.ToString();
    }

    /// <summary>graphactors.inference.metrics-port's default (Inference/reference.conf), TorchServe's 8082.</summary>
    private const int DefaultInferenceMetricsPort = 8082;

    /// <summary>Reads OUT/plan.json (written by a previous deploy).</summary>
    public static DeployPlanFile Read(string outDir)
    {
        var path = Path.Combine(Path.GetFullPath(outDir), PlanFileName);
        if (!File.Exists(path)) throw new DeployException($"'{path}' does not exist: run `graphactors deploy … --out {outDir}` first.");
        try
        {
            return JsonSerializer.Deserialize<DeployPlanFile>(File.ReadAllText(path), Json)
                   ?? throw new DeployException($"'{path}' is empty.");
        }
        catch (JsonException e)
        {
            throw new DeployException($"'{path}' is not a deploy plan: {e.Message}");
        }
    }
}
