using GraphActors.Cluster.Coordination;
using GraphActors.Cluster.Trainers;
using GraphActors.Contracts.Serialization;
using static GraphActors.Contracts.Protocols.TrainingProtocol;

namespace GraphActors.Cluster.Tests.Trainers;

/// <summary>
/// The ring's averaging without an ActorSystem: N members exchange their messages through per-link FIFO queues (what
/// Akka.Remote guarantees between two actors), delivered in an order drawn from a seeded random schedule, with the
/// members contributing at random moments in between, so timing varies while the result must not.
/// </summary>
public class RingAllReduceTests
{
    private const int Window = 3;

    /// <summary>What one schedule produced: every member's result and what each sent.</summary>
    private sealed record Outcome(float[][] Results, long[] FloatsSent, long[] BytesSent, long[] BytesReceived, int[] MessagesSent, long TotalWeight);

    private static Outcome Run(float[][] vectors, long[] seeds, int chunkFloats, int schedule)
    {
        var n = vectors.Length;
        var length = vectors[0].Length;
        var members = Enumerable.Range(0, n).Select(i => new RingAllReduce("j", 1, 2, 3, n, i, length, chunkFloats, Window)).ToArray();
        // links[i]: messages member i sent to its successor (chunks); acks[i]: acks member i sent to its predecessor.
        var chunks = Enumerable.Range(0, n).Select(_ => new Queue<RingChunk>()).ToArray();
        var acks = Enumerable.Range(0, n).Select(_ => new Queue<RingAck>()).ToArray();
        var floats = new long[n];
        var bytes = new long[n];
        var received = new long[n];
        var messages = new int[n];
        var random = new Random(schedule);
        var sends = new List<RingSend>();

        void Route(int from)
        {
            foreach (var s in sends)
            {
                bytes[from] += WireChunks.SerializedSize(s.Message);
                messages[from]++;
                if (s.Message is RingChunk c)
                {
                    Assert.Equal(RingPeer.Successor, s.To);
                    floats[from] += c.Chunk.Length;
                    chunks[from].Enqueue(c);
                }
                else acks[from].Enqueue(Assert.IsType<RingAck>(s.Message));
            }
            sends.Clear();
            Assert.True(members[from].InFlight <= Window, $"member {from} has {members[from].InFlight} chunks unacknowledged");
            Assert.True(members[from].Held <= Window, $"member {from} holds {members[from].Held} received chunks");
        }

        var waiting = Enumerable.Range(0, n).OrderBy(_ => random.Next()).ToList();
        for (var guard = 0; guard < 1_000_000; guard++)
        {
            var ready = new List<Action>();
            if (waiting.Count > 0) ready.Add(() => { var m = waiting[0]; waiting.RemoveAt(0); Assert.Null(members[m].Contribute(seeds[m] > 0 ? vectors[m] : null, seeds[m], sends)); Route(m); });
            for (var i = 0; i < n; i++)
            {
                var from = i;
                var to = (i + 1) % n;
                if (chunks[from].Count > 0)
                    ready.Add(() =>
                    {
                        var c = chunks[from].Dequeue();
                        received[to] += WireChunks.SerializedSize(c);
                        Assert.Null(members[to].Receive(c, sends));
                        Route(to);
                    });
                var back = (i + n - 1) % n;
                if (acks[from].Count > 0)
                    ready.Add(() =>
                    {
                        var a = acks[from].Dequeue();
                        received[back] += WireChunks.SerializedSize(a);
                        Assert.Null(members[back].Acked(a, sends));
                        Route(back);
                    });
            }
            if (ready.Count == 0) break;
            ready[random.Next(ready.Count)]();
        }
        Assert.All(members, m => Assert.True(m.Complete, $"member {m.Self} of {n} did not complete"));
        Assert.All(members, m => Assert.Equal(members[0].TotalWeight, m.TotalWeight));
        return new Outcome(members.Select(m => m.Result).ToArray(), floats, bytes, received, messages, members[0].TotalWeight);
    }

