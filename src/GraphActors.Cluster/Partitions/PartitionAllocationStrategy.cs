// Sharding allocation for partitions: the locality rule of PartitionPlacement applied to the live cluster state.
using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Event;

namespace GraphActors.Cluster.Partitions;

public sealed class PartitionAllocationStrategy(string role, int maxSimultaneousRebalance)
    : IShardAllocationStrategy, IActorSystemDependentAllocationStrategy
{
    private Akka.Cluster.Cluster? _cluster;
    private ILoggingAdapter? _log;

    public void Start(ActorSystem system)
    {
        _cluster = Akka.Cluster.Cluster.Get(system);
        _log = Logging.GetLogger(system, nameof(PartitionAllocationStrategy));
    }

    public Task<IActorRef> AllocateShard(IActorRef requester, string shardId,
        IImmutableDictionary<IActorRef, IImmutableList<string>> currentShardAllocations)
    {
        var members = Members();
        var regions = Regions(currentShardAllocations);
        var partition = PartitionMessageExtractor.PartitionOf(shardId);
        var chosen = PartitionPlacement.Allocate(partition, members, regions, requester);
        _log?.Info("Partition {0} allocated to the region at {1} (home: {2})", partition, AddressOf(chosen),
            PartitionPlacement.Home(partition, members)?.ToString() ?? "not up");
        return Task.FromResult(chosen);
    }

    public Task<IImmutableSet<string>> Rebalance(IImmutableDictionary<IActorRef, IImmutableList<string>> currentShardAllocations,
        IImmutableSet<string> rebalanceInProgress)
    {
        var moves = PartitionPlacement.Rebalance(Members(), Regions(currentShardAllocations), rebalanceInProgress, maxSimultaneousRebalance);
        if (moves.Count > 0) _log?.Info("Moving partition(s) {0} back to their home node", string.Join(", ", moves));
        return Task.FromResult<IImmutableSet<string>>(moves.ToImmutableHashSet());
    }

    private IReadOnlyList<PlacementMember> Members()
    {
        var cluster = _cluster ?? throw new InvalidOperationException("PartitionAllocationStrategy used before Start(system).");
        var state = cluster.State;
        var unreachable = state.Unreachable.Select(m => m.Address).ToHashSet();
        return PartitionPlacement.Ordered(state.Members
            .Where(m => m.HasRole(role) && m.Status is not (Akka.Cluster.MemberStatus.Removed or Akka.Cluster.MemberStatus.Down))
            .Select(m => new PlacementMember(m.Address, m.Status == Akka.Cluster.MemberStatus.Up && !unreachable.Contains(m.Address))));
    }

    private List<PlacementRegion<IActorRef>> Regions(IImmutableDictionary<IActorRef, IImmutableList<string>> allocations) =>
        allocations.Select(kv => new PlacementRegion<IActorRef>(kv.Key, AddressOf(kv.Key), kv.Value)).ToList();

    // The local region's path has no host; it lives at this node's cluster address.
    private Address AddressOf(IActorRef region) =>
        region.Path.Address.HasLocalScope ? _cluster!.SelfAddress : region.Path.Address;
}
