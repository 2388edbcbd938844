// One ring member's part of one round's seed-weighted average (reduce-scatter + all-gather), without Akka: messages in, messages out.
using GraphActors.Contracts;
using static GraphActors.Contracts.Protocols.TrainingProtocol;

namespace GraphActors.Cluster.Trainers;

/// <summary>Where a ring message goes: the next member (chunks) or the previous one (acks).</summary>
public enum RingPeer { Successor, Predecessor }

/// <summary>A message the member's actor sends for the ring.</summary>
public readonly record struct RingSend(RingPeer To, IGraphActorsMessage Message);

/// <summary>
/// Member <see cref="Self"/> of a ring of <see cref="Members"/> trainers averaging one round's vector of
/// <see cref="Length"/> floats, each weighted by the seeds it trained (Σ nᵢ·gᵢ / Σ nᵢ).
/// <para>
/// The vector is cut into N contiguous segments; segment s starts at member s with nₛ·gₛ and travels the ring,
/// each member adding its own nᵢ·gᵢ in double and passing the partial sum on as float; member s−1 receives it last,
/// adds its own, divides by the round's seeds and sends the mean around once more (all-gather). So every member sends and
/// receives 2(N−1)/N of the vector, and the sum of segment s is always taken in the ring order s, s+1, …, s−1: the
/// result depends on the ring's order (fixed by the coordinator) and the vectors, never on timing, and every member
/// ends with the same bits. Segments are sent in chunks of at most <see cref="ChunkFloats"/> floats
/// (<see cref="PipelinedChunk"/>: pieces small enough for the hops to overlap).
/// </para>
/// <para>
/// Flow control: at most <see cref="Window"/> chunks to the successor are unacknowledged. A received chunk is
/// acknowledged once what it led to has been sent on (or, at the last hop, kept), so a member holds at most
/// <see cref="Window"/> received chunks besides its own vector and the result. A member starts a chunk of its own
/// segment only while two or more slots are free, so the ring never has every slot taken and cannot deadlock: some
/// member can always pass a chunk on. A member with no seeds takes part with weight 0 (its vector is not read).
/// </para>
/// </summary>
public sealed class RingAllReduce
{
    private readonly string _jobId;
    private readonly int _epoch, _attempt, _round;
    private readonly long[] _segmentStart;   // N + 1 bounds
    private readonly int[] _firstChunk;      // N + 1: global chunk number of each segment's chunk 0
    private readonly bool[] _reduced;        // per global chunk: its reduce-scatter hop arrived here
    private readonly bool[] _gathered;       // per global chunk: its mean is in Result
    private readonly Queue<RingChunk> _held = new();          // received before this member contributed
    private readonly Queue<(RingChunk Message, bool AcksOne)> _out = new();
    private float[]? _vector;
    private long _weight;
    private int _injected;                   // chunks of this member's own segment sent
    private int _missing;                    // chunks of the result not yet here
    private long _sent, _acked;
    private int _acksOwed;

    public RingAllReduce(string jobId, int epoch, int attempt, int round, int members, int self, int length, int chunkFloats, int window)
    {
        if (members < 1 || (uint)self >= (uint)members) throw new ArgumentOutOfRangeException(nameof(self), $"member {self} of a ring of {members}");
        if (length < 0) throw new ArgumentOutOfRangeException(nameof(length));
        if (chunkFloats < 1) throw new ArgumentOutOfRangeException(nameof(chunkFloats));
        (_jobId, _epoch, _attempt, _round) = (jobId, epoch, attempt, round);
        Members = members;
        Self = self;
        Length = length;
        ChunkFloats = PipelinedChunk(length, members, chunkFloats);
        // Two slots at least: a member starts its own chunks only with two free (see the class comment).
        Window = Math.Max(2, window);
        _segmentStart = new long[members + 1];
        _firstChunk = new int[members + 1];
        for (var s = 0; s <= members; s++) _segmentStart[s] = (long)s * length / members;
        for (var s = 0; s < members; s++) _firstChunk[s + 1] = _firstChunk[s] + ChunksOf(s);
        _reduced = new bool[_firstChunk[members]];
        _gathered = new bool[_firstChunk[members]];
        _missing = _firstChunk[members];
        Result = new float[length];
    }

    /// <summary>Pieces a segment is cut into at least, so that its 2(N−1) hops overlap instead of running in turn.</summary>
    public const int PiecesPerSegment = 8;

    /// <summary>The smallest piece worth a message of its own (64 KiB of floats).</summary>
    public const int MinPieceFloats = 16 * 1024;

