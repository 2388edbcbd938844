// Answers `graphactors ctl` on every node: membership, leave/down/join, a membership stream, the partition table, training jobs, checkpoints and served models.
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Akka.Cluster.Tools.Client;
using Akka.Event;
using GraphActors.Cluster.Coordination;
using GraphActors.Cluster.Inference;
using GraphActors.Contracts;
using static GraphActors.Contracts.Protocols.CommandProtocol;
using static GraphActors.Contracts.Protocols.TrainingProtocol;
using static GraphActors.Contracts.Protocols.PartitionProtocol;

namespace GraphActors.Cluster.Commands;

/// <summary>
/// The node's side of the control CLI, registered with the ClusterClientReceptionist at <see cref="Names.CommandHandlerPath"/>.
/// Membership answers come from this node's view of the cluster. The partition table is gathered with Tell: one
/// <see cref="GetClusterShardingStats"/> to the partition region, then one <see cref="GetPartitionInfo"/> per allocated
/// partition, correlated by request id, and sent back when all have answered or the query's timer fires.
/// Membership subscribers (the cluster client's response tunnels) are watched and dropped when they stop.
/// Training commands and status queries are forwarded to the coordinator proxy, so the coordinator answers the client
/// directly; with no member of the coordinator's role up they are refused at once instead of buffered by the proxy.
/// Each checkpoint listing or model export runs in a <see cref="CheckpointsQueryActor"/> child, on this node's filesystem.
/// Each `model list|register|unregister|scale` runs in a <see cref="ModelsQueryActor"/> child that asks the inference
/// actor of every Up member with the inference role (or the one named) and names any that stays silent.
/// Commands that change the cluster (<see cref="ChangesCluster"/>) are taken only inside a <see cref="WithToken"/> whose
/// token matches graphactors.ctl's (constant-time compare); otherwise the answer is a <see cref="NotAuthorized"/> naming
/// the command and what is missing. Read-only commands need nothing.
/// </summary>
public sealed class CommandHandlerActor : ReceiveActor, IWithTimers
{
    private sealed record PartitionsTimedOut(long Query) : INoSerializationVerificationNeeded;

    private static readonly TimeSpan MinTimeout = TimeSpan.FromMilliseconds(200), MaxTimeout = TimeSpan.FromSeconds(60);
    // Copying a large model may take a while; the client's --timeout decides, within this bound.
    private static readonly TimeSpan MaxFileWork = TimeSpan.FromMinutes(10);

    private readonly Akka.Cluster.Cluster _cluster = Akka.Cluster.Cluster.Get(Context.System);
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly IActorRef _partitionRegion;
    private readonly ICanTell _coordinator;
    private readonly string _coordinatorRole;
    private readonly string _inferenceRole;
    private readonly string _token;
    private readonly Dictionary<Address, long> _upSince = new();
    private readonly HashSet<IActorRef> _subscribers = new();
    private readonly Dictionary<long, (PartitionsQuery Query, IActorRef ReplyTo)> _queries = new();
    // Queries waiting for the coordinator's statistics, oldest first (the statistics carry no correlation id; any
    // fresh answer is as good as another, so each one serves the oldest waiting query).
    private readonly Queue<long> _awaitingStats = new();
    private readonly Dictionary<long, long> _requestToQuery = new();
    private readonly PartitionRates _rates = new();
    private long _nextId;

