// The client side of `graphactors ctl`: a small remote-only ActorSystem and a ClusterClient to the nodes' receptionists.
using System.Collections.Immutable;
using System.Globalization;
using System.Threading.Channels;
using Akka.Actor;
using Akka.Cluster.Tools.Client;
using Akka.Cluster.Tools.PublishSubscribe;
using Akka.Configuration;
using GraphActors.Cluster;
using GraphActors.Cluster.Hosting;
using GraphActors.Contracts;
using GraphActors.Contracts.Protocols;
using GraphActors.Contracts.Serialization;

namespace GraphActors.Cli.Commands;

/// <summary>The cluster did not answer in time; the message names the contact points tried.</summary>
public sealed class CtlUnreachableException(string message) : Exception(message);

/// <summary>The node refused a changing command for its credential (no token, a wrong one, or none set on the node).</summary>
public sealed class CtlNotAuthorizedException(string command, string message) : Exception(message)
{
    public string Command { get; } = command;
}

/// <summary>
/// How the client reaches the cluster: <paramref name="Tls"/> is the HOCON that turns TLS on in its system (graphactors.remote.tls,
/// or Akka's own akka.remote.dot-netty.tcp ssl section; empty: plain TCP); <paramref name="Token"/> goes with every changing command.
/// </summary>
public sealed record CtlConnection(Config Tls, bool SuppressValidation, string Token)
{
    public static readonly CtlConnection Plain = new(Config.Empty, false, "");

    /// <summary>TLS makes every address <c>akka.ssl.tcp://…</c>: Akka names the transport by its protocol.</summary>
    public bool UsesTls => RemoteTls.Enabled(Tls) || Tls.GetBoolean("akka.remote.dot-netty.tcp.enable-ssl", false);

    public string Protocol => UsesTls ? "akka.ssl.tcp" : "akka.tcp";
}

/// <summary>
/// Never joins the cluster (provider = remote, port 0): it reaches the CommandHandler of some node through the
/// ClusterClientReceptionist of any contact point. Every wait has the caller's timeout; disposal shuts the system
/// down within about a second (a client that never joined has nothing to hand off).
/// </summary>
public sealed class CtlClient : IAsyncDisposable
{
    // Leaving cleanly (the node sees a goodbye, not a dropped connection) takes a few hundred ms; the bound keeps a
    // stuck shutdown from stretching the command past its --timeout by more than this.
    private static readonly TimeSpan ShutdownBound = TimeSpan.FromSeconds(1.2);

    private readonly ActorSystem _system;
    private readonly IActorRef _client;
    private readonly string _token;
    private readonly string _protocol;

    private CtlClient(ActorSystem system, IActorRef client, IReadOnlyList<string> contacts, CtlConnection connection)
    {
        _system = system;
        _client = client;
        _token = connection.Token;
        _protocol = connection.Protocol;
        Contacts = contacts;
    }

    /// <summary>A member address as <see cref="NormalizeAddress"/> makes it, with this client's protocol (a TLS cluster's members are akka.ssl.tcp).</summary>
    public string Address(string member) => NormalizeAddress(member, _protocol);

    /// <summary>The cluster addresses this client tries, as given.</summary>
    public IReadOnlyList<string> Contacts { get; }

    /// <summary>
    /// <c>HOST:PORT</c> or a full <c>akka.tcp://graphactors@HOST:PORT</c> (a trailing actor path is ignored) → the address,
    /// with <paramref name="protocol"/> (<c>akka.tcp</c>, or <c>akka.ssl.tcp</c> when the client uses TLS). A TLS address
    /// for a client without TLS is refused: it could only wait for its --timeout.
    /// </summary>
    public static string NormalizeAddress(string contact, string protocol = "akka.tcp")
    {
        var c = contact.Trim();
        if (!c.Contains("://", StringComparison.Ordinal)) c = $"{protocol}://{Names.ActorSystem}@{c}";
        var address = Akka.Actor.Address.Parse(c);
        if (string.IsNullOrEmpty(address.Host) || address.Port is null)
            throw new ArgumentException($"'{contact}' names no host and port ({protocol}://{Names.ActorSystem}@HOST:PORT or HOST:PORT).");
        if (address.Protocol == "akka.ssl.tcp" && protocol != "akka.ssl.tcp")
            throw new ArgumentException($"'{contact}' is a TLS address (akka.ssl.tcp): give ctl the cluster's certificate with --tls-cert PFX " +
                                        "(and --tls-cert-password or GA_TLS_PASSWORD) or --node-config NODE.hocon.");
        return address.WithProtocol(protocol).ToString();
    }

