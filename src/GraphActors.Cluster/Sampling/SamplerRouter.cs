// A trainer's way to the SamplerActors of the sampler nodes, when sampling runs on separate machines (DistDGL's sampler processes).
using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using GraphActors.Cluster.Wire;
using static GraphActors.Contracts.Protocols.SamplingProtocol;

namespace GraphActors.Cluster.Sampling;

/// <summary>
/// Stands where a trainer's local SamplerActor would, on a trainer node without the sampler role (<c>graphactors.sampler.role</c>): it forwards each
/// <see cref="SampleEpoch"/> to the SamplerActor (<c>/user/sampler</c>) of one Up member with the sampler role, the
/// trainer keeping the sender, so the <see cref="EpochStreamReady"/> (a SourceRef: the mini-batches cross Akka.Remote)
/// goes straight back to it. Trainers spread evenly: the trainer ranked r among the Up trainer-role members (address
/// order) uses sampler r mod S, and asks again the sampler of the moment after a failed pass, so a dead sampler node is
/// replaced by a live one. With no sampler member up it waits up to <paramref name="wait"/> (re-checking every second)
/// and then answers <see cref="EpochRejected"/> naming the role. An epoch whose seeds do not fit one chunk
/// (<c>graphactors.wire.chunk-size</c>) goes as <see cref="SampleEpochChunk"/>s (<see cref="SampleEpochChunks"/>).
/// </summary>
public sealed class SamplerRouter : ReceiveActor, IWithTimers
{
    private sealed record Recheck;

    private readonly string _samplerRole;
    private readonly string _trainerRole;
    private readonly TimeSpan _wait;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Akka.Cluster.Cluster _cluster = Akka.Cluster.Cluster.Get(Context.System);
    private readonly WireSettings _wire = WireSettings.Create(Context.System);
    private readonly List<(SampleEpoch Request, IActorRef ReplyTo, DateTime Since)> _waiting = [];

    public ITimerScheduler Timers { get; set; } = null!;

    public SamplerRouter(string samplerRole, string trainerRole, TimeSpan wait)
    {
        _samplerRole = samplerRole;
        _trainerRole = trainerRole;
        _wait = wait;
        Receive<SampleEpoch>(m =>
        {
            if (!TryForward(m, Sender))
            {
                _waiting.Add((m, Sender, DateTime.UtcNow));
                _log.Warning("No member with role '{0}' is up for epoch {1} (request {2}): waiting up to {3}", _samplerRole, m.Epoch, m.RequestId, _wait);
                Timers.StartPeriodicTimer("recheck", new Recheck(), TimeSpan.FromSeconds(1));
            }
        });
        Receive<Recheck>(_ =>
        {
            var now = DateTime.UtcNow;
            _waiting.RemoveAll(w =>
            {
                if (TryForward(w.Request, w.ReplyTo)) return true;
                if (now - w.Since < _wait) return false;
                w.ReplyTo.Tell(new EpochRejected(w.Request.RequestId, w.Request.Epoch,
                    $"no cluster member with role '{_samplerRole}' was up within {_wait.TotalSeconds:0}s to sample the epoch (graphactors.sampler.role)"));
                return true;
            });
            if (_waiting.Count == 0) Timers.Cancel("recheck");
        });
    }

    public static Props Props(string samplerRole, string trainerRole, TimeSpan wait) =>
        Akka.Actor.Props.Create(() => new SamplerRouter(samplerRole, trainerRole, wait));

    private bool TryForward(SampleEpoch m, IActorRef replyTo)
    {
        var samplers = UpMembers(_samplerRole);
        if (samplers.Count == 0) return false;
        var trainers = UpMembers(_trainerRole);
        var rank = Math.Max(0, IndexOf(trainers, _cluster.SelfAddress));
        var chosen = samplers[rank % samplers.Count];
        _log.Info("Epoch {0} (request {1}) is sampled on {2} (sampler {3} of {4}, this trainer ranked {5})",
            m.Epoch, m.RequestId, chosen, rank % samplers.Count + 1, samplers.Count, rank);
        var messages = SampleEpochChunks.Send(Context.ActorSelection(new RootActorPath(chosen) / "user" / Names.Sampler), m, replyTo, Context.System, _wire);
        if (messages > 1) _log.Info("Epoch {0} (request {1}) has {2} seeds: sent in {3} chunks", m.Epoch, m.RequestId, m.Seeds.Length, messages);
        return true;
    }

    private List<Address> UpMembers(string role)
    {
        var up = new List<Address>();
        foreach (var member in _cluster.State.Members)
            if (member.HasRole(role) && member.Status is MemberStatus.Up or MemberStatus.WeaklyUp) up.Add(member.Address);
        up.Sort(Member.AddressOrdering);
        return up;
    }

    private static int IndexOf(List<Address> addresses, Address self)
    {
        for (var i = 0; i < addresses.Count; i++)
            if (addresses[i] == self) return i;
        return -1;
    }
}
