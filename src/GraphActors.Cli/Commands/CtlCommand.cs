// graphactors ctl: control a running cluster (Petabridge.Cmd-style palettes) through a ClusterClient.
using System.CommandLine;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Akka.Configuration;
using GraphActors.Cluster.Commands;
using GraphActors.Cluster.Hosting;
using GraphActors.Contracts.Protocols;
using Spectre.Console;
using static GraphActors.Contracts.Protocols.CommandProtocol;

namespace GraphActors.Cli.Commands;

public static partial class CtlCommand
{
    /// <summary>
    /// Exit codes: done; the cluster refused or could not do it; bad usage; no answer within the timeout; a training job
    /// that ended without a clean result (failed, stopped, failed evaluations, no metrics, seeds not all trained); a
    /// changing command refused for its credential (no ctl token, a wrong one, or none set on the node).
    /// </summary>
    public const int ExitOk = 0, ExitRefused = 1, ExitUsage = 2, ExitUnreachable = 3, ExitJobProblem = 4, ExitNotAuthorized = 5;

    // The receptionist drops a response tunnel after 30 s without traffic from its client; renewing well before keeps `cluster tail` alive.
    private static readonly TimeSpan TailRenewEvery = TimeSpan.FromSeconds(10);

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter() },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        // Terminal and script output, never HTML: times keep their '+00:00' and paths their characters.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private sealed record Globals(Option<string[]> Contact, Option<bool> Json, Option<string> Timeout, Option<string> Bind, Option<bool> Verbose,
        Option<string?> NodeConfig, Option<string?> TlsCert, Option<string?> TlsCertPassword, Option<bool> TlsSuppressValidation,
        Option<string?> Token, Option<string?> TokenFile)
    {
        public Option[] All => [Contact, Json, Timeout, Bind, Verbose, NodeConfig, TlsCert, TlsCertPassword, TlsSuppressValidation, Token, TokenFile];
    }

    public static Command Create()
    {
        var g = new Globals(
            new Option<string[]>("--contact")
            {
                Description = "A cluster node, akka.tcp://graphactors@HOST:PORT or HOST:PORT (repeatable; default: GA_SEEDS, else 127.0.0.1:4053)",
                Recursive = true,
            },
            new Option<bool>("--json") { Description = "Print JSON for scripts (one object; `cluster tail`, `train status --watch`: one object per line)", Recursive = true },
            new Option<string>("--timeout")
            {
                Description = "How long to wait for the cluster: seconds, or with a unit (500ms, 5s, 1m)", DefaultValueFactory = _ => "5s", Recursive = true,
            },
            new Option<string>("--bind")
            {
                Description = "Local address the client listens on; nodes must be able to reach it (another host: this machine's address)",
                DefaultValueFactory = _ => "127.0.0.1", Recursive = true,
            },
            new Option<bool>("--verbose") { Description = "Show the client's Akka log", Recursive = true },
            new Option<string?>("--node-config")
            {
                Description = "A node's HOCON file: ctl takes its TLS settings (graphactors.remote.tls, or akka.remote.dot-netty.tcp's enable-ssl and ssl) " +
                              "and its ctl token (graphactors.ctl.token or token-file) from it",
                Recursive = true,
            },
            new Option<string?>("--tls-cert") { Description = "The cluster's PFX (certificate + key): talk TLS (akka.ssl.tcp), as the nodes do", Recursive = true },
            new Option<string?>("--tls-cert-password") { Description = "The PFX's password (default: GA_TLS_PASSWORD)", Recursive = true },
            new Option<bool>("--tls-suppress-validation")
            {
                Description = "Accept any certificate from the nodes instead of pinning the cluster's (only for nodes set up with Akka's own ssl section)",
                Recursive = true,
            },
            new Option<string?>("--token")
            {
                Description = "The cluster's ctl token, for commands that change it (visible to other local users in the process list: prefer --token-file or GA_CTL_TOKEN)",
                Recursive = true,
            },
            new Option<string?>("--token-file") { Description = "A file whose first line is the cluster's ctl token (a node's graphactors.ctl.token-file)", Recursive = true });

        var ctl = new Command("ctl", "Control a running cluster: `cluster show|leave|down|down-unreachable|join|tail`, `partitions show`, `store version|reload`, " +
                                     "`train start|status|stop|resume`, `checkpoints list`, `model list|register|unregister|scale|export`");
        foreach (var o in g.All) ctl.Options.Add(o);
        ctl.Subcommands.Add(ClusterPalette(g));
        ctl.Subcommands.Add(PartitionsPalette(g));
        ctl.Subcommands.Add(StorePalette(g));
        ctl.Subcommands.Add(TrainPalette(g));
        ctl.Subcommands.Add(CheckpointsPalette(g));
        ctl.Subcommands.Add(ModelPalette(g));
        return ctl;
    }

    // ---- palettes ----

    private static Command ClusterPalette(Globals g)
    {
        var cluster = new Command("cluster", "Membership: show, leave, down, down-unreachable, join, tail");

        var show = new Command("show", "Every member with its roles, status and reachability, and the leader");
        show.SetAction((pr, ct) => Run(pr, g, ct, async (client, o) =>
        {
            var state = await client.Request<ClusterStateResult>(GetClusterState.Instance, o.Remaining, ct, o.Timeout);
            if (o.Json) WriteJson(ToJson(state));
            else RenderState(state);
            return ExitOk;
        }));

        var leaveAddress = new Argument<string>("address") { Description = "The member: akka.tcp://graphactors@HOST:PORT or HOST:PORT" };
        var leave = new Command("leave", "Ask a member to leave gracefully (it hands its partitions off, then its process exits 0)");
        leave.Arguments.Add(leaveAddress);
        leave.SetAction((pr, ct) => Run(pr, g, ct, (client, o) =>
            Change(client, o, ct, new LeaveMember(client.Address(pr.GetValue(leaveAddress)!)))));

        var downAddress = new Argument<string>("address") { Description = "The member: akka.tcp://graphactors@HOST:PORT or HOST:PORT" };
        var down = new Command("down", "Mark a member down: for a node that is gone (crashed, unreachable) and will not leave by itself");
        down.Arguments.Add(downAddress);
        down.SetAction((pr, ct) => Run(pr, g, ct, (client, o) =>
            Change(client, o, ct, new DownMember(client.Address(pr.GetValue(downAddress)!)))));

        var downUnreachable = new Command("down-unreachable",
            "Mark down every member the answering node sees as unreachable, and print which (none: says so, exit 0)");
        downUnreachable.SetAction((pr, ct) => Run(pr, g, ct, async (client, o) =>
        {
            var result = await client.Request<UnreachableDowned>(DownUnreachable.Instance, o.Remaining, ct, o.Timeout);
            if (o.Json) WriteJson(new { ok = true, observedBy = result.ObservedBy, downed = result.Downed, alreadyDown = result.AlreadyDown });
            else RenderDowned(result);
            return ExitOk;
        }));

        var joinAddress = new Argument<string>("address") { Description = "A member of the cluster to join: akka.tcp://graphactors@HOST:PORT or HOST:PORT" };
        var join = new Command("join",
            "Make the answering node join the cluster at ADDRESS (Akka's Cluster.Join). Akka ignores a join of a node that is " +
            "already part of a cluster, so a member is refused (exit 1) unless ADDRESS is in its own cluster (nothing to do, exit 0): " +
            "to move a member, make it leave and start it with the other cluster's seeds");
        join.Arguments.Add(joinAddress);
        join.SetAction((pr, ct) => Run(pr, g, ct, (client, o) =>
            Change(client, o, ct, new JoinCluster(client.Address(pr.GetValue(joinAddress)!)))));

        var count = new Option<int>("--count") { Description = "Stop after this many events (default: until Ctrl-C)" };
        var tail = new Command("tail", "Print membership and reachability events as they happen, until Ctrl-C");
        tail.Options.Add(count);
        tail.SetAction((pr, ct) => Run(pr, g, ct, (client, o) => Tail(client, o, pr.GetValue(count), ct)));

        foreach (var c in new[] { show, leave, down, downUnreachable, join, tail }) cluster.Subcommands.Add(c);
        return cluster;
    }

    private static Command PartitionsPalette(Globals g)
    {
        var partitions = new Command("partitions", "The partition shards: show");
        var show = new Command("show", "Every partition with its node, mapped bytes, requests and request rate; exit 1 if any is not serving");
        show.SetAction((pr, ct) => Run(pr, g, ct, async (client, o) =>
        {
            // The node gathers within most of our timeout, so its answer (naming the silent partitions) arrives before ours expires.
            var ask = new GetPartitions((long)(o.Timeout.TotalMilliseconds * 0.7));
            var result = await client.Request<PartitionsResult>(ask, o.Remaining, ct, o.Timeout);
            if (o.Json) WriteJson(ToJson(result));
            else RenderPartitions(result);
            return result.Problem.Length == 0 && result.Partitions.All(p => p.State == PartitionState.Serving) ? ExitOk : ExitRefused;
        }));
        partitions.Subcommands.Add(show);
        return partitions;
    }

    // ---- running a command ----

    /// <summary>
    /// <paramref name="Timeout"/> bounds the whole command, not each request: <see cref="Remaining"/> is what a further
    /// request may still wait (a command that asks twice, such as `train stop` without --job, shares one --timeout).
    /// </summary>
    private sealed record Options(bool Json, TimeSpan Timeout, DateTime DeadlineUtc)
    {
        public TimeSpan Remaining
        {
            get
            {
                var left = DeadlineUtc - DateTime.UtcNow;
                return left > TimeSpan.FromMilliseconds(1) ? left : TimeSpan.FromMilliseconds(1);
            }
        }
    }

    private static async Task<int> Run(ParseResult pr, Globals g, CancellationToken ct, Func<CtlClient, Options, Task<int>> body)
    {
        IReadOnlyList<string> contacts;
        CtlConnection connection;
        TimeSpan timeout;
        var json = pr.GetValue(g.Json);
        try
        {
            timeout = ParseTimeout(pr.GetValue(g.Timeout)!);
            connection = Connection(pr, g);
            contacts = CtlClient.DefaultContacts(pr.GetValue(g.Contact), Environment.GetEnvironmentVariable("GA_SEEDS"), connection.Protocol);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or UriFormatException or IOException or ConfigurationException)
        {
            Console.Error.WriteLine($"graphactors ctl: {e.Message}");
            return ExitUsage;
        }
        CtlClient started;
        try
        {
            started = CtlClient.Start(contacts, pr.GetValue(g.Bind)!, pr.GetValue(g.Verbose), connection);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or ConfigurationException)
        {
            // The certificate: missing, unreadable, wrong password, no private key.
            Console.Error.WriteLine($"graphactors ctl: {e.Message}");
            return ExitUsage;
        }
        await using var client = started;
        // The clock starts once the client is up: starting it is bounded work of this process, not a wait for the cluster.
        var options = new Options(json, timeout, DateTime.UtcNow + timeout);
        try
        {
            return await body(client, options);
        }
        catch (CtlUnreachableException e)
        {
            Console.Error.WriteLine($"graphactors ctl: {e.Message}");
            return ExitUnreachable;
        }
        catch (CtlNotAuthorizedException e)
        {
            if (json) WriteJson(new { ok = false, authorized = false, command = e.Command, message = e.Message });
            Console.Error.WriteLine($"graphactors ctl: {e.Message}");
            return ExitNotAuthorized;
        }
        catch (Exception e) when (e is ArgumentException or FormatException or UriFormatException or FileNotFoundException or DirectoryNotFoundException)
        {
            Console.Error.WriteLine($"graphactors ctl: {e.Message}");
            return ExitUsage;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return ExitOk;
        }
    }

    /// <summary>
    /// TLS and token from the options: --tls-cert (with --tls-cert-password or GA_TLS_PASSWORD) over the TLS of
    /// --node-config; the token from --token, else --token-file, else GA_CTL_TOKEN, else --node-config's
    /// graphactors.ctl.token or token-file (read, never created here).
    /// </summary>
    private static CtlConnection Connection(ParseResult pr, Globals g)
    {
        Config? node = null;
        if (pr.GetValue(g.NodeConfig) is { } nodeFile)
        {
            if (!File.Exists(nodeFile)) throw new FileNotFoundException($"--node-config '{Path.GetFullPath(nodeFile)}' does not exist.", nodeFile);
            node = ConfigurationFactory.ParseString(File.ReadAllText(nodeFile));
        }
        var password = pr.GetValue(g.TlsCertPassword) ?? Environment.GetEnvironmentVariable("GA_TLS_PASSWORD");
        Config tls = Config.Empty;
        if (pr.GetValue(g.TlsCert) is { } cert)
        {
            if (!File.Exists(cert)) throw new FileNotFoundException($"--tls-cert '{Path.GetFullPath(cert)}' does not exist.", cert);
            tls = ConfigurationFactory.ParseString(
                $"graphactors.remote.tls {{ enabled = on, certificate-path = {Quote(Path.GetFullPath(cert))}, certificate-password = {Quote(password ?? "")} }}");
        }
        else if (node is not null && RemoteTls.Enabled(node))
        {
            tls = ConfigurationFactory.ParseString(
                $"graphactors.remote.tls {{ enabled = on, certificate-path = {Quote(node.GetString("graphactors.remote.tls.certificate-path", ""))}, " +
                $"certificate-password = {Quote(password ?? node.GetString("graphactors.remote.tls.certificate-password", ""))} }}");
        }
        else if (node is not null && node.GetBoolean("akka.remote.dot-netty.tcp.enable-ssl", false))
        {
            // Akka's own TLS settings, copied key by key as the node has them: Akka reads the certificate itself.
            var lines = new List<string> { "akka.remote.dot-netty.tcp.enable-ssl = on" };
            foreach (var key in SslKeys)
                if (node.HasPath("akka.remote.dot-netty.tcp.ssl." + key))
                    lines.Add($"akka.remote.dot-netty.tcp.ssl.{key} = {Quote(node.GetString("akka.remote.dot-netty.tcp.ssl." + key))}");
            tls = ConfigurationFactory.ParseString(string.Join('\n', lines));
        }
        if (pr.GetValue(g.TlsSuppressValidation))
            tls = ConfigurationFactory.ParseString("akka.remote.dot-netty.tcp.ssl.suppress-validation = on").WithFallback(tls);

        string token;
        if (pr.GetValue(g.Token) is { Length: > 0 } given) token = given.Trim();
        else if (pr.GetValue(g.TokenFile) is { } file) token = TokenFrom(file, "--token-file");
        else if (Environment.GetEnvironmentVariable("GA_CTL_TOKEN") is { Length: > 0 } env) token = env.Trim();
        else if (node?.GetString("graphactors.ctl.token", "") is { Length: > 0 } inNode) token = inNode.Trim();
        else if (node?.GetString("graphactors.ctl.token-file", "") is { Length: > 0 } nodeTokenFile)
            token = TokenFrom(nodeTokenFile, $"graphactors.ctl.token-file of --node-config {pr.GetValue(g.NodeConfig)}");
        else token = "";
        var connection = new CtlConnection(tls, pr.GetValue(g.TlsSuppressValidation), token);
        if (connection.SuppressValidation && !connection.UsesTls)
            throw new ArgumentException("--tls-suppress-validation without TLS: give --tls-cert PFX or --node-config NODE.hocon too.");
        return connection;
    }

    // Akka.Remote's DotNetty ssl section (Akka.Remote reference.conf).
    private static readonly string[] SslKeys =
    [
        "suppress-validation", "require-mutual-authentication", "validate-certificate-hostname", "certificate.path", "certificate.password",
        "certificate.use-thumbprint-over-file", "certificate.thumbprint", "certificate.store-name", "certificate.store-location",
    ];

    private static string TokenFrom(string file, string what)
    {
        try
        {
            return CtlToken.Read(file);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            throw new ArgumentException($"{what}: {e.Message}", e);
        }
    }

    private static string Quote(string s) => GraphActors.Cluster.Hosting.NodeConfig.Quote(s);

    public static TimeSpan ParseTimeout(string s)
    {
        var t = s.Trim();
        var inv = CultureInfo.InvariantCulture;
        double Number(string n) => double.TryParse(n, NumberStyles.Float, inv, out var v) && v > 0 && v < 86_400_000
            ? v : throw new FormatException($"--timeout '{s}' is not a positive duration (5, 5s, 500ms, 1m).");
        return t.EndsWith("ms", StringComparison.Ordinal) ? TimeSpan.FromMilliseconds(Number(t[..^2]))
            : t.EndsWith('s') ? TimeSpan.FromSeconds(Number(t[..^1]))
            : t.EndsWith('m') ? TimeSpan.FromMinutes(Number(t[..^1]))
            : TimeSpan.FromSeconds(Number(t));
    }

    private static async Task<int> Change(CtlClient client, Options o, CancellationToken ct, object command)
    {
        var result = await client.Request<CommandResult>(command, o.Remaining, ct, o.Timeout);
        if (o.Json) WriteJson(new { ok = result.Ok, message = result.Message });
        else if (result.Ok) AnsiConsole.MarkupLine($"[green]{Markup.Escape(result.Message)}[/]");
        else AnsiConsole.MarkupLine($"[red]{Markup.Escape(result.Message)}[/]");
        return result.Ok ? ExitOk : ExitRefused;
    }

    private static async Task<int> Tail(CtlClient client, Options o, int count, CancellationToken ct)
    {
        var inbox = client.OpenInbox();
        inbox.Send(SubscribeMembership.Instance);
        var ackDeadline = DateTime.UtcNow + o.Timeout;
        var nextRenewal = DateTime.UtcNow + TailRenewEvery;
        string? node = null;
        var seen = 0;
        try
        {
            while (true)
            {
                var now = DateTime.UtcNow;
                if (ackDeadline != DateTime.MaxValue && now >= ackDeadline) throw client.Unreachable(o.Timeout);
                if (now >= nextRenewal)
                {
                    // Renewing keeps the receptionist's response tunnel alive, and finds another node if ours went away.
                    inbox.Send(SubscribeMembership.Instance);
                    if (ackDeadline == DateTime.MaxValue) ackDeadline = now + o.Timeout;
                    nextRenewal = now + TailRenewEvery;
                }
                var wait = (ackDeadline < nextRenewal ? ackDeadline : nextRenewal) - now;
                switch (await inbox.Receive(wait < TimeSpan.Zero ? TimeSpan.Zero : wait, ct))
                {
                    case MembershipSubscribed s:
                        ackDeadline = DateTime.MaxValue;
                        if (s.Node != node)
                            Console.Error.WriteLine(node is null
                                ? $"tailing membership events seen by {s.Node} (Ctrl-C to stop)"
                                : $"now tailing membership events seen by {s.Node}");
                        node = s.Node;
                        break;
                    case MembershipEvent e:
                        if (o.Json) WriteJson(ToJson(e));
                        else RenderEvent(e);
                        if (count > 0 && ++seen >= count) return ExitOk;
                        break;
                }
            }
        }
        finally
        {
            inbox.Send(UnsubscribeMembership.Instance);
        }
    }

    // ---- output ----

    private static void WriteJson(object value) => Console.Out.WriteLine(JsonSerializer.Serialize(value, Json));

    private static object ToJson(MemberInfo m) => new
    {
        address = m.Address,
        roles = m.Roles,
        status = m.Status,
        reachable = m.Reachable,
        upSince = m.UpSinceUnixMs > 0 ? DateTimeOffset.FromUnixTimeMilliseconds(m.UpSinceUnixMs).ToString("o", CultureInfo.InvariantCulture) : null,
    };

    private static object ToJson(ClusterStateResult s) => new
    {
        self = s.SelfAddress,
        leader = s.Leader.Length > 0 ? s.Leader : null,
        members = s.Members.Select(ToJson).ToArray(),
    };

    private static object ToJson(MembershipEvent e) => new
    {
        at = DateTimeOffset.FromUnixTimeMilliseconds(e.AtUnixMs).ToString("o", CultureInfo.InvariantCulture),
        kind = e.Kind,
        member = ToJson(e.Member),
        observedBy = e.ObservedBy,
    };

    private static object ToJson(PartitionsResult r) => new
    {
        parts = r.Parts,
        problem = r.Problem.Length > 0 ? r.Problem : null,
        partitions = r.Partitions.Select(p => new
        {
            partition = p.Partition,
            state = p.State,
            node = p.Node.Length > 0 ? p.Node : null,
            mappedBytes = p.MappedBytes,
            requests = p.Requests,
            requestsPerSecond = p.RequestsPerSecond >= 0 ? p.RequestsPerSecond : (double?)null,
            problem = p.Problem.Length > 0 ? p.Problem : null,
        }).ToArray(),
    };

    private static void RenderState(ClusterStateResult s)
    {
        var table = new Table().Title($"members as {Markup.Escape(Short(s.SelfAddress))} sees them");
        table.AddColumns("member", "roles", "status", "reachable", "up since (UTC)");
        foreach (var m in s.Members)
        {
            var leader = m.Address == s.Leader ? " [bold]leader[/]" : "";
            var self = m.Address == s.SelfAddress ? " self" : "";
            table.AddRow(Markup.Escape(Short(m.Address)) + leader + self, Markup.Escape(string.Join(", ", m.Roles)), StatusMarkup(m.Status),
                m.Reachable ? "yes" : "[red]NO[/]", UpSince(m.UpSinceUnixMs));
        }
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine(s.Leader.Length > 0 ? $"leader: {Markup.Escape(s.Leader)}" : "[yellow]no leader[/]");
        if (s.Members.Any(m => m.UpSinceUnixMs == 0))
            AnsiConsole.MarkupLine("[grey]up since -: already up when the answering node started watching[/]");
    }

    private static string StatusMarkup(string status) => status switch
    {
        "Up" => "[green]Up[/]",
        "Joining" or "WeaklyUp" or "Leaving" or "Exiting" => $"[yellow]{status}[/]",
        _ => $"[red]{Markup.Escape(status)}[/]",
    };

    private static string UpSince(long unixMs) => unixMs > 0
        ? DateTimeOffset.FromUnixTimeMilliseconds(unixMs).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)
        : "[grey]-[/]";

    private static void RenderDowned(UnreachableDowned r)
    {
        string List(IEnumerable<string> addresses) => Markup.Escape(string.Join(", ", addresses.Select(Short)));
        var self = Markup.Escape(Short(r.ObservedBy));
        if (r.Downed.Length > 0) AnsiConsole.MarkupLine($"[green]marked down (unreachable from {self}): {List(r.Downed)}[/]");
        else if (r.AlreadyDown.Length == 0) AnsiConsole.MarkupLine($"[green]every member is reachable from {self}: nothing to down[/]");
        else AnsiConsole.MarkupLine($"[green]nothing to down: the members unreachable from {self} are already down[/]");
        if (r.AlreadyDown.Length > 0) AnsiConsole.MarkupLine($"[grey]already down, being removed: {List(r.AlreadyDown)}[/]");
    }

    private static void RenderEvent(MembershipEvent e)
    {
        var at = DateTimeOffset.FromUnixTimeMilliseconds(e.AtUnixMs).UtcDateTime.ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture);
        var kind = e.Kind is "unreachable" or "downed" or "removed" ? $"[red]{e.Kind,-11}[/]" : $"[green]{e.Kind,-11}[/]";
        AnsiConsole.MarkupLine($"{at}  {kind}  {Markup.Escape(Short(e.Member.Address))}  [[{Markup.Escape(string.Join(", ", e.Member.Roles))}]]  " +
                               $"{Markup.Escape(e.Member.Status)}{(e.Member.Reachable ? "" : " [red]unreachable[/]")}");
    }

    private static void RenderPartitions(PartitionsResult r)
    {
        var inv = CultureInfo.InvariantCulture;
        var table = new Table().Title($"{r.Parts} partitions");
        table.AddColumn("partition");
        table.AddColumn("node");
        table.AddColumn("state");
        table.AddColumn(new TableColumn("mapped").RightAligned());
        table.AddColumn(new TableColumn("requests").RightAligned());
        table.AddColumn(new TableColumn("req/s").RightAligned());
        // The problem column only when there is one: an 80-column terminal has no room to spare.
        var problems = r.Partitions.Any(p => p.Problem.Length > 0);
        if (problems) table.AddColumn("problem");
        foreach (var p in r.Partitions)
        {
            var cells = new List<string>
            {
                p.Partition.ToString(inv),
                Markup.Escape(Short(p.Node)),
                p.State == PartitionState.Serving ? "[green]serving[/]" : $"[red]{StateName(p.State)}[/]",
                p.State == PartitionState.Serving ? Bytes(p.MappedBytes) : "",
                p.State == PartitionState.Serving ? p.Requests.ToString("N0", inv) : "",
                p.RequestsPerSecond >= 0 ? p.RequestsPerSecond.ToString("0.0", inv) : "[grey]n/a[/]",
            };
            if (problems) cells.Add(Markup.Escape(p.Problem));
            table.AddRow(cells.ToArray());
        }
        AnsiConsole.Write(table);
        if (r.Problem.Length > 0) AnsiConsole.MarkupLine($"[red]{Markup.Escape(r.Problem)}[/]");
        else AnsiConsole.MarkupLine("[grey]req/s: since the previous `partitions show` answered by the same node[/]");
    }

    // Tables show HOST:PORT; every member shares the akka.tcp://graphactors@ (TLS: akka.ssl.tcp://graphactors@) prefix (JSON keeps the full address).
    private static string Short(string address) =>
        address.StartsWith(ClusterPrefix, StringComparison.Ordinal) ? address[ClusterPrefix.Length..]
        : address.StartsWith(TlsClusterPrefix, StringComparison.Ordinal) ? address[TlsClusterPrefix.Length..] : address;

    private const string ClusterPrefix = "akka.tcp://" + GraphActors.Cluster.Names.ActorSystem + "@";
    private const string TlsClusterPrefix = "akka.ssl.tcp://" + GraphActors.Cluster.Names.ActorSystem + "@";

    private static string StateName(PartitionState s) => s switch
    {
        PartitionState.Failed => "failed",
        PartitionState.NoAnswer => "no answer",
        PartitionState.NotAllocated => "not allocated",
        _ => s.ToString(),
    };

    private static string Bytes(long b)
    {
        var inv = CultureInfo.InvariantCulture;
        return b >= 1 << 30 ? (b / (double)(1 << 30)).ToString("0.0 GiB", inv)
            : b >= 1 << 20 ? (b / (double)(1 << 20)).ToString("0.0 MiB", inv)
            : b >= 1 << 10 ? (b / 1024.0).ToString("0.0 KiB", inv)
            : b.ToString(inv) + " B";
    }
}
