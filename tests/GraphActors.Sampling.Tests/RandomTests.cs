namespace GraphActors.Sampling.Tests;

public class RandomTests
{
    [Fact]
    public void The_same_seed_gives_the_same_sequence()
    {
        var a = new Xoshiro256(7);
        var b = new Xoshiro256(7);
        for (var i = 0; i < 100; i++) Assert.Equal(a.NextUInt64(), b.NextUInt64());
    }

    [Fact]
    public void Different_seeds_give_different_sequences()
    {
        var a = new Xoshiro256(7);
        var b = new Xoshiro256(8);
        Assert.NotEqual(a.NextUInt64(), b.NextUInt64());
    }

    [Fact]
    public void Bounded_ints_stay_in_range_and_cover_it_evenly()
    {
        var rng = new Xoshiro256(1);
        var counts = new int[7];
        for (var i = 0; i < 70_000; i++) counts[rng.NextInt(7)]++;
        // Expected 10,000 each, standard deviation about 93: ±600 is over six sigma.
        Assert.All(counts, c => Assert.InRange(c, 9_400, 10_600));
    }

    [Fact]
    public void Floats_and_doubles_lie_in_the_unit_interval()
    {
        var rng = new Xoshiro256(3);
        for (var i = 0; i < 10_000; i++)
        {
            Assert.InRange(rng.NextFloat(), 0f, 0.99999994f);
            Assert.InRange(rng.NextDouble(), 0.0, 0.9999999999999999);
        }
    }

    [Fact]
    public void Long_bounds_beyond_int_range_are_honoured()
    {
        var rng = new Xoshiro256(5);
        for (var i = 0; i < 1000; i++) Assert.InRange(rng.NextLong(5_000_000_000L), 0, 4_999_999_999L);
    }

    [Fact]
    public void Streams_for_different_batches_differ()
    {
        var a = Xoshiro256.ForStream(1, 0, 0);
        var b = Xoshiro256.ForStream(1, 0, 1);
        Assert.NotEqual(a.NextUInt64(), b.NextUInt64());
    }
}