    /// <summary>The coordinator's star average of the same contributions (ParameterAverager, one rounding).</summary>
    private static float[] Star(float[][] vectors, long[] seeds)
    {
        var averager = new ParameterAverager();
        for (var m = 0; m < vectors.Length; m++)
            if (seeds[m] > 0) Assert.Null(averager.Add($"t{m}", 0, 1, seeds[m], vectors[m]));
        return averager.Average().Chunks[0];
    }

    private static float[][] Vectors(int n, int length, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() * 2 - 1) * 1e-2f).ToArray()).ToArray();
    }

    [Theory]
    [InlineData(2, 1000, 1000)]
    [InlineData(3, 1000, 70)]
    [InlineData(4, 5003, 64)]
    [InlineData(8, 4099, 100)]
    [InlineData(16, 20_000, 512)]
    public void The_ring_gives_the_stars_seed_weighted_mean_bit_identical_at_every_member_and_under_every_schedule(int n, int length, int chunkFloats)
    {
        var vectors = Vectors(n, length, n * 31 + length);
        var seeds = Enumerable.Range(0, n).Select(i => (long)(3 + 17 * i % 11)).ToArray(); // uneven
        var first = Run(vectors, seeds, chunkFloats, schedule: 1);
        var second = Run(vectors, seeds, chunkFloats, schedule: 2);
        Assert.Equal(seeds.Sum(), first.TotalWeight);
        foreach (var r in first.Results.Concat(second.Results)) Assert.Equal(first.Results[0], r); // same bits, whatever the timing
        var star = Star(vectors, seeds);
        for (var i = 0; i < length; i++)
            // The ring rounds its partial sums to float at each of its N − 1 hops, the star once: within N ulps of the terms.
            Assert.True(Math.Abs(first.Results[0][i] - star[i]) <= n * 2e-9f + 2.4e-7f * Math.Abs(star[i]),
                $"float {i}: ring {first.Results[0][i]:R}, star {star[i]:R}");
    }

    [Theory]
    [InlineData(2, 368_775)]
    [InlineData(4, 368_775)]
    [InlineData(16, 368_775)]
    public void Each_member_sends_and_receives_at_most_2_N_minus_1_over_N_of_the_vector_plus_small_headers(int n, int length)
    {
        var vectors = Vectors(n, length, 7);
        var seeds = Enumerable.Repeat(64L, n).ToArray();
        var chunkFloats = ChunkFloats(4 << 20);
        var outcome = Run(vectors, seeds, chunkFloats, schedule: 3);
        var bound = 2.0 * (n - 1) / n * length;
        for (var m = 0; m < n; m++)
        {
            // Segments differ by at most one float.
            Assert.InRange(outcome.FloatsSent[m], bound - 2 * n, bound + 2 * n);
            // Each message's header (job id, round, hop, segment, chunk, weight) and each ack are under 64 bytes.
            var header = 64L * outcome.MessagesSent[m];
            Assert.True(outcome.BytesSent[m] <= bound * 4 + 8 * n + header, $"member {m} sent {outcome.BytesSent[m]} bytes; bound {bound * 4 + header}");
            Assert.True(outcome.BytesReceived[m] <= bound * 4 + 8 * n + header, $"member {m} received {outcome.BytesReceived[m]} bytes");
            var piece = RingAllReduce.PipelinedChunk(length, n, chunkFloats);
            Assert.True(outcome.MessagesSent[m] <= 4 * (n - 1) * Math.Max(1, (length / n + piece) / piece),
                $"member {m} sent {outcome.MessagesSent[m]} messages");
        }
    }

    [Theory]
    [InlineData(368_775, 4, 16_384)]      // the Cora model: 92k-float segments in 6 pieces of the 64 KiB minimum
    [InlineData(4_000_000, 4, 125_000)]   // 1M-float segments in 8 pieces
    [InlineData(4_000_000, 16, 31_250)]
    [InlineData(100_000_000, 2, 1_048_576 - 1_024)] // huge segments: pieces stop at the wire's chunk
    [InlineData(1_000, 8, 16_384)]        // tiny vectors: one piece per segment, no splitting below 64 KiB
    public void Segments_travel_in_pieces_so_that_hops_overlap_but_never_above_the_wire_chunk(int length, int n, int expected)
    {
        var wire = ChunkFloats(4 << 20);
        Assert.Equal(1_048_576 - 1_024, wire);
        Assert.Equal(expected, RingAllReduce.PipelinedChunk(length, n, wire));
        Assert.Equal(7, RingAllReduce.PipelinedChunk(length, n, 7)); // a smaller configured chunk wins
    }

    [Fact]
    public void Trainers_without_seeds_take_part_with_weight_0_and_their_vectors_are_never_read()
    {
        const int n = 5, length = 997;
        var vectors = Vectors(n, length, 11);
        // Members 0, 1 and 3 trained nothing this round; their (stale) vectors would poison the mean if read.
        var seeds = new long[] { 0, 0, 9, 0, 1 };
        foreach (var m in new[] { 0, 1, 3 }) Array.Fill(vectors[m], float.NaN);
        var outcome = Run(vectors, seeds, chunkFloats: 50, schedule: 5);
        Assert.Equal(10, outcome.TotalWeight);
        var expected = vectors[2].Zip(vectors[4], (a, b) => (float)((9.0 * a + b) / 10)).ToArray();
        var star = Star(vectors, seeds);
        Assert.All(outcome.Results, r => Assert.DoesNotContain(r, float.IsNaN));
        for (var i = 0; i < length; i++) Assert.Equal(star[i], outcome.Results[0][i], 1e-7f);
        Assert.Equal(expected.Length, outcome.Results[0].Length);
        // A chain that starts at members with no seeds carries empty chunks (zeros) until a member with seeds.
        Assert.True(outcome.FloatsSent[0] < outcome.FloatsSent[2], "member 0 sent full chunks while its partial sums were all zero");
    }

    [Fact]
    public void A_ring_of_one_averages_nothing_and_a_round_without_seeds_is_refused()
    {
        var one = new RingAllReduce("j", 0, 0, 0, 1, 0, 3, 10, 4);
        var sends = new List<RingSend>();
        Assert.Null(one.Contribute([1f, 2.5f, -3f], 7, sends));
        Assert.Empty(sends);
        Assert.True(one.Complete);
        Assert.Equal([1f, 2.5f, -3f], one.Result);
        Assert.Contains("nothing to average", new RingAllReduce("j", 0, 0, 0, 1, 0, 3, 10, 4).Contribute(null, 0, sends));
    }

    [Fact]
    public void Chunks_of_another_round_attempt_or_shape_and_duplicates_are_refused_with_a_reason()
    {
        var member = new RingAllReduce("j", 1, 2, 3, 3, 1, 30, 4, 4);
        var sends = new List<RingSend>();
        Assert.Null(member.Contribute(new float[30], 1, sends));
        var good = new RingChunk("j", 1, 2, 3, 0, 0, 0, 1, new float[4]); // segment 0 starts at member 0, hop 0 reaches member 1
        Assert.Contains("reached round", member.Receive(good with { Attempt = 1 }, sends));
        Assert.Contains("routed", member.Receive(good with { Segment = 1 }, sends));
        Assert.Contains("expects 4", member.Receive(good with { Chunk = new float[3] }, sends));
        Assert.Null(member.Receive(good, sends));
        Assert.Contains("twice", member.Receive(good, sends));
        Assert.Contains("acknowledged", member.Acked(new RingAck("j", 1, 2, 3, 99), sends));
    }
}
