using Akka.Actor;
using GraphActors.Cluster.Partitions;

namespace GraphActors.Cluster.Tests.Partitions;

public class PartitionPlacementTests
{
    private static Address A(int port) => new("akka.tcp", "graphactors", "127.0.0.1", port);

    private static IReadOnlyList<PlacementMember> Members(params (int Port, bool Up)[] ms) =>
        PartitionPlacement.Ordered(ms.Select(m => new PlacementMember(A(m.Port), m.Up)));

    private static PlacementRegion<string> Region(int port, params int[] shards) =>
        new($"r{port}", A(port), shards.Select(s => s.ToString()).ToArray());

    [Fact]
    public void Partition_i_goes_to_the_i_th_partition_member_ordered_by_address()
    {
        // Given out of order: the rule orders by address, so every node computes the same homes.
        var members = Members((5002, true), (5000, true), (5001, true));
        var regions = new[] { Region(5001), Region(5002), Region(5000) };
        Assert.Equal("r5000", PartitionPlacement.Allocate(0, members, regions, "r5001"));
        Assert.Equal("r5001", PartitionPlacement.Allocate(1, members, regions, "r5000"));
        Assert.Equal("r5002", PartitionPlacement.Allocate(2, members, regions, "r5000"));
        Assert.Equal("r5000", PartitionPlacement.Allocate(3, members, regions, "r5002"));
    }

    [Fact]
    public void A_partition_whose_home_is_not_up_goes_to_the_least_loaded_live_member()
    {
        var members = Members((5000, true), (5001, false), (5002, true));
        var regions = new[] { Region(5000, 0, 3), Region(5001), Region(5002, 2) };
        Assert.Equal("r5002", PartitionPlacement.Allocate(1, members, regions, "r5000"));
    }

    [Fact]
    public void A_partition_whose_home_has_no_region_yet_goes_to_the_least_loaded_region()
    {
        var members = Members((5000, true), (5001, true));
        var regions = new[] { Region(5000, 0) };
        Assert.Equal("r5000", PartitionPlacement.Allocate(1, members, regions, "r5000"));
    }

    [Fact]
    public void Rebalancing_moves_only_partitions_away_from_their_up_home_and_at_most_one_at_a_time()
    {
        // Node 5001 was down: partitions 1 and 3 went to 5000 and 5002. It is back.
        var members = Members((5000, true), (5001, true));
        var regions = new[] { Region(5000, 0, 1, 2, 3), Region(5001) };
        Assert.Equal(["1"], PartitionPlacement.Rebalance(members, regions, new HashSet<string>(), max: 1));
        Assert.Empty(PartitionPlacement.Rebalance(members, regions, new HashSet<string> { "1" }, max: 1));
        Assert.Equal(["3"], PartitionPlacement.Rebalance(members, regions, new HashSet<string> { "1" }, max: 2));
    }

    [Fact]
    public void Nothing_moves_when_every_partition_is_home_or_its_home_is_down()
    {
        var home = Members((5000, true), (5001, true));
        Assert.Empty(PartitionPlacement.Rebalance(home, [Region(5000, 0, 2), Region(5001, 1, 3)], new HashSet<string>(), 1));
        var down = Members((5000, true), (5001, false));
        Assert.Empty(PartitionPlacement.Rebalance(down, [Region(5000, 0, 1, 2, 3), Region(5001)], new HashSet<string>(), 1));
    }

    [Fact]
    public void Nothing_moves_away_from_the_region_of_a_dead_node_it_is_reallocated_when_the_region_terminates()
    {
        // 5001 was killed and downed (gone from the members) or is unreachable: its region is still registered.
        var gone = Members((5000, true));
        Assert.Empty(PartitionPlacement.Rebalance(gone, [Region(5000, 0), Region(5001, 1)], new HashSet<string>(), 1));
        var unreachable = Members((5000, true), (5001, false));
        Assert.Empty(PartitionPlacement.Rebalance(unreachable, [Region(5000, 0), Region(5001, 1)], new HashSet<string>(), 1));
    }

    [Fact]
    public void With_no_region_at_all_the_requester_is_chosen()
    {
        Assert.Equal("me", PartitionPlacement.Allocate(0, Members((5000, true)), Array.Empty<PlacementRegion<string>>(), "me"));
    }
}