    public CommandHandlerActor(IActorRef partitionRegion, ICanTell coordinator, string coordinatorRole, string inferenceRole, string token)
    {
        _partitionRegion = partitionRegion;
        _coordinator = coordinator;
        _coordinatorRole = coordinatorRole;
        _inferenceRole = inferenceRole;
        _token = token;

        Receive<GetClusterState>(_ => Sender.Tell(State()));
        Receive<WithToken>(OnWithToken);
        // A changing command sent bare: refused for want of the token, whatever it asks.
        Receive<IGraphActorsMessage>(ChangesCluster, m => Refuse(m, ""));

        Receive<SubscribeMembership>(_ =>
        {
            if (_subscribers.Add(Sender))
            {
                Context.Watch(Sender);
                _log.Info("Membership subscriber {0} added ({1} now)", Sender.Path, _subscribers.Count);
            }
            Sender.Tell(new MembershipSubscribed(_cluster.SelfAddress.ToString()));
        });
        Receive<UnsubscribeMembership>(_ => Drop(Sender, "unsubscribed"));
        Receive<Terminated>(t => Drop(t.ActorRef, "went away"));
        Receive<ClusterEvent.CurrentClusterState>(_ => { });
        Receive<ClusterEvent.IMemberEvent>(OnMemberEvent);
        Receive<ClusterEvent.ReachabilityEvent>(OnReachabilityEvent);

        Receive<GetPartitions>(StartPartitionsQuery);
        Receive<ClusterShardingStats>(OnShardingStats);
        Receive<IPartitionResponse>(OnPartitionResponse);
        Receive<PartitionsTimedOut>(t => FinishPartitionsQuery(t.Query, timedOut: true));

        Receive<GetJobStatus>(ToCoordinator);
        Receive<Contracts.Protocols.StoreProtocol.GetStoreVersion>(ToStoreVersions);
        Receive<ListCheckpoints>(m => Query(m, m.TimeoutMs));

        Receive<GetServedModels>(m => AskInference(m, "", m.TimeoutMs));
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(IActorRef partitionRegion, ICanTell coordinator, string coordinatorRole, string inferenceRole, string token) =>
        Akka.Actor.Props.Create(() => new CommandHandlerActor(partitionRegion, coordinator, coordinatorRole, inferenceRole, token));

    protected override void PreStart() =>
        _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsSnapshot,
            typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent));

    protected override void PostStop() => _cluster.Unsubscribe(Self);

    // ---- changing commands: the token first ----

    private void OnWithToken(WithToken m)
    {
        if (!ChangesCluster(m.Command))
        {
            // The serializer never builds one; a local sender might.
            Sender.Tell(new NotAuthorized(m.Command.GetType().Name, $"{m.Command.GetType().Name} is not a command that takes a token"));
            return;
        }
        if (Refuse(m.Command, m.Token)) return;
        switch (m.Command)
        {
            case LeaveMember c:
                Sender.Tell(Change(c.Address, "leave", a => _cluster.Leave(a), "is leaving: it hands its partitions off, then exits"));
                break;
            case DownMember c:
                Sender.Tell(Change(c.Address, "down", a => _cluster.Down(a), "is marked down and will be removed"));
                break;
            case DownUnreachable:
                Sender.Tell(DownAllUnreachable());
                break;
            case JoinCluster c:
                Sender.Tell(Join(c.Address));
                break;
            case RegisterServedModel c:
                AskInference(c, c.Node, c.TimeoutMs);
                break;
            case UnregisterServedModel c:
                AskInference(c, c.Node, c.TimeoutMs);
                break;
            case ScaleServedModel c:
                AskInference(c, c.Node, c.TimeoutMs);
                break;
            case ICoordinatorCommand c:
                ToCoordinator(c);
                break;
            case ExportModel c:
                Query(c, c.TimeoutMs);
                break;
            case Contracts.Protocols.StoreProtocol.ReloadStore c:
                ToStoreVersions(c);
                break;
        }
    }

    /// <summary>Answers <see cref="NotAuthorized"/> and returns true unless <paramref name="token"/> is this node's.</summary>
    private bool Refuse(IGraphActorsMessage command, string token)
    {
        var verb = Verb(command)!;
        if (CtlToken.Refusal(verb, _token, token) is not { } reason) return false;
        // Who asked, never what they sent: a wrong token in the log would help the next guess.
        _log.Warning("ctl: refused `{0}` from {1}: {2}", verb, Sender.Path.Address.HasLocalScope ? Sender.Path.ToString() : Sender.Path.Address.ToString(),
            token.Length == 0 ? "no token" : _token.Length == 0 ? "this node has no token" : "wrong token");
        Sender.Tell(new NotAuthorized(verb, reason));
        return true;
    }

    // ---- membership ----

    private ClusterStateResult State()
    {
        var state = _cluster.State;
        var members = state.Members.Select(m => Info(m, !state.Unreachable.Contains(m))).ToArray();
        return new ClusterStateResult(_cluster.SelfAddress.ToString(), state.Leader?.ToString() ?? "", members);
    }

    private MemberInfo Info(Member m, bool reachable) =>
        new(m.Address.ToString(), m.Roles.Order(StringComparer.Ordinal).ToArray(), m.Status.ToString(), reachable,
            _upSince.GetValueOrDefault(m.Address));

    private CommandResult Change(string address, string verb, Action<Address> act, string done)
    {
        Address target;
        try
        {
            target = Address.Parse(address);
        }
        catch (Exception e) when (e is UriFormatException or ArgumentException or FormatException)
        {
            return new CommandResult(false, $"'{address}' is not a member address (akka.tcp://{Names.ActorSystem}@HOST:PORT): {e.Message}");
        }
        var member = _cluster.State.Members.FirstOrDefault(m => m.Address == target);
        if (member is null)
            return new CommandResult(false, $"{target} is not a member of the cluster as {_cluster.SelfAddress} sees it; members: " +
                                            string.Join(", ", _cluster.State.Members.Select(m => m.Address)));
        _log.Info("ctl: {0} {1} (was {2})", verb, target, member.Status);
        act(target);
        return new CommandResult(true, $"{target} {done} (was {member.Status})");
    }

    private UnreachableDowned DownAllUnreachable()
    {
        var unreachable = _cluster.State.Unreachable.OrderBy(m => m.Address, Member.AddressOrdering).ToArray();
        var downed = new List<string>();
        var already = new List<string>();
        foreach (var m in unreachable)
        {
            if (m.Status is MemberStatus.Down or MemberStatus.Removed)
            {
                already.Add(m.Address.ToString());
                continue;
            }
            _log.Info("ctl: down-unreachable {0} (was {1}, unreachable)", m.Address, m.Status);
            _cluster.Down(m.Address);
            downed.Add(m.Address.ToString());
        }
        if (unreachable.Length == 0) _log.Info("ctl: down-unreachable: every member is reachable from {0}", _cluster.SelfAddress);
        return new UnreachableDowned(_cluster.SelfAddress.ToString(), downed.ToArray(), already.ToArray());
    }

    /// <summary>
    /// Akka's Cluster.Join, where it would act: a node that is already part of a cluster ignores a join (Akka logs
    /// "Trying to join … when already part of a cluster, ignoring"), so that is refused here, saying so — unless the
    /// address is a member of this very cluster, which asks for nothing.
    /// </summary>
    private CommandResult Join(string address)
    {
        Address target;
        try
        {
            target = Address.Parse(address);
        }
        catch (Exception e) when (e is UriFormatException or ArgumentException or FormatException)
        {
            return new CommandResult(false, $"'{address}' is not a node address (akka.tcp://{Names.ActorSystem}@HOST:PORT): {e.Message}");
        }
        var state = _cluster.State;
        var self = state.Members.FirstOrDefault(m => m.Address == _cluster.SelfAddress);
        if (self is not null && self.Status != MemberStatus.Removed)
        {
            if (state.Members.FirstOrDefault(m => m.Address == target) is { } member)
                return new CommandResult(true, $"{_cluster.SelfAddress} is already in the cluster of {target} ({target} is {member.Status}, " +
                                               $"{_cluster.SelfAddress} is {self.Status}): nothing to do");
            return new CommandResult(false,
                $"{_cluster.SelfAddress} is already a member ({self.Status}) of a cluster that {target} is not part of " +
                $"(members: {string.Join(", ", state.Members.Select(m => m.Address))}); Akka ignores a join of a node that is part of a cluster: " +
                "make it leave (`ctl cluster leave`) and start it again with the other cluster's seed nodes");
        }
        _log.Info("ctl: join {0} (this node is not a member of any cluster yet)", target);
        _cluster.Join(target);
        return new CommandResult(true, $"{_cluster.SelfAddress} is joining the cluster at {target}; `ctl cluster show` lists it once it is up");
    }

    private void OnMemberEvent(ClusterEvent.IMemberEvent e)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        switch (e)
        {
            case ClusterEvent.MemberUp up: _upSince[up.Member.Address] = now; break;
            case ClusterEvent.MemberRemoved removed: _upSince.Remove(removed.Member.Address); break;
        }
        var kind = e switch
        {
            ClusterEvent.MemberJoined => "joined",
            ClusterEvent.MemberWeaklyUp => "weakly-up",
            ClusterEvent.MemberUp => "up",
            ClusterEvent.MemberLeft => "left",
            ClusterEvent.MemberExited => "exited",
            ClusterEvent.MemberDowned => "downed",
            ClusterEvent.MemberRemoved => "removed",
            _ => e.GetType().Name,
        };
        Publish(kind, e.Member, !_cluster.State.Unreachable.Contains(e.Member), now);
    }

    private void OnReachabilityEvent(ClusterEvent.ReachabilityEvent e)
    {
        var reachable = e is ClusterEvent.ReachableMember;
        Publish(reachable ? "reachable" : "unreachable", e.Member, reachable, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
    }

    private void Publish(string kind, Member member, bool reachable, long at)
    {
        if (_subscribers.Count == 0) return;
        var message = new MembershipEvent(kind, Info(member, reachable), _cluster.SelfAddress.ToString(), at);
        foreach (var s in _subscribers) s.Tell(message);
    }

    private void Drop(IActorRef subscriber, string why)
    {
        if (!_subscribers.Remove(subscriber)) return;
        Context.Unwatch(subscriber);
        _log.Info("Membership subscriber {0} {1} ({2} left)", subscriber.Path, why, _subscribers.Count);
    }

    // ---- partitions ----

    private void StartPartitionsQuery(GetPartitions m)
    {
        var timeout = TimeSpan.FromMilliseconds(Math.Clamp(m.TimeoutMs, MinTimeout.TotalMilliseconds, MaxTimeout.TotalMilliseconds));
        var query = new PartitionsQuery(++_nextId, timeout);
        _queries[query.Id] = (query, Sender);
        _awaitingStats.Enqueue(query.Id);
        // The coordinator asks every region itself; give it most of the time, so the info round trip fits in the rest.
        _partitionRegion.Tell(new GetClusterShardingStats(timeout * 0.6));
        Timers.StartSingleTimer(TimerKey(query.Id), new PartitionsTimedOut(query.Id), timeout);
    }

    private void OnShardingStats(ClusterShardingStats stats)
    {
        long id;
        do
        {
            if (!_awaitingStats.TryDequeue(out id)) return; // late: its query has already answered
        } while (!_queries.ContainsKey(id));
        var (query, _) = _queries[id];
        var shards = stats.Regions.SelectMany(r => r.Value.Stats.Keys.Select(shard => (Shard: shard, Node: NodeOf(r.Key))))
            .Where(s => int.TryParse(s.Shard, out _))
            .Select(s => (int.Parse(s.Shard, System.Globalization.CultureInfo.InvariantCulture), s.Node));
        var deadline = DateTimeOffset.UtcNow.Add(query.Timeout).ToUnixTimeMilliseconds();
        foreach (var p in query.Allocated(shards))
        {
            var requestId = ++_nextId;
            query.Asked(requestId, p);
            _requestToQuery[requestId] = id;
            // The entity of the version the cluster serves now (a reload may have switched past the store-path's).
            var version = Partitions.StoreVersions.Get(Context.System).Current.Version;
            var info = new GetPartitionInfo(requestId, p, deadline);
            _partitionRegion.Tell(version == 0 ? info : new Contracts.Protocols.StoreProtocol.VersionedRequest(version, info));
        }
        if (query.Complete) FinishPartitionsQuery(id, timedOut: false);
    }

    private void OnPartitionResponse(IPartitionResponse response)
    {
        if (!_requestToQuery.Remove(response.RequestId, out var id) || !_queries.TryGetValue(id, out var entry))
        {
            _log.Debug("Late answer {0} from partition {1} ignored", response.RequestId, response.Partition);
            return;
        }
        entry.Query.Answered(response, NodeOf(Sender.Path.Address), _rates, DateTime.UtcNow);
        if (entry.Query.Complete) FinishPartitionsQuery(id, timedOut: false);
    }

    private void FinishPartitionsQuery(long id, bool timedOut)
    {
        if (!_queries.Remove(id, out var entry)) return;
        Timers.Cancel(TimerKey(id));
        foreach (var r in entry.Query.PendingRequests) _requestToQuery.Remove(r);
        var result = entry.Query.Result();
        if (timedOut)
            _log.Warning("ctl partitions: answering after {0} with {1} partition(s) not answering{2}", entry.Query.Timeout,
                result.Partitions.Count(p => p.State == PartitionState.NoAnswer), result.Problem.Length > 0 ? ": " + result.Problem : "");
        entry.ReplyTo.Tell(result);
    }

    // ---- training jobs and checkpoints ----

    private void ToCoordinator(ICoordinatorCommand command)
    {
        if (CoordinatorMissing() is { } problem)
        {
            Sender.Tell(new CommandResult(false, problem));
            return;
        }
        // `train status --watch` asks every second: queries only at debug level.
        // (A StartJob would print the whole training file: the job id says enough.)
        switch (command)
        {
            case GetJobStatus: _log.Debug("ctl: {0} to the training coordinator", command); break;
            case StartJob m: _log.Info("ctl: StartJob '{0}' to the training coordinator", m.JobId); break;
            default: _log.Info("ctl: {0} to the training coordinator", command); break;
        }
        _coordinator.Tell(command, Sender);
    }

    private void Query(object request, long timeoutMs)
    {
        if (request is ListCheckpoints { Directory.Length: 0 } or ExportModel { Directory.Length: 0 } && CoordinatorMissing() is { } problem)
        {
            Sender.Tell(request is ExportModel x
                ? new ModelExported(false, problem, x.JobId, -1, "", x.OutDir, "", 0, _cluster.SelfAddress.ToString())
                : new CheckpointsResult(((ListCheckpoints)request).JobId, "", _cluster.SelfAddress.ToString(), "", -1, -1, [], problem));
            return;
        }
        var timeout = TimeSpan.FromMilliseconds(Math.Clamp(timeoutMs, MinTimeout.TotalMilliseconds, MaxFileWork.TotalMilliseconds));
        Context.ActorOf(CheckpointsQueryActor.Props(request, Sender, _coordinator, _cluster.SelfAddress.ToString(), timeout));
    }

    // ---- served models ----

    private void AskInference(IGraphActorsMessage request, string node, long timeoutMs)
    {
        var inference = _cluster.State.Members.Where(m => m.Status == MemberStatus.Up && m.HasRole(_inferenceRole))
            .Select(m => m.Address).OrderBy(a => a, Member.AddressOrdering).ToList();
        string? problem = null;
        if (inference.Count == 0)
            problem = $"no member with role '{_inferenceRole}' is up, so no node serves models";
        else if (node.Length > 0)
        {
            Address? target = null;
            try { target = Address.Parse(node); }
            catch (Exception e) when (e is UriFormatException or ArgumentException or FormatException)
            {
                problem = $"--node '{node}' is not a node address (akka.tcp://{Names.ActorSystem}@HOST:PORT): {e.Message}";
            }
            if (target is not null)
            {
                if (inference.Contains(target)) inference = [target];
                else problem = $"--node {target} is not an Up member with role '{_inferenceRole}'; those are: {string.Join(", ", inference)}";
            }
        }
        if (problem is not null)
        {
            Sender.Tell(new ServedModelsResult([], problem));
            return;
        }
        var timeout = TimeSpan.FromMilliseconds(Math.Clamp(timeoutMs, MinTimeout.TotalMilliseconds, MaxFileWork.TotalMilliseconds));
        if (request is not GetServedModels) _log.Info("ctl: {0} to {1} inference node(s)", request, inference.Count);
        Context.ActorOf(ModelsQueryActor.Props(request, inference, _cluster.SelfAddress, Sender, timeout));
    }

    // The singleton proxy buffers while no node can host the coordinator: say so instead of letting the client time out.
    /// <summary>`store version` and `store reload` go to the store-version singleton, which answers the client directly.</summary>
    private void ToStoreVersions(IGraphActorsMessage command)
    {
        var role = Partitions.PartitionSettings.Create(Context.System).Role;
        if (!_cluster.State.Members.Any(m => m.Status == MemberStatus.Up && m.HasRole(role)))
        {
            var problem = $"no member with role '{role}' is up, so no store-version singleton runs (it lives on the oldest '{role}' node)";
            Sender.Tell(command is Contracts.Protocols.StoreProtocol.ReloadStore
                ? new Contracts.Protocols.StoreProtocol.StoreReloaded(false, -1, "", problem)
                : new CommandResult(false, problem));
            return;
        }
        if (command is Contracts.Protocols.StoreProtocol.ReloadStore r) _log.Info("ctl: store reload to [{0}]", r.Path);
        Context.System.ActorSelection("/user/" + Names.StoreVersionsProxy).Tell(command, Sender);
    }

    private string? CoordinatorMissing() =>
        _cluster.State.Members.Any(m => m.Status == MemberStatus.Up && m.HasRole(_coordinatorRole)) ? null
            : $"no member with role '{_coordinatorRole}' is up, so no training coordinator runs (it lives on the oldest '{_coordinatorRole}' node)";

    private string NodeOf(Address a) => (a.HasLocalScope ? _cluster.SelfAddress : a).ToString();

    private static string TimerKey(long query) => $"partitions-{query}";
}

/// <summary>Starts the CommandHandler on a node (every role) and registers it with the cluster client receptionist.</summary>
public static class CommandHandlerRegistration
{
    /// <summary>
    /// Starts <see cref="CommandHandlerActor"/> at <see cref="Names.CommandHandlerPath"/>, talking to the partition region
    /// or proxy started on this node, and makes it reachable for <c>graphactors ctl</c> through the receptionist.
    /// Training commands go to the coordinator proxy every node starts at <c>/user/training-coordinator-proxy</c>.
    /// </summary>
    public static IActorRef StartCommandHandler(this ActorSystem system, IActorRef partitionRegion, CtlSettings settings)
    {
        var coordinator = system.ActorSelection("/user/" + Names.TrainingCoordinatorProxy);
        var role = CoordinatorSettings.Create(system.Settings.Config).Role;
        var inferenceRole = system.Settings.Config.GetString("graphactors.inference.role", ClusterRoles.Inference);
        var handler = system.ActorOf(CommandHandlerActor.Props(partitionRegion, coordinator, role, inferenceRole, settings.Token), Names.CommandHandler);
        ClusterClientReceptionist.Get(system).RegisterService(handler);
        return handler;
    }
}
