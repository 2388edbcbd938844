using GraphActors.Graph;

namespace GraphActors.Sampling.Tests;

public class NeighborSamplerTests
{
    private static readonly HeteroGraph Graph = TestGraphs.Small();
    private static Csr Out => Graph.Edges("e").Out;
    private static ReadOnlySpan<float> Weights => Graph.Edges("e").Data.Weights.Span;

    [Fact]
    public void Full_returns_every_neighbour_in_row_order_with_edge_ids()
    {
        var buffer = new SampleBuffer();
        NeighborSampler.SampleFull(Out, [0, 2, 1], buffer);
        Assert.Equal([0, 4, 4, 5], buffer.Offsets.ToArray());
        Assert.Equal([1, 2, 3, 4, 0], buffer.Neighbors.ToArray());
        Assert.Equal([0, 1, 2, 3, 4], buffer.EdgeIds.ToArray());
    }

    [Fact]
    public void Full_along_in_edges_reports_the_edge_ids_of_the_out_edges()
    {
        var buffer = new SampleBuffer();
        NeighborSampler.SampleFull(Graph.Edges("e").In, [0, 7], buffer);
        Assert.Equal([1, 5], buffer.Neighbors.ToArray());
        Assert.Equal([4, 6], buffer.EdgeIds.ToArray());
    }

    [Fact]
    public void Topk_takes_the_heaviest_edges_heaviest_first()
    {
        var buffer = new SampleBuffer();
        NeighborSampler.SampleTopK(Out, Weights, [0], 2, buffer);
        Assert.Equal([4, 3], buffer.Neighbors.ToArray());
    }

    [Fact]
    public void Topk_breaks_ties_by_position_in_the_row()
    {
        var buffer = new SampleBuffer();
        NeighborSampler.SampleTopK(Out, Weights, [5], 3, buffer);
        Assert.Equal([7, 8, 6], buffer.Neighbors.ToArray());
    }

    [Fact]
    public void Topk_with_fewer_neighbours_than_k_returns_them_all_sorted_by_weight()
    {
        var buffer = new SampleBuffer();
        NeighborSampler.SampleTopK(Out, Weights, [5, 2, 1], 10, buffer);
        Assert.Equal([0, 4, 4, 5], buffer.Offsets.ToArray());
        Assert.Equal([7, 8, 6, 9, 0], buffer.Neighbors.ToArray());
    }

    [Fact]
    public void Without_replacement_returns_all_neighbours_when_the_degree_is_at_most_k()
    {
        var buffer = new SampleBuffer();
        var rng = KernelRandom.Sequential(new Xoshiro256(1));
        NeighborSampler.SampleWithoutReplacement(Out, [0, 2, 1], 4, ref rng, buffer);
        Assert.Equal([0, 4, 4, 5], buffer.Offsets.ToArray());
        Assert.Equal([1, 2, 3, 4, 0], buffer.Neighbors.ToArray());
    }

    [Theory]
    [InlineData(50, 10)]   // linear-scan set
    [InlineData(300, 100)] // hashed set
    [InlineData(65, 64)]
    public void Without_replacement_draws_k_distinct_true_neighbours(int degree, int k)
    {
        var star = TestGraphs.Star(degree).Edges("e").Out;
        var buffer = new SampleBuffer();
        var rng = KernelRandom.Sequential(new Xoshiro256(2));
        for (var round = 0; round < 50; round++)
        {
            NeighborSampler.SampleWithoutReplacement(star, [0, 0], k, ref rng, buffer);
            for (var s = 0; s < 2; s++)
            {
                var row = buffer.NeighborsOf(s).ToArray();
                Assert.Equal(k, row.Length);
                Assert.Equal(k, row.Distinct().Count());
                Assert.All(row, n => Assert.InRange(n, 1, degree));
                // Out-CSR edge ids are positions: neighbour n sits at position n - 1.
                Assert.Equal(row.Select(n => n - 1), buffer.EdgeIdsOf(s).ToArray());
            }
        }
    }

    [Fact]
    public void Without_replacement_picks_every_neighbour_about_equally_often()
    {
        var star = TestGraphs.Star(50).Edges("e").Out;
        var buffer = new SampleBuffer();
        var rng = KernelRandom.Sequential(new Xoshiro256(3));
        var counts = new int[51];
        for (var round = 0; round < 5000; round++)
        {
            NeighborSampler.SampleWithoutReplacement(star, [0], 10, ref rng, buffer);
            foreach (var n in buffer.Neighbors) counts[n]++;
        }
        // Each neighbour is in a 10-of-50 sample with probability 0.2: 1000 expected, sd about 28.
        Assert.All(counts.Skip(1), c => Assert.InRange(c, 850, 1150));
    }