    /// <summary>The contact points to use: the given ones, else <c>GA_SEEDS</c>, else the default seed 127.0.0.1:4053.</summary>
    public static IReadOnlyList<string> DefaultContacts(string[]? given, string? gaSeeds, string protocol = "akka.tcp")
    {
        string Normalize(string c) => NormalizeAddress(c, protocol);
        if (given is { Length: > 0 }) return given.Select(Normalize).Distinct().ToArray();
        if (!string.IsNullOrWhiteSpace(gaSeeds))
            return gaSeeds.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Normalize).Distinct().ToArray();
        return [$"{protocol}://{Names.ActorSystem}@127.0.0.1:4053"];
    }

    public static CtlClient Start(IReadOnlyList<string> contacts, string bindHost, bool verbose) =>
        Start(contacts, bindHost, verbose, CtlConnection.Plain);

    public static CtlClient Start(IReadOnlyList<string> contacts, string bindHost, bool verbose, CtlConnection connection)
    {
        var level = verbose ? "INFO" : "OFF";
        var config = ConfigurationFactory.ParseString($$"""
            akka {
              # Logs would interleave with --json output; --verbose brings them back (on stdout, Akka's default logger).
              loglevel = {{level}}
              stdout-loglevel = {{level}}
              log-dead-letters = off
              log-dead-letters-during-shutdown = off
              actor.provider = remote
              remote {
                dot-netty.tcp {
                  hostname = {{Quote(bindHost)}}
                  port = 0
                  maximum-frame-size = 4MiB
                }
                # A contact that refuses the connection is retried soon, not after the default 5 s gate.
                retry-gate-closed-for = 500ms
                # Nothing to flush on exit: the answers are in.
                shutdown-timeout = 1s
                flush-wait-on-shutdown = 100ms
              }
              coordinated-shutdown {
                run-by-clr-shutdown-hook = off
                default-phase-timeout = 1s
              }
              cluster.client {
                establishing-get-contacts-interval = 500ms
                # The command's own timeout bounds every wait; the client never gives up on its own.
                reconnect-timeout = off
              }
            }
            """)
            .WithFallback(connection.Tls)
            .WithFallback(GraphActorsSerialization.Config)
            .WithFallback(ClusterClientReceptionist.DefaultConfig())
            .WithFallback(DistributedPubSub.DefaultConfig());
        var system = RemoteTls.CreateSystem(Names.CtlSystem, config, suppressValidation: connection.SuppressValidation);
        var receptionists = contacts.Select(c => ActorPath.Parse(c + "/system/receptionist")).ToArray();
        var settings = ClusterClientSettings.Create(system).WithInitialContacts(receptionists.ToImmutableHashSet());
        var client = system.ActorOf(ClusterClient.Props(settings), "client");
        return new CtlClient(system, client, contacts, connection);
    }

    /// <summary>
    /// Sends <paramref name="message"/> to a CommandHandler and waits for the one answer, at most <paramref name="timeout"/>.
    /// A command that changes the cluster goes inside a <see cref="CommandProtocol.WithToken"/>; a refusal for its
    /// credential comes back as <see cref="CtlNotAuthorizedException"/>.
    /// </summary>
    public async Task<T> Request<T>(object message, TimeSpan timeout, CancellationToken cancel, TimeSpan? reportedTimeout = null)
    {
        var sent = CommandProtocol.ChangesCluster(message) ? new CommandProtocol.WithToken(_token, (IGraphActorsMessage)message) : message;
        object answer;
        try
        {
            answer = await _client.Ask(new ClusterClient.Send(Names.CommandHandlerPath, sent, localAffinity: true), timeout, cancel);
        }
        catch (AskTimeoutException)
        {
            throw Unreachable(reportedTimeout ?? timeout, message);
        }
        return answer switch
        {
            T t => t,
            CommandProtocol.NotAuthorized n => throw new CtlNotAuthorizedException(n.Command, n.Reason),
            _ => throw new InvalidOperationException($"The cluster answered {message.GetType().Name} with {answer?.GetType().Name ?? "null"}."),
        };
    }

    /// <summary>
    /// An inbox for answers that come as a stream: an actor of the client system that writes everything it receives into a channel.
    /// </summary>
    public Inbox OpenInbox() => new(_system, _client);

    /// <summary>
    /// No answer within <paramref name="waited"/>: names the contact points tried and what else may keep an answer away —
    /// TLS on one side only, or (for a command the training coordinator answers) the coordinator moving to another node.
    /// </summary>
    public CtlUnreachableException Unreachable(TimeSpan waited, object? message = null)
    {
        var tls = Contacts.Any(c => c.StartsWith("akka.ssl.tcp:", StringComparison.Ordinal))
            ? "; this client uses TLS: do the nodes (graphactors.remote.tls)?"
            : "; if the cluster uses TLS, give ctl its certificate (--tls-cert PFX or --node-config NODE.hocon)";
        var coordinator = message is TrainingProtocol.ICoordinatorCommand or CommandProtocol.GetJobConfig
            or CommandProtocol.ListCheckpoints { Directory.Length: 0 } or CommandProtocol.ExportModel { Directory.Length: 0 }
            ? "; if a node answers `ctl cluster show`, the training coordinator may be moving to another node (its singleton " +
              "hands over after the oldest trainer node leaves or is downed): try again in a few seconds, or raise --timeout"
            : "";
        return new CtlUnreachableException(
            $"no answer from the cluster within {waited.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)} s; " +
            $"contact points tried: {string.Join(", ", Contacts)} (is a node running there? --contact or GA_SEEDS name others{tls}){coordinator}");
    }

    /// <summary>
    /// Leaves through CoordinatedShutdown, so that remoting tells the node goodbye instead of dropping the connection;
    /// never longer than <see cref="ShutdownBound"/>, whatever the cluster does.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        var stop = CoordinatedShutdown.Get(_system).Run(CoordinatedShutdown.ClrExitReason.Instance);
        await Task.WhenAny(Task.WhenAll(stop, _system.WhenTerminated), Task.Delay(ShutdownBound));
    }

    private static string Quote(string s) => "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";

    /// <summary>Messages sent through the cluster client on behalf of an actor whose mail lands in a channel.</summary>
    public sealed class Inbox
    {
        private readonly Channel<object> _channel = Channel.CreateUnbounded<object>();
        private readonly IActorRef _actor;
        private readonly IActorRef _client;

        internal Inbox(ActorSystem system, IActorRef client)
        {
            _client = client;
            _actor = system.ActorOf(Props.Create(() => new ChannelActor(_channel.Writer)));
        }

        public void Send(object message) => _client.Tell(new ClusterClient.Send(Names.CommandHandlerPath, message, localAffinity: true), _actor);

        /// <summary>The next message, or null when nothing came within <paramref name="timeout"/>.</summary>
        public async Task<object?> Receive(TimeSpan timeout, CancellationToken cancel)
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            cts.CancelAfter(timeout);
            try
            {
                return await _channel.Reader.ReadAsync(cts.Token);
            }
            catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
            {
                return null;
            }
        }

        private sealed class ChannelActor : ReceiveActor
        {
            public ChannelActor(ChannelWriter<object> writer) => ReceiveAny(m => writer.TryWrite(m));
        }
    }
}
