// Says, truthfully, when the training coordinator cannot be reached: the proxy's own warning fires at every start.
using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using GraphActors.Contracts.Protocols;

namespace GraphActors.Cluster.Coordination;

/// <summary>
/// Beside the coordinator's ClusterSingletonProxy, whose own identification warning is off: Akka.Cluster.Tools 1.5
/// starts that periodic timer with no initial delay, so every node logged "failed to find … after 30 seconds" a few
/// hundred milliseconds after a healthy start. This watch asks the coordinator for its status through the proxy (an
/// Identify would be answered by the proxy itself), which buffers the question until it finds the singleton; the
/// answer's sender is the coordinator, which it then watches. It checks every <see cref="Interval"/>; it warns when a member with the coordinator's role has been
/// Up for patience (30 s) and the coordinator has still not answered (and again every patience (30 s)),
/// and says when it answers after such a warning. Without any member of the role (a serving-only cluster) there is
/// nothing to wait for: that is said once, at INFO.
/// </summary>
public sealed class CoordinatorProxyWatch : ReceiveActor, IWithTimers
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);
    public static readonly TimeSpan DefaultPatience = TimeSpan.FromSeconds(30);

    private sealed class Tick
    {
        public static readonly Tick Instance = new();
    }

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly IActorRef _proxy;
    private readonly string _role;
    private readonly TimeSpan _patience;
    private readonly HashSet<Address> _roleUp = [];
    private IActorRef? _coordinator;
    private DateTime _waitingSince = DateTime.UtcNow;
    private DateTime _lastWarning = DateTime.MinValue;
    private bool _saidNoRole;
    private bool _asked;

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(IActorRef proxy, string role, TimeSpan? patience = null) =>
        Akka.Actor.Props.Create(() => new CoordinatorProxyWatch(proxy, role, patience ?? DefaultPatience));

    public CoordinatorProxyWatch(IActorRef proxy, string role, TimeSpan patience)
    {
        _proxy = proxy;
        _role = role;
        _patience = patience;
        Receive<ClusterEvent.CurrentClusterState>(s =>
        {
            foreach (var m in s.Members)
                if (m.Status == MemberStatus.Up && m.HasRole(_role)) _roleUp.Add(m.Address);
        });
        Receive<ClusterEvent.MemberUp>(m =>
        {
            if (!m.Member.HasRole(_role)) return;
            if (_roleUp.Count == 0) _waitingSince = DateTime.UtcNow; // patience counts from the first member that could host it
            _roleUp.Add(m.Member.Address);
        });
        Receive<ClusterEvent.IMemberEvent>(m =>
        {
            if (m is ClusterEvent.MemberExited or ClusterEvent.MemberRemoved) _roleUp.Remove(m.Member.Address);
        });
        Receive<Tick>(_ => Check());
        Receive<TrainingProtocol.JobStatus>(_ =>
        {
            if (_coordinator is not null) return;
            _coordinator = Sender;
            Context.Watch(_coordinator);
            Timers.Cancel(Tick.Instance);
            if (_lastWarning != DateTime.MinValue)
                _log.Info("The training coordinator answers again, at {0}, after {1:F0} s", _coordinator.Path, (DateTime.UtcNow - _waitingSince).TotalSeconds);
            else _log.Debug("The training coordinator is at {0}", _coordinator.Path);
            _lastWarning = DateTime.MinValue;
        });
        Receive<Terminated>(t =>
        {
            if (!t.ActorRef.Equals(_coordinator)) return;
            // The singleton moves (its node left or died): wait for the next one as at start.
            _coordinator = null;
            _waitingSince = DateTime.UtcNow;
            StartAsking();
        });
    }

    /// <summary>One question per wait (and one more with each warning): the proxy keeps it until it can deliver it.</summary>
    private void Ask() => _proxy.Tell(new TrainingProtocol.GetJobStatus(), Self);

    protected override void PreStart()
    {
        Akka.Cluster.Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsSnapshot,
            typeof(ClusterEvent.IMemberEvent));
        StartAsking();
    }

    protected override void PostStop() => Akka.Cluster.Cluster.Get(Context.System).Unsubscribe(Self);

    private void StartAsking()
    {
        _asked = false;
        Timers.StartPeriodicTimer(Tick.Instance, Tick.Instance, TimeSpan.Zero, Interval);
    }

    private void Check()
    {
        var now = DateTime.UtcNow;
        if (_roleUp.Count == 0)
        {
            if (!_saidNoRole && now - _waitingSince >= _patience)
            {
                _saidNoRole = true;
                _log.Info("No member with role [{0}] is up, so there is no training coordinator yet; training commands wait until one joins", _role);
            }
            return;
        }
        if (!_asked)
        {
            _asked = true;
            Ask();
        }
        if (now - _waitingSince >= _patience && now - _lastWarning >= _patience)
        {
            _lastWarning = now;
            Ask(); // in case the first question was lost with a singleton that moved
            _log.Warning("The training coordinator has not answered for {0:F0} s although {1} member(s) with role [{2}] are up ({3}); " +
                         "training commands wait meanwhile. Check the oldest of them (it hosts the coordinator) and its journal.",
                (now - _waitingSince).TotalSeconds, _roleUp.Count, _role, string.Join(", ", _roleUp));
        }
    }
}