    [Fact]
    public void Random_draws_k_with_replacement_roughly_uniformly()
    {
        var buffer = new SampleBuffer();
        var rng = KernelRandom.Sequential(new Xoshiro256(4));
        NeighborSampler.SampleUniform(Out, [0], 4000, ref rng, buffer);
        var counts = buffer.Neighbors.ToArray().GroupBy(n => n).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal([1, 2, 3, 4], counts.Keys.Order());
        // 1000 expected each, sd about 27.
        Assert.All(counts.Values, c => Assert.InRange(c, 850, 1150));
    }

    [Fact]
    public void Random_gives_nothing_for_a_node_without_neighbours()
    {
        var buffer = new SampleBuffer();
        var rng = KernelRandom.Sequential(new Xoshiro256(4));
        NeighborSampler.SampleUniform(Out, [2, 1], 3, ref rng, buffer);
        Assert.Equal([0, 0, 3], buffer.Offsets.ToArray());
        Assert.Equal([0, 0, 0], buffer.Neighbors.ToArray());
    }

    [Fact]
    public void Edge_weight_draws_in_proportion_to_the_weights()
    {
        var buffer = new SampleBuffer();
        var rng = KernelRandom.Sequential(new Xoshiro256(5));
        NeighborSampler.SampleByWeight(Out, Weights, [0], 10_000, ref rng, buffer);
        var counts = new int[5];
        foreach (var n in buffer.Neighbors) counts[n]++;
        // Weights 1:2:3:4 → 1000, 2000, 3000, 4000 expected; sd at most 49.
        for (var n = 1; n <= 4; n++) Assert.InRange(counts[n], n * 1000 - 250, n * 1000 + 250);
    }

    [Fact]
    public void The_same_seed_gives_the_same_samples()
    {
        var star = TestGraphs.Star(40).Edges("e").Out;
        int[] Run(ulong seed, SamplingStrategy s)
        {
            var buffer = new SampleBuffer();
            var rng = KernelRandom.Sequential(new Xoshiro256(seed));
            NeighborSampler.Sample(star, [0, 0, 0], 7, s, ref rng, buffer);
            return buffer.Neighbors.ToArray();
        }
        foreach (var s in new[] { SamplingStrategy.Random, SamplingStrategy.RandomWithoutReplacement, SamplingStrategy.EdgeWeight })
        {
            Assert.Equal(Run(9, s), Run(9, s));
            Assert.NotEqual(Run(9, s), Run(10, s));
        }
    }

    [Fact]
    public void A_reused_buffer_gives_the_same_result_as_a_fresh_one()
    {
        var star = TestGraphs.Star(40).Edges("e").Out;
        var reused = new SampleBuffer();
        var rng = KernelRandom.Sequential(new Xoshiro256(1));
        NeighborSampler.SampleWithoutReplacement(star, new int[300], 30, ref rng, reused);
        var a = KernelRandom.Sequential(new Xoshiro256(2));
        var b = KernelRandom.Sequential(new Xoshiro256(2));
        var fresh = new SampleBuffer();
        NeighborSampler.SampleWithoutReplacement(star, [0, 1, 0], 5, ref a, reused);
        NeighborSampler.SampleWithoutReplacement(star, [0, 1, 0], 5, ref b, fresh);
        Assert.Equal(fresh.Offsets.ToArray(), reused.Offsets.ToArray());
        Assert.Equal(fresh.Neighbors.ToArray(), reused.Neighbors.ToArray());
    }

    [Fact]
    public void A_seed_outside_the_graph_is_refused()
    {
        var buffer = new SampleBuffer();
        var rng = KernelRandom.Sequential(new Xoshiro256(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => NeighborSampler.SampleUniform(Out, [10], 2, ref rng, buffer));
    }

    [Fact]
    public void Replicate_padding_fills_with_the_default_and_edge_id_minus_one()
    {
        var dst = new int[4];
        var dstEdges = new int[4];
        Padding.PadRow([7, 8], [1, 2], PaddingMode.Replicate, -1, dst, dstEdges);
        Assert.Equal([7, 8, -1, -1], dst);
        Assert.Equal([1, 2, -1, -1], dstEdges);
    }

    [Fact]
    public void Circular_padding_repeats_the_row_in_order()
    {
        var dst = new int[5];
        var dstEdges = new int[5];
        Padding.PadRow([7, 8], [1, 2], PaddingMode.Circular, -1, dst, dstEdges);
        Assert.Equal([7, 8, 7, 8, 7], dst);
        Assert.Equal([1, 2, 1, 2, 1], dstEdges);
    }

    [Fact]
    public void Circular_padding_of_an_empty_row_falls_back_to_the_default()
    {
        var dst = new int[3];
        var dstEdges = new int[3];
        Padding.PadRow([], [], PaddingMode.Circular, -1, dst, dstEdges);
        Assert.Equal([-1, -1, -1], dst);
    }
}
