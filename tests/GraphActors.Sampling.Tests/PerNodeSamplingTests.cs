// The kernels' per-node random source: a row's draws depend on (seed, node id) only, with DGL's distributions intact.
using GraphActors.Graph;

namespace GraphActors.Sampling.Tests;

public class PerNodeSamplingTests
{
    /// <summary>
    /// 400 rows with degrees 0 .. 299 (every 7th row empty, every 50th row 300 wide so that k = 100 takes Floyd's
    /// hashed path), neighbours random ids below 400, positive random weights per edge.
    /// </summary>
    private static (Csr Csr, float[] Weights) RandomCsr(int seed = 11)
    {
        var rnd = new Random(seed);
        const int rows = 400;
        var offsets = new long[rows + 1];
        var nbrs = new List<int>();
        for (var r = 0; r < rows; r++)
        {
            var degree = r % 7 == 0 ? 0 : r % 50 == 1 ? 300 : rnd.Next(1, 40);
            for (var j = 0; j < degree; j++) nbrs.Add(rnd.Next(rows));
            offsets[r + 1] = nbrs.Count;
        }
        var weights = new float[nbrs.Count];
        for (var e = 0; e < weights.Length; e++) weights[e] = 0.5f + rnd.Next(10);
        return (new Csr(rows, offsets, nbrs.ToArray(), ReadOnlyMemory<int>.Empty), weights);
    }

    /// <summary>Rows [start, start + count) of <paramref name="csr"/> as a CSR of their own, local rows 0 .. count − 1, as a partition holds them.</summary>
    private static (Csr Csr, float[] Weights) Slice(Csr csr, float[] weights, int start, int count)
    {
        var first = csr.Offsets[start];
        var offsets = new long[count + 1];
        for (var r = 0; r <= count; r++) offsets[r] = csr.Offsets[start + r] - first;
        var n = (int)offsets[count];
        return (new Csr(count, offsets, csr.Neighbors.Slice((int)first, n).ToArray(), ReadOnlyMemory<int>.Empty),
            weights.AsSpan((int)first, n).ToArray());
    }

    public static TheoryData<SamplingStrategy, int> RandomStrategies() => new()
    {
        { SamplingStrategy.Random, 5 },
        { SamplingStrategy.RandomWithoutReplacement, 5 },   // linear-scan Floyd
        { SamplingStrategy.RandomWithoutReplacement, 100 }, // hashed Floyd on the 300-wide rows, whole rows elsewhere
        { SamplingStrategy.EdgeWeight, 5 },
    };

    private static (int[] Neighbors, int[] EdgeIds)[] Rows(Csr csr, float[] weights, int[] rows, int k, SamplingStrategy strategy,
        KernelRandom random)
    {
        var buffer = new SampleBuffer();
        NeighborSampler.Sample(csr, rows, k, strategy, ref random, buffer, weights);
        return rows.Select((_, i) => (buffer.NeighborsOf(i).ToArray(), buffer.EdgeIdsOf(i).ToArray())).ToArray();
    }

    [Theory]
    [MemberData(nameof(RandomStrategies))]
    public void A_rows_draws_do_not_depend_on_the_other_rows_of_the_call_or_their_order(SamplingStrategy strategy, int k)
    {
        var (csr, weights) = RandomCsr();
        var all = Enumerable.Range(0, csr.RowCount).ToArray();
        var shuffled = all.OrderBy(_ => Random.Shared.Next()).ToArray();
        var together = Rows(csr, weights, all, k, strategy, KernelRandom.PerNode(77));
        var inAnotherOrder = Rows(csr, weights, shuffled, k, strategy, KernelRandom.PerNode(77));
        for (var i = 0; i < shuffled.Length; i++)
        {
            var row = shuffled[i];
            Assert.Equal(together[row].Neighbors, inAnotherOrder[i].Neighbors);
            Assert.Equal(together[row].EdgeIds, inAnotherOrder[i].EdgeIds);
        }
        foreach (var row in new[] { 1, 3, 51, 200, 399 })
        {
            var alone = Rows(csr, weights, [row], k, strategy, KernelRandom.PerNode(77))[0];
            Assert.Equal(together[row].Neighbors, alone.Neighbors);
            // A node listed twice draws the same neighbours twice: the key is the node, not its place in the call.
            var twice = Rows(csr, weights, [row, 5, row], k, strategy, KernelRandom.PerNode(77));
            Assert.Equal(alone.Neighbors, twice[0].Neighbors);
            Assert.Equal(alone.Neighbors, twice[2].Neighbors);
        }
        var otherSeed = Rows(csr, weights, all, k, strategy, KernelRandom.PerNode(78));
        Assert.NotEqual(together.SelectMany(r => r.Neighbors), otherSeed.SelectMany(r => r.Neighbors));
    }

    [Theory]
    [MemberData(nameof(RandomStrategies))]
    public void Local_rows_of_a_partition_draw_what_their_global_rows_draw_when_given_the_partitions_first_id(SamplingStrategy strategy, int k)
    {
        var (csr, weights) = RandomCsr();
        var global = Rows(csr, weights, Enumerable.Range(0, csr.RowCount).ToArray(), k, strategy, KernelRandom.PerNode(5));
        foreach (var (start, count) in new[] { (0, 130), (130, 170), (300, 100) })
        {
            var (part, partWeights) = Slice(csr, weights, start, count);
            var local = Rows(part, partWeights, Enumerable.Range(0, count).Reverse().ToArray(), k, strategy, KernelRandom.PerNode(5, start));
            for (var i = 0; i < count; i++)
                Assert.Equal(global[start + count - 1 - i].Neighbors, local[i].Neighbors);
        }
    }

