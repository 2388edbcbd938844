// One `ctl model list|register|unregister|scale`: asks the InferenceActor of each inference node, gathers the answers, names the silent ones.
using Akka.Actor;
using Akka.Event;
using GraphActors.Cluster.Inference;
using GraphActors.Contracts;
using static GraphActors.Contracts.Protocols.CommandProtocol;

namespace GraphActors.Cluster.Commands;

/// <summary>
/// Sends <c>request</c> to <c>/user/inference</c> on every node of <c>nodes</c> (Tell, the answers matched by the
/// sender's address), then answers one <see cref="ServedModelsResult"/> with an <see cref="InferenceNodeAnswer"/> per node
/// once all have answered or the timer fires; a node still silent then is reported with code 504 and what was waited
/// for, never left out. Stops itself after answering.
/// </summary>
public sealed class ModelsQueryActor : ReceiveActor, IWithTimers
{
    private sealed class TimedOut : INoSerializationVerificationNeeded
    {
        public static readonly TimedOut Instance = new();
    }

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly IGraphActorsMessage _request;
    private readonly IReadOnlyList<Address> _nodes;
    private readonly Address _self;
    private readonly IActorRef _replyTo;
    private readonly TimeSpan _timeout;
    private readonly Dictionary<Address, InferenceNodeAnswer> _answers = new();

    public ModelsQueryActor(IGraphActorsMessage request, IReadOnlyList<Address> nodes, Address self, IActorRef replyTo, TimeSpan timeout)
    {
        _request = request;
        _nodes = nodes;
        _self = self;
        _replyTo = replyTo;
        _timeout = timeout;

        Receive<InferenceNodeAnswer>(a =>
        {
            var from = Sender.Path.Address.HasLocalScope ? _self : Sender.Path.Address;
            if (!_nodes.Contains(from) || !_answers.TryAdd(from, a)) return;
            if (_answers.Count == _nodes.Count) Finish();
        });
        Receive<TimedOut>(_ => Finish());
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(IGraphActorsMessage request, IReadOnlyList<Address> nodes, Address self, IActorRef replyTo, TimeSpan timeout) =>
        Akka.Actor.Props.Create(() => new ModelsQueryActor(request, nodes, self, replyTo, timeout));

    protected override void PreStart()
    {
        foreach (var node in _nodes)
            Context.ActorSelection(new RootActorPath(node) / "user" / InferenceExtensions.ActorName).Tell(_request, Self);
        Timers.StartSingleTimer("timeout", TimedOut.Instance, _timeout);
    }

    private void Finish()
    {
        var seconds = _timeout.TotalSeconds.ToString("0.#", System.Globalization.CultureInfo.InvariantCulture);
        var answers = _nodes
            .OrderBy(n => n, Akka.Cluster.Member.AddressOrdering)
            .Select(n => _answers.TryGetValue(n, out var a)
                ? a with { Node = n.ToString() }
                : new InferenceNodeAnswer(n.ToString(), false, 504,
                    $"no answer from its inference actor within {seconds} s (unreachable, still starting, or still loading the model: " +
                    "`ctl model list` shows what it serves; raise --timeout for a large model)", []))
            .ToArray();
        var silent = answers.Count(a => a.Code == 504 && !_answers.ContainsKey(Address.Parse(a.Node)));
        if (silent > 0) _log.Warning("ctl model: {0} of {1} inference node(s) did not answer {2} within {3} s", silent, _nodes.Count, _request.GetType().Name, seconds);
        _replyTo.Tell(new ServedModelsResult(answers, ""));
        Context.Stop(Self);
    }
}