    /// <summary>
    /// The chunk a ring of <paramref name="members"/> uses for a vector of <paramref name="length"/> floats: at most the
    /// wire's <paramref name="maxChunkFloats"/>, and small enough that each segment travels as
    /// <see cref="PiecesPerSegment"/> pieces (down to <see cref="MinPieceFloats"/>). With one chunk per segment every hop
    /// waits for the whole segment before passing it on, so a round costs 2(N−1) segment transfers back to back; cut in
    /// pieces, the hops of consecutive pieces overlap and a round costs about one segment transfer more than its bytes.
    /// Every member computes the same value from the same inputs.
    /// </summary>
    public static int PipelinedChunk(int length, int members, int maxChunkFloats)
    {
        var segment = (length + members - 1) / Math.Max(1, members);
        var piece = Math.Max(MinPieceFloats, (segment + PiecesPerSegment - 1) / PiecesPerSegment);
        return Math.Max(1, Math.Min(maxChunkFloats, piece));
    }

    public int Members { get; }
    public int Self { get; }
    public int Length { get; }
    public int ChunkFloats { get; }
    public int Window { get; }

    /// <summary>The round's average; whole once <see cref="Complete"/>.</summary>
    public float[] Result { get; }

    /// <summary>The seeds the ring summed (known once a mean has reached this member).</summary>
    public long TotalWeight { get; private set; } = -1;

    public bool Contributed { get; private set; }

    /// <summary>Every chunk of the average is here and everything this member owes the ring has been sent.</summary>
    public bool Complete => Contributed && _missing == 0 && _out.Count == 0 && _injected == ChunksOf(Self);

    /// <summary>Chunks sent to the successor and not yet acknowledged (never above <see cref="Window"/>).</summary>
    public long InFlight => _sent - _acked;

    /// <summary>Received chunks this member holds, not yet passed on (never above <see cref="Window"/> from a well-behaved predecessor).</summary>
    public int Held => _held.Count + _out.Count;

    /// <summary>Segment <paramref name="s"/>'s first float and length.</summary>
    public (long Start, int Length) Segment(int s) => (_segmentStart[s], (int)(_segmentStart[s + 1] - _segmentStart[s]));

    /// <summary>Chunks of segment <paramref name="s"/> (one, possibly empty, for an empty segment).</summary>
    public int ChunksOf(int s) => Math.Max(1, (int)((_segmentStart[s + 1] - _segmentStart[s] + ChunkFloats - 1) / ChunkFloats));

    /// <summary>
    /// This member's share: its vector (gradients or parameters), weighted by <paramref name="seeds"/>; null with 0
    /// seeds. The vector is read until the ring completes, so the caller must not change it meanwhile.
    /// </summary>
    public string? Contribute(float[]? vector, long seeds, List<RingSend> sends)
    {
        if (Contributed) return "contributed twice to one round";
        if (seeds < 0) return $"a contribution of {seeds} seeds";
        if (seeds > 0 && (vector is null || vector.Length != Length))
            return $"its vector has {vector?.Length ?? 0} floats, the ring averages {Length} (trainers built different models?)";
        Contributed = true;
        _vector = seeds > 0 ? vector : null;
        _weight = seeds;
        if (Members == 1)
        {
            if (seeds == 0) return "a ring of one member with no seeds has nothing to average";
            var own = _vector!;
            for (var i = 0; i < Length; i++) Result[i] = (float)(seeds * (double)own[i] / seeds);
            TotalWeight = seeds;
            _missing = 0;
            _injected = ChunksOf(0);
            return null;
        }
        while (_held.Count > 0)
            if (Process(_held.Dequeue()) is { } problem) return problem;
        Pump(sends);
        return null;
    }

    /// <summary>A chunk from the predecessor; returns a problem (the round cannot complete), or null.</summary>
    public string? Receive(RingChunk m, List<RingSend> sends)
    {
        if (m.JobId != _jobId || m.Epoch != _epoch || m.Attempt != _attempt || m.Round != _round)
            return $"a ring chunk of round {m.Epoch}/{m.Attempt}/{m.Round} reached round {_epoch}/{_attempt}/{_round}";
        if (Members == 1) return "a ring of one member received a chunk";
        if ((uint)m.Segment >= (uint)Members || (uint)m.Hop > (uint)(2 * Members - 3) || (m.Segment + m.Hop + 1) % Members != Self)
            return $"chunk of segment {m.Segment} at hop {m.Hop} was routed to member {Self} of {Members}";
        if ((uint)m.ChunkIndex >= (uint)ChunksOf(m.Segment))
            return $"segment {m.Segment} has {ChunksOf(m.Segment)} chunk(s), not a chunk {m.ChunkIndex}";
        var expected = ChunkLength(m.Segment, m.ChunkIndex);
        var zeros = m.Hop < Members - 1 && m.Weight == 0 && m.Chunk.Length == 0;
        if (m.Chunk.Length != expected && !zeros)
            return $"chunk {m.ChunkIndex} of segment {m.Segment} has {m.Chunk.Length} floats, this member expects {expected} (trainers built different models?)";
        var seen = m.Hop < Members - 1 ? _reduced : _gathered;
        var id = _firstChunk[m.Segment] + m.ChunkIndex;
        if (seen[id]) return $"chunk {m.ChunkIndex} of segment {m.Segment} came twice at hop {m.Hop}";
        seen[id] = true;
        if (!Contributed)
        {
            _held.Enqueue(m);
            return null;
        }
        if (Process(m) is { } problem) return problem;
        Pump(sends);
        return null;
    }

