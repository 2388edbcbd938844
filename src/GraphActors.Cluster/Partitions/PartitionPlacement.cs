// The placement rule, free of actors so it can be tested on plain member lists.
using Akka.Actor;

namespace GraphActors.Cluster.Partitions;

/// <summary>A cluster member with the partition role, as the rule sees it.</summary>
public readonly record struct PlacementMember(Address Address, bool IsUp);

/// <summary>A shard region the coordinator knows: where it runs and which partitions it hosts.</summary>
public sealed record PlacementRegion<TRegion>(TRegion Region, Address Address, IReadOnlyList<string> Shards);

/// <summary>
/// Partition i belongs on the (i mod M)-th of the M partition-role members ordered by address, so every node can
/// tell where a partition should be without asking. When that member is not up (or has no region yet), the
/// partition goes to the least-loaded region on a live member. Rebalancing only moves a partition back home,
/// at most <c>max</c> at a time, since a move stops the partition and reloads it from the store.
/// </summary>
public static class PartitionPlacement
{
    public static IReadOnlyList<PlacementMember> Ordered(IEnumerable<PlacementMember> members) =>
        members.OrderBy(m => m.Address, Akka.Cluster.Member.AddressOrdering).ToArray();

    /// <summary>The address partition <paramref name="partition"/> belongs on, or null when that member is not up.</summary>
    public static Address? Home(int partition, IReadOnlyList<PlacementMember> orderedMembers)
    {
        if (orderedMembers.Count == 0) return null;
        var m = orderedMembers[partition % orderedMembers.Count];
        return m.IsUp ? m.Address : null;
    }

    public static TRegion Allocate<TRegion>(int partition, IReadOnlyList<PlacementMember> orderedMembers,
        IReadOnlyList<PlacementRegion<TRegion>> regions, TRegion requester)
    {
        if (regions.Count == 0) return requester;
        var home = Home(partition, orderedMembers);
        if (home is not null)
            foreach (var r in regions)
                if (r.Address == home) return r.Region;
        var live = orderedMembers.Where(m => m.IsUp).Select(m => m.Address).ToHashSet();
        var candidates = regions.Where(r => live.Contains(r.Address)).ToList();
        if (candidates.Count == 0) candidates = regions.ToList();
        // Least loaded; ties by address so every run decides the same way.
        return candidates
            .OrderBy(r => r.Shards.Count)
            .ThenBy(r => r.Address, Akka.Cluster.Member.AddressOrdering)
            .First().Region;
    }

    /// <summary>
    /// The partitions to move now: away from a region that is not their home, when the home is up and has a region.
    /// Only away from a region on a live member: a hand-off from a dead or downed node's region waits for acks that
    /// never come (the shard coordinator's hand-off timeout, 60 s), and requests for the partition wait with it; the
    /// coordinator re-allocates that region's partitions by itself once the region terminates.
    /// </summary>
    public static IReadOnlyList<string> Rebalance<TRegion>(IReadOnlyList<PlacementMember> orderedMembers,
        IReadOnlyList<PlacementRegion<TRegion>> regions, IEnumerable<string> rebalanceInProgress, int max)
    {
        var inProgress = rebalanceInProgress.ToHashSet();
        var budget = max - inProgress.Count;
        if (budget <= 0) return [];
        var regionAddresses = regions.Select(r => r.Address).ToHashSet();
        var live = orderedMembers.Where(m => m.IsUp).Select(m => m.Address).ToHashSet();
        var moves = new List<(int Partition, string Shard)>();
        foreach (var r in regions)
        {
            if (!live.Contains(r.Address)) continue;
            foreach (var shard in r.Shards)
            {
                if (inProgress.Contains(shard) || !int.TryParse(shard, out var p)) continue;
                var home = Home(p, orderedMembers);
                if (home is not null && home != r.Address && regionAddresses.Contains(home)) moves.Add((p, shard));
            }
        }
        return moves.OrderBy(m => m.Partition).Take(budget).Select(m => m.Shard).ToArray();
    }
}