    // Over many nodes of ONE call, each with the same 50-wide row: per-node streams of neighbouring ids must be as
    // independent as one stream's successive draws, so every position is picked about equally often.
    [Theory]
    [InlineData(SamplingStrategy.Random, 10)]
    [InlineData(SamplingStrategy.RandomWithoutReplacement, 10)]
    [InlineData(SamplingStrategy.RandomWithoutReplacement, 40)]
    public void Draws_across_the_nodes_of_one_call_are_uniform_over_the_row(SamplingStrategy strategy, int k)
    {
        const int rows = 5000, degree = 50;
        var offsets = new long[rows + 1];
        for (var r = 0; r < rows; r++) offsets[r + 1] = offsets[r] + degree;
        var nbrs = new int[rows * degree];
        for (var e = 0; e < nbrs.Length; e++) nbrs[e] = e % degree;
        var csr = new Csr(rows, offsets, nbrs, ReadOnlyMemory<int>.Empty);
        var buffer = new SampleBuffer();
        var random = KernelRandom.PerNode(3);
        NeighborSampler.Sample(csr, Enumerable.Range(0, rows).ToArray(), k, strategy, ref random, buffer);
        var counts = new int[degree];
        for (var i = 0; i < rows; i++)
        {
            var row = buffer.NeighborsOf(i);
            Assert.Equal(k, row.Length);
            if (strategy == SamplingStrategy.RandomWithoutReplacement) Assert.Equal(k, row.ToArray().Distinct().Count());
            foreach (var n in row) counts[n]++;
        }
        // rows · k / degree expected per position (1000 for k = 10, 4000 for k = 40); 6 sd either side at most.
        var expected = (double)rows * k / degree;
        var sd = Math.Sqrt(expected * (1 - (double)k / degree));
        Assert.All(counts, c => Assert.InRange(c, expected - 6 * sd, expected + 6 * sd));
        // Neighbouring ids are independent: node i's first draw equals node i + 1's as often as two independent first
        // draws agree, Σ p², p the first draws' frequencies (1/50 uniformly; Floyd's first draw spreads over 0 .. n − k only).
        var firsts = Enumerable.Range(0, rows).Select(i => buffer.NeighborsOf(i)[0]).ToArray();
        var p = firsts.GroupBy(n => n).Select(g => (double)g.Count() / rows).ToArray();
        var expectedSame = (rows - 1) * p.Sum(x => x * x);
        var same = Enumerable.Range(0, rows - 1).Count(i => firsts[i] == firsts[i + 1]);
        Assert.InRange(same, expectedSame - 6 * Math.Sqrt(expectedSame), expectedSame + 6 * Math.Sqrt(expectedSame));
    }

    [Fact]
    public void Edge_weight_draws_across_nodes_follow_the_weights()
    {
        const int rows = 4000;
        var offsets = new long[rows + 1];
        for (var r = 0; r < rows; r++) offsets[r + 1] = offsets[r] + 4;
        var nbrs = new int[rows * 4];
        var weights = new float[rows * 4];
        for (var e = 0; e < nbrs.Length; e++) { nbrs[e] = e % 4; weights[e] = 1 + e % 4; }
        var csr = new Csr(rows, offsets, nbrs, ReadOnlyMemory<int>.Empty);
        var buffer = new SampleBuffer();
        var random = KernelRandom.PerNode(9);
        NeighborSampler.SampleByWeight(csr, weights, Enumerable.Range(0, rows).ToArray(), 5, ref random, buffer);
        var counts = new int[4];
        foreach (var n in buffer.Neighbors) counts[n]++;
        // Weights 1:2:3:4 over 20,000 draws: 2000, 4000, 6000, 8000 expected; sd at most 70.
        for (var n = 0; n < 4; n++) Assert.InRange(counts[n], (n + 1) * 2000 - 400, (n + 1) * 2000 + 400);
    }

    [Fact]
    public void A_single_nodes_draws_over_many_seeds_are_uniform_for_both_floyd_paths()
    {
        var star = TestGraphs.Star(300).Edges("e").Out;
        foreach (var k in new[] { 10, 100 })
        {
            var counts = new int[301];
            var buffer = new SampleBuffer();
            for (ulong seed = 0; seed < 3000; seed++)
            {
                var random = KernelRandom.PerNode(seed);
                NeighborSampler.SampleWithoutReplacement(star, [0], k, ref random, buffer);
                Assert.Equal(k, buffer.Neighbors.ToArray().Distinct().Count());
                foreach (var n in buffer.Neighbors) counts[n]++;
            }
            var expected = 3000.0 * k / 300;
            var sd = Math.Sqrt(expected * (1 - k / 300.0));
            Assert.All(counts.Skip(1), c => Assert.InRange(c, expected - 6 * sd, expected + 6 * sd));
        }
    }
}