    /// <summary>The successor acknowledged <paramref name="count"/> chunks: sends what the window now allows.</summary>
    public string? Acked(RingAck m, List<RingSend> sends)
    {
        if (m.JobId != _jobId || m.Epoch != _epoch || m.Attempt != _attempt || m.Round != _round)
            return $"a ring ack of round {m.Epoch}/{m.Attempt}/{m.Round} reached round {_epoch}/{_attempt}/{_round}";
        if (m.Count < 1 || _acked + m.Count > _sent) return $"{m.Count} chunk(s) acknowledged with {_sent - _acked} unacknowledged";
        _acked += m.Count;
        Pump(sends);
        return null;
    }

    private int ChunkLength(int segment, int chunk)
    {
        var (_, length) = Segment(segment);
        return Math.Min(ChunkFloats, length - chunk * ChunkFloats);
    }

    /// <summary>Adds this member's share to a received chunk, or keeps a mean; queues what goes on.</summary>
    private string? Process(RingChunk m)
    {
        var (start, _) = Segment(m.Segment);
        var offset = start + (long)m.ChunkIndex * ChunkFloats;
        var length = ChunkLength(m.Segment, m.ChunkIndex);
        if (m.Hop < Members - 1)
        {
            var weight = m.Weight + _weight;
            var owner = m.Hop == Members - 2;
            if (owner && weight <= 0) return $"segment {m.Segment} reached its owner with {weight} seeds: the round has none";
            float[] next;
            if (weight == 0) next = [];
            else
            {
                next = GC.AllocateUninitializedArray<float>(length);
                var partial = m.Chunk.AsSpan();
                var own = _weight > 0 ? _vector.AsSpan((int)offset, length) : default;
                double w = _weight, total = weight;
                for (var i = 0; i < length; i++)
                {
                    var sum = (partial.Length == 0 ? 0.0 : partial[i]) + (own.Length == 0 ? 0.0 : w * own[i]);
                    next[i] = owner ? (float)(sum / total) : (float)sum;
                }
            }
            if (owner)
            {
                TotalWeight = weight;
                Keep(m.Segment, m.ChunkIndex, next, offset);
            }
            _out.Enqueue((m with { Hop = m.Hop + 1, Weight = weight, Chunk = next }, true));
            return null;
        }
        if (TotalWeight >= 0 && TotalWeight != m.Weight)
            return $"the mean of segment {m.Segment} says {m.Weight} seeds, another {TotalWeight}";
        TotalWeight = m.Weight;
        Keep(m.Segment, m.ChunkIndex, m.Chunk, offset);
        if (m.Hop < 2 * Members - 3) _out.Enqueue((m with { Hop = m.Hop + 1 }, true));
        else _acksOwed++; // the last hop: kept, nothing to pass on
        return null;
    }

    private void Keep(int segment, int chunk, float[] mean, long offset)
    {
        _gathered[_firstChunk[segment] + chunk] = true;
        mean.CopyTo(Result.AsSpan((int)offset));
        _missing--;
    }

    /// <summary>Sends held chunks on, then this member's own ones, as the window allows; acknowledges what was passed on.</summary>
    private void Pump(List<RingSend> sends)
    {
        while (_out.Count > 0 && _sent - _acked < Window)
        {
            var (message, acksOne) = _out.Dequeue();
            sends.Add(new RingSend(RingPeer.Successor, message));
            _sent++;
            if (acksOne) _acksOwed++;
        }
        var own = ChunksOf(Self);
        while (Contributed && _out.Count == 0 && _injected < own && Window - (_sent - _acked) >= 2)
        {
            sends.Add(new RingSend(RingPeer.Successor, OwnChunk(_injected++)));
            _sent++;
        }
        if (_acksOwed > 0)
        {
            sends.Add(new RingSend(RingPeer.Predecessor, new RingAck(_jobId, _epoch, _attempt, _round, _acksOwed)));
            _acksOwed = 0;
        }
    }

    /// <summary>Hop 0 of this member's own segment: nₛ·gₛ, or an empty chunk (zeros) with no seeds.</summary>
    private RingChunk OwnChunk(int chunk)
    {
        float[] values = [];
        if (_weight > 0)
        {
            var (start, _) = Segment(Self);
            var length = ChunkLength(Self, chunk);
            values = GC.AllocateUninitializedArray<float>(length);
            var own = _vector.AsSpan((int)(start + (long)chunk * ChunkFloats), length);
            double w = _weight;
            for (var i = 0; i < length; i++) values[i] = (float)(w * own[i]);
        }
        return new RingChunk(_jobId, _epoch, _attempt, _round, 0, Self, chunk, _weight, values);
    }
}
