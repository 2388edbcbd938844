// Collects what the status page shows: membership, the partition table, the training job and its curves.
using Akka.Actor;
using Akka.Cluster;
using GraphActors.Cluster.Coordination;
using static GraphActors.Contracts.Protocols.CommandProtocol;
using static GraphActors.Contracts.Protocols.TrainingProtocol;

namespace GraphActors.Cluster.Status;

/// <summary>
/// Samples the training coordinator (through the node's proxy) every <see cref="StatusSettings.SampleInterval"/> and
/// folds the answers into a <see cref="JobHistory"/>, so the curves exist whether or not a page is open. The partition
/// table is gathered by the node's CommandHandler (the query behind <c>graphactors ctl partitions show</c>) only while
/// someone asked for a snapshot recently: each gather asks every partition. Everything is Tell; the HTTP handler asks
/// for a <see cref="Snapshot"/> (the edge, STYLE 7).
/// </summary>
public sealed class StatusActor : ReceiveActor, IWithTimers
{
    /// <summary>Asks for the current <see cref="Snapshot"/>.</summary>
    public sealed class GetSnapshot : INoSerializationVerificationNeeded
    {
        public static readonly GetSnapshot Instance = new();
        private GetSnapshot() { }
    }

    /// <summary>
    /// What the page shows, as this node sees it. <paramref name="Job"/> is null until the coordinator first answered;
    /// <paramref name="JobProblem"/> / <paramref name="Partitions"/>' problem say why something is missing or old.
    /// Times are Unix milliseconds.
    /// </summary>
    public sealed record Snapshot(
        long AtUnixMs,
        string SelfAddress,
        string Leader,
        MemberInfo[] Members,
        JobStatus? Job,
        long JobAtUnixMs,
        string JobProblem,
        LossPoint[] Loss,
        EpochPoint[] Epochs,
        PartitionsResult? Partitions,
        long PartitionsAtUnixMs) : INoSerializationVerificationNeeded;

    private sealed class SampleTick : INoSerializationVerificationNeeded
    {
        public static readonly SampleTick Instance = new();
    }

    private sealed class PartitionsTick : INoSerializationVerificationNeeded
    {
        public static readonly PartitionsTick Instance = new();
    }

    // The page polls every second or two; a gap of this many partition intervals means nobody is watching.
    private const int WatchedIntervals = 5;

    private readonly StatusSettings _settings;
    private readonly Akka.Cluster.Cluster _cluster = Akka.Cluster.Cluster.Get(Context.System);
    private readonly ActorSelection _coordinator = Context.ActorSelection("/user/" + Names.TrainingCoordinatorProxy);
    private readonly ActorSelection _commands = Context.ActorSelection(Names.CommandHandlerPath);
    private readonly string _coordinatorRole = CoordinatorSettings.Create(Context.System).Role;
    private readonly JobHistory _history;
    private readonly long _startedAt = Now();
    private JobStatus? _job;
    private long _jobAt;
    private PartitionsResult? _partitions;
    private long _partitionsAt;
    private long _partitionsAskedAt;
    private long _watchedAt;

    public StatusActor(StatusSettings settings)
    {
        _settings = settings;
        _history = new JobHistory(settings.History);

        // The proxy buffers while no singleton exists; with nobody to host one, do not fill its buffer.
        Receive<SampleTick>(_ =>
        {
            if (CoordinatorHostUp()) _coordinator.Tell(new GetJobStatus());
        });
        Receive<JobStatus>(s =>
        {
            var now = Now();
            _job = s;
            _jobAt = now;
            _history.Observe(s, now);
        });
        Receive<PartitionsTick>(_ => GatherPartitions(force: false));
        Receive<PartitionsResult>(r =>
        {
            _partitions = r;
            _partitionsAt = Now();
            _partitionsAskedAt = 0;
        });
        Receive<GetSnapshot>(_ =>
        {
            var now = Now();
            var wasWatched = Watched(now);
            _watchedAt = now;
            // Someone opened the page after a pause: gather now instead of waiting for the next tick.
            if (!wasWatched) GatherPartitions(force: true);
            Sender.Tell(Take(now));
        });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(StatusSettings settings) => Akka.Actor.Props.Create(() => new StatusActor(settings));

    protected override void PreStart()
    {
        Timers.StartPeriodicTimer("sample", SampleTick.Instance, TimeSpan.Zero, _settings.SampleInterval);
        Timers.StartPeriodicTimer("partitions", PartitionsTick.Instance, _settings.PartitionsInterval);
        GatherPartitions(force: true);
    }

    private bool Watched(long now) => now - _watchedAt <= WatchedIntervals * (long)_settings.PartitionsInterval.TotalMilliseconds;

    private void GatherPartitions(bool force)
    {
        var now = Now();
        if (!force && !Watched(now)) return;
        // One gather at a time; the CommandHandler always answers within the timeout, so a second one is only sent
        // if that answer got lost.
        if (_partitionsAskedAt != 0 && now - _partitionsAskedAt < 2 * (long)_settings.PartitionsTimeout.TotalMilliseconds) return;
        _partitionsAskedAt = now;
        _commands.Tell(new GetPartitions((long)_settings.PartitionsTimeout.TotalMilliseconds));
    }

    private Snapshot Take(long now)
    {
        var state = _cluster.State;
        var members = new MemberInfo[state.Members.Count];
        var i = 0;
        foreach (var m in state.Members)
            members[i++] = new MemberInfo(m.Address.ToString(), m.Roles.Order(StringComparer.Ordinal).ToArray(), m.Status.ToString(),
                !state.Unreachable.Contains(m), 0);
        return new Snapshot(now, _cluster.SelfAddress.ToString(), state.Leader?.ToString() ?? "", members,
            _job, _jobAt, JobProblem(now), [.. _history.Loss], [.. _history.Epochs], _partitions, _partitionsAt);
    }

    private bool CoordinatorHostUp()
    {
        foreach (var m in _cluster.State.Members)
            if (m.Status == MemberStatus.Up && m.HasRole(_coordinatorRole)) return true;
        return false;
    }

    private string JobProblem(long now)
    {
        if (!CoordinatorHostUp())
            return $"no member with the training coordinator's role '{_coordinatorRole}' is up: there is no training to show" +
                   (_jobAt != 0 ? " (the job status shown is the last one received)" : "");
        var silentFor = now - (_jobAt == 0 ? _startedAt : _jobAt);
        var bound = 3 * (long)_settings.SampleInterval.TotalMilliseconds + 2000;
        if (silentFor <= bound) return "";
        var problem = $"the training coordinator has not answered for {silentFor / 1000} s (is the coordinator's node reachable?)";
        if (_jobAt != 0) problem += "; the job status shown is the last one received";
        return problem;
    }

    private static long Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
}
