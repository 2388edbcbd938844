// The client side of `graphactors ctl`: a small remote-only ActorSystem and a ClusterClient to the nodes' receptionists.
using System.Collections.Immutable;
using System.Globalization;
using System.Threading.Channels;
using Akka.Actor;
using Akka.Cluster.Tools.Client;
using Akka.Cluster.Tools.PublishSubscribe;
using Akka.Configuration;
using GraphActors.Cluster;
using GraphActors.Contracts.Serialization;

namespace GraphActors.Cli.Commands;

/// <summary>The cluster did not answer in time; the message names the contact points tried.</summary>
public sealed class CtlUnreachableException(string message) : Exception(message);

/// <summary>
/// Never joins the cluster (provider = remote, port 0): it reaches the CommandHandler of some node through the
/// ClusterClientReceptionist of any contact point. Every wait has the caller's timeout; disposal shuts the system
/// down within about a second (a client that never joined has nothing to hand off).
/// </summary>
public sealed class CtlClient : IAsyncDisposable
{
    private static readonly TimeSpan ShutdownBound = TimeSpan.FromSeconds(3);

    private readonly ActorSystem _system;
    private readonly IActorRef _client;

    private CtlClient(ActorSystem system, IActorRef client, IReadOnlyList<string> contacts)
    {
        _system = system;
        _client = client;
        Contacts = contacts;
    }

    /// <summary>The cluster addresses this client tries, as given.</summary>
    public IReadOnlyList<string> Contacts { get; }

    /// <summary>
    /// <c>HOST:PORT</c> or a full <c>akka.tcp://graphactors@HOST:PORT</c> (a trailing actor path is ignored) → the address.
    /// </summary>
    public static string NormalizeAddress(string contact)
    {
        var c = contact.Trim();
        if (!c.Contains("://", StringComparison.Ordinal)) c = $"akka.tcp://{Names.ActorSystem}@{c}";
        var address = Address.Parse(c);
        if (string.IsNullOrEmpty(address.Host) || address.Port is null)
            throw new ArgumentException($"'{contact}' names no host and port (akka.tcp://{Names.ActorSystem}@HOST:PORT or HOST:PORT).");
        return address.ToString();
    }

    /// <summary>The contact points to use: the given ones, else <c>GA_SEEDS</c>, else the default seed 127.0.0.1:4053.</summary>
    public static IReadOnlyList<string> DefaultContacts(string[]? given, string? gaSeeds)
    {
        if (given is { Length: > 0 }) return given.Select(NormalizeAddress).Distinct().ToArray();
        if (!string.IsNullOrWhiteSpace(gaSeeds))
            return gaSeeds.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(NormalizeAddress).Distinct().ToArray();
        return [$"akka.tcp://{Names.ActorSystem}@127.0.0.1:4053"];
    }

    public static CtlClient Start(IReadOnlyList<string> contacts, string bindHost, bool verbose)
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
            .WithFallback(GraphActorsSerialization.Config)
            .WithFallback(ClusterClientReceptionist.DefaultConfig())
            .WithFallback(DistributedPubSub.DefaultConfig());
        var system = ActorSystem.Create("graphactors-ctl", config);
        var receptionists = contacts.Select(c => ActorPath.Parse(c + "/system/receptionist")).ToArray();
        var settings = ClusterClientSettings.Create(system).WithInitialContacts(receptionists.ToImmutableHashSet());
        var client = system.ActorOf(ClusterClient.Props(settings), "client");
        return new CtlClient(system, client, contacts);
    }

    /// <summary>Sends <paramref name="message"/> to a CommandHandler and waits for the one answer.</summary>
    public async Task<T> Request<T>(object message, TimeSpan timeout, CancellationToken cancel)
    {
        try
        {
            var answer = await _client.Ask(new ClusterClient.Send(Names.CommandHandlerPath, message, localAffinity: true), timeout, cancel);
            return answer is T t ? t
                : throw new InvalidOperationException($"The cluster answered {message.GetType().Name} with {answer?.GetType().Name ?? "null"}.");
        }
        catch (AskTimeoutException)
        {
            throw Unreachable(timeout);
        }
    }

    /// <summary>
    /// An inbox for answers that come as a stream: an actor of the client system that writes everything it receives into a channel.
    /// </summary>
    public Inbox OpenInbox() => new(_system, _client);

    public CtlUnreachableException Unreachable(TimeSpan waited) => new(
        $"no answer from the cluster within {waited.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)} s; " +
        $"contact points tried: {string.Join(", ", Contacts)} (is a node running there? --contact or GA_SEEDS name others)");

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
