namespace GraphActors.Graph.Tests;

public class IdMapTests
{
    [Fact]
    public void Many_ids_including_negative_and_extreme_values_map_both_ways_across_growth()
    {
        var map = new IdMap(capacity: 4);
        var ids = new List<long> { 0, -1, 1, long.MinValue, long.MaxValue, long.MinValue + 1, long.MaxValue - 1, 1L << 40, -(1L << 40) };
        for (long i = 0; i < 100_000; i++) ids.Add(i * 7_919 - 350_000_000_000L);

        for (var d = 0; d < ids.Count; d++)
        {
            Assert.True(map.TryAdd(ids[d], out var dense));
            Assert.Equal(d, dense);
        }

        Assert.Equal(ids.Count, map.Count);
        for (var d = 0; d < ids.Count; d++)
        {
            Assert.Equal(d, map.GetDense(ids[d]));
            Assert.Equal(ids[d], map.ToBusiness(d));
        }
        Assert.Equal(ids, map.BusinessIds.ToArray());
        Assert.False(map.TryGetDense(123_456_789_123L, out _));
    }

    [Fact]
    public void A_duplicate_id_is_rejected_and_keeps_its_first_dense_id()
    {
        var map = new IdMap();
        map.TryAdd(42, out _);
        map.TryAdd(-42, out _);

        Assert.False(map.TryAdd(-42, out var dense));
        Assert.Equal(1, dense);
        Assert.Equal(2, map.Count);
    }

    [Fact]
    public void An_unknown_id_is_a_key_not_found_naming_the_id()
    {
        var e = Assert.Throws<KeyNotFoundException>(() => new IdMap().GetDense(99));
        Assert.Contains("99", e.Message);
    }

    [Fact]
    public void Ids_added_after_trimming_still_map()
    {
        var map = new IdMap();
        for (var i = 0; i < 10; i++) map.TryAdd(i, out _);
        map.TrimExcess();
        Assert.True(map.TryAdd(1_000, out var dense));
        Assert.Equal(10, dense);
        Assert.Equal(1_000, map.ToBusiness(10));
    }

    [Fact]
    public async Task A_capacity_beyond_the_table_limit_is_refused_rather_than_looping()
    {
        // Before the bound, sizing the table for this capacity overflowed an int and never finished.
        var construct = Task.Run(() => Assert.Throws<ArgumentOutOfRangeException>(() => new IdMap(int.MaxValue)));
        await construct.WaitAsync(TimeSpan.FromSeconds(10));
    }
}
