// A partition's share of a job's learnable embeddings: the rows of the nodes it owns, their optimizer state, and the
// gradients of steps not applied yet. No actors here: the PartitionActor calls it from its own thread.
using GraphActors.Cluster.Trainers;
using GraphActors.Contracts;
using GraphActors.Graph.Storage;
using GraphActors.Training;
using GraphActors.Training.Embeddings;
using static GraphActors.Contracts.Protocols.EmbeddingProtocol;
using static GraphActors.Contracts.Protocols.PartitionProtocol;

namespace GraphActors.Cluster.Partitions;

/// <summary>
/// The owner's side of <see cref="Contracts.Protocols.EmbeddingProtocol"/> for one partition: per embedded node type,
/// one <see cref="EmbeddingSlab"/> per id range the partition owns (rows <c>[b[p], b[p+1])</c> of the partition book;
/// on a store brought up to date by <c>partition --update</c>, one more range per generation: range s of
/// <see cref="NodeBook.RangeBoundaries"/> for every s ≡ p mod N), each initialised from the job's seed exactly as local
/// mode's slab s is and written to the checkpoint as its file s, the gradients trainers pushed per step clock, and the clock
/// below which every step is applied. Steps are applied in clock order, each step's gradients added in piece order, so
/// the result does not depend on which trainer's message came first. One job at a time: opening another drops the tables.
/// </summary>
public sealed class EmbeddingShards(int partition, PartitionBook book) : IDisposable
{
    /// <summary>What a refusal says when the partition holds no tables of the job (it moved since they were opened).</summary>
    public const string NotHeld = "has no embedding tables on partition";

    // Per type: this partition's slabs, and each slab's range index among the type's ranges (its checkpoint file number).
    private sealed record Held(SlabSet Set, int[] Indexes);

    private readonly Dictionary<string, Held> _slabs = new(StringComparer.Ordinal);
    // clock → (type, piece, part) → the part's rows and gradients; a retried part replaces itself.
    private readonly SortedDictionary<long, SortedDictionary<(string Type, int Piece, int Part), (int[] Ids, float[] Gradients)>> _pending = new();
    private string _job = "";
    private (long Clock, long Attempt, string Restore) _opened = (-1, -1, "");
    private long _applied;   // every step below this clock is in the slabs
    private long _attempt;    // the newest attempt seen; older attempts' messages are stale
    private string _handoff = ""; // where this partition's state goes when the partition moves to another node
    private (string Job, string Directory, long Clock, EmbeddingsWritten Answer)? _released; // the last checkpoint that let the tables go

    public long RowCount => _slabs.Values.Sum(h => h.Set.RowCount);
    public long Bytes => _slabs.Values.Sum(h => h.Set.Bytes);

    /// <summary>Where partition <paramref name="p"/> of job <paramref name="job"/> hands its tables over when it moves.</summary>
    public static string HandoffPath(string checkpointDir, string job, int p) =>
        Path.Combine(checkpointDir, job, "handoff", $"embeddings-{p}.bin");

    public IPartitionResponse Open(OpenEmbeddings m)
    {
        if (_job == m.JobId && (m.Rehome || _opened == (m.Clock, m.Attempt, m.RestoreDirectory)))
            return new EmbeddingsOpened(m.RequestId, partition, _applied, RowCount);
        var config = TrainingHocon.FromJob(m.Config, m.JobId);
        if (m.Rehome)
        {
            TakeOver(m, config);
            return new EmbeddingsOpened(m.RequestId, partition, _applied, RowCount);
        }
        if (config.Embeddings.Count == 0)
            throw new ArgumentException($"job '{m.JobId}' has no training.embeddings: partition {partition} has no table to open.");
        Drop();
        CheckpointManifest? manifest = null;
        var directory = "";
        if (m.RestoreDirectory.Length > 0) (manifest, directory) = Checkpoints.Read(m.RestoreDirectory);
        try
        {
            foreach (var (type, spec) in config.Embeddings.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                if (!book.NodeTypes.Contains(new NodeType(type)))
                    throw new ArgumentException($"training.embeddings.{type}: the partition book has no node type '{type}'.");
                var held = NewSlabs(type, spec, config);
                if (manifest is not null)
                    for (var i = 0; i < held.Indexes.Length; i++) Checkpoints.ReadSlab(manifest, directory, held.Set.Slabs[i], held.Indexes[i]);
            }
            // A warm start (training.init_from): the earlier job's rows of every id both stores hold, by id.
            if (manifest is null && m.WarmFrom.Length > 0)
            {
                var (earlier, at) = Checkpoints.Read(m.WarmFrom);
                Checkpoints.CopyEmbeddingRows(earlier, at, type => _slabs.TryGetValue(type, out var h) ? h.Set.Slabs : null);
            }
        }
        catch
        {
            Drop();
            throw;
        }
        _job = m.JobId;
        _opened = (m.Clock, m.Attempt, m.RestoreDirectory);
        _applied = m.Clock;
        _attempt = m.Attempt;
        _handoff = HandoffPath(m.Config.CheckpointDir, m.JobId, partition);
        return new EmbeddingsOpened(m.RequestId, partition, _applied, RowCount);
    }

    private const uint HandoffMagic = 0x48454147; // "GAEH"

    /// <summary>
    /// Writes everything this partition holds of the job (rows, optimizer state, clocks, gradients not applied yet) to
    /// its hand-off file, for the node the partition moves to (<see cref="Open"/> with Rehome). Nothing held: nothing written.
    /// </summary>
    public void HandOff()
    {
        if (_job.Length == 0 || _handoff.Length == 0) return;
        Directory.CreateDirectory(Path.GetDirectoryName(_handoff)!);
        GraphActors.Graph.AtomicFile.Write(_handoff, tmp =>
        {
            using var stream = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
            using var w = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
            w.Write(HandoffMagic);
            w.Write(_job);
            w.Write(_opened.Clock);
            w.Write(_opened.Attempt);
            w.Write(_opened.Restore);
            w.Write(_applied);
            w.Write(_attempt);
            // One entry per slab, a type's in range order (one per type on a store partitioned in full).
            w.Write(_slabs.Values.Sum(h => h.Set.Slabs.Count));
            foreach (var (type, held) in _slabs.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                foreach (var slab in held.Set.Slabs)
                {
                    w.Write(type);
                    w.Flush();
                    slab.WriteTo(stream);
                }
            w.Write(_pending.Count);
            foreach (var (clock, parts) in _pending)
            {
                w.Write(clock);
                w.Write(parts.Count);
                foreach (var ((type, piece, part), (ids, gradients)) in parts)
                {
                    w.Write(type);
                    w.Write(piece);
                    w.Write(part);
                    w.Write(ids.Length);
                    foreach (var id in ids) w.Write(id);
                    w.Write(gradients.Length);
                    w.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(gradients.AsSpan()));
                }
            }
        });
    }

    // The tables this partition's previous host handed off (the partition moved while the job ran); the file is used once.
    private void TakeOver(OpenEmbeddings m, TrainingConfig config)
    {
        var path = HandoffPath(m.Config.CheckpointDir, m.JobId, partition);
        if (!File.Exists(path))
            throw new InvalidOperationException($"job '{m.JobId}' has no embedding tables on partition {partition} and no hand-off at {path}: " +
                "the partition's previous host stopped without handing its rows over (a crash); resume the job from its last checkpoint.");
        Drop();
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
            using var r = new BinaryReader(stream, System.Text.Encoding.UTF8, leaveOpen: true);
            if (r.ReadUInt32() != HandoffMagic) throw new InvalidDataException($"{path}: not an embedding hand-off file.");
            var job = r.ReadString();
            if (job != m.JobId) throw new InvalidDataException($"{path}: holds job '{job}', not '{m.JobId}'.");
            _opened = (r.ReadInt64(), r.ReadInt64(), r.ReadString());
            _applied = r.ReadInt64();
            _attempt = r.ReadInt64();
            var slabs = r.ReadInt32();
            var read = new Dictionary<string, int>(StringComparer.Ordinal);
            for (var i = 0; i < slabs; i++)
            {
                var type = r.ReadString();
                if (!config.Embeddings.TryGetValue(type, out var spec))
                    throw new InvalidDataException($"{path}: holds a table of '{type}', which job '{m.JobId}' does not embed.");
                // A type's first entry makes its slabs; each entry fills the next one (the header must match its range).
                if (!_slabs.TryGetValue(type, out var held)) (held, read[type]) = (NewSlabs(type, spec, config), 0);
                var next = read[type]++;
                if (next >= held.Set.Slabs.Count)
                    throw new InvalidDataException($"{path}: holds more slabs of '{type}' than partition {partition} owns ranges ({held.Set.Describe()}).");
                held.Set.Slabs[next].ReadFrom(stream, path);
            }
            var steps = r.ReadInt32();
            for (var i = 0; i < steps; i++)
            {
                var clock = r.ReadInt64();
                var parts = r.ReadInt32();
                var step = _pending[clock] = new(PartOrder.Instance);
                for (var j = 0; j < parts; j++)
                {
                    var key = (r.ReadString(), r.ReadInt32(), r.ReadInt32());
                    var ids = new int[r.ReadInt32()];
                    for (var k = 0; k < ids.Length; k++) ids[k] = r.ReadInt32();
                    var gradients = new float[r.ReadInt32()];
                    r.BaseStream.ReadExactly(System.Runtime.InteropServices.MemoryMarshal.AsBytes(gradients.AsSpan()));
                    step[key] = (ids, gradients);
                }
            }
        }
        catch (EndOfStreamException)
        {
            Drop();
            throw new InvalidDataException($"{path}: ends early; the hand-off file is truncated.");
        }
        catch
        {
            Drop();
            throw;
        }
        _job = m.JobId;
        _handoff = path;
        File.Delete(path);
    }

    // This partition's slabs of a type, one per range it owns (ranges s ≡ partition mod N of the type's ranges, the
    // empty ones included, as local mode keeps them), each started from the job's seed as local mode's slab s is.
    private Held NewSlabs(string type, EmbeddingSpec spec, TrainingConfig config)
    {
        var boundaries = book.For(new NodeType(type)).RangeBoundaries();
        var slabs = new List<EmbeddingSlab>();
        var indexes = new List<int>();
        try
        {
            for (var s = partition; s < boundaries.Length - 1; s += book.Parts)
            {
                slabs.Add(new EmbeddingSlab(spec, type, boundaries[s], boundaries[s + 1] - boundaries[s], (ulong)config.Seed));
                indexes.Add(s);
            }
        }
        catch
        {
            foreach (var slab in slabs) slab.Dispose();
            throw;
        }
        return _slabs[type] = new Held(new SlabSet(slabs, $"partition {partition}"), [.. indexes]);
    }

    public IPartitionResponse Rows(GetEmbeddingRows m)
    {
        var slabs = Table(m.JobId, m.Type);
        Catch(m.Attempt, m.AttemptFrom);
        ApplyBelow(m.Clock);
        var data = new float[(long)m.Ids.Length * slabs.Dim];
        slabs.Gather(m.Ids, data);
        return new FeaturesResult(m.RequestId, partition, m.Ids.Length, slabs.Dim, data);
    }

    public IPartitionResponse Push(PushEmbeddingGradients m)
    {
        var slabs = Table(m.JobId, m.Type);
        if (m.Attempt < _attempt) return new EmbeddingGradientsTaken(m.RequestId, partition, 0); // a superseded attempt's step
        Catch(m.Attempt, m.AttemptFrom);
        if (m.Clock < _applied)
            throw new InvalidOperationException($"gradients of '{m.Type}' for step {Describe(m.Clock)} (piece {m.Piece}) arrived after " +
                $"partition {partition} applied the steps below {Describe(_applied)}: they would be lost.");
        if (m.Gradients.Length != (long)m.Ids.Length * slabs.Dim)
            throw new ArgumentException($"{m.Gradients.Length} gradient values for {m.Ids.Length} rows of '{m.Type}' × {slabs.Dim}.");
        foreach (var id in m.Ids)
            if (!slabs.Holds(id))
                throw new ArgumentException($"node {id} of '{m.Type}' is not owned by partition {partition} (ids {slabs.Describe()}).");
        if (!_pending.TryGetValue(m.Clock, out var step)) _pending[m.Clock] = step = new(PartOrder.Instance);
        step[(m.Type, m.Piece, m.Part)] = (m.Ids, m.Gradients);
        return new EmbeddingGradientsTaken(m.RequestId, partition, m.Ids.Length);
    }

    public IPartitionResponse Write(WriteEmbeddings m)
    {
        // The job's last checkpoint released the tables; a second writer of that checkpoint (the first failed after the
        // owners wrote) gets the files already there, as long as they are.
        if (_released is { } r && r.Job == m.JobId && r.Directory == m.Directory && r.Clock == m.Clock && _job != m.JobId
            && r.Answer.Files.All(f => File.Exists(Path.Combine(m.Directory, f))))
            return r.Answer with { RequestId = m.RequestId };
        Holds(m.JobId);
        Catch(m.Attempt, m.AttemptFrom);
        ApplyBelow(m.Clock);
        var files = _slabs.Values.SelectMany(h => h.Set.Slabs.Select((s, i) => Checkpoints.WriteSlab(m.Directory, s, h.Indexes[i]))).ToArray();
        var answer = new EmbeddingsWritten(m.RequestId, partition, files.Select(f => f.Type).ToArray(), files.Select(f => f.File).ToArray(),
            files.Select(f => f.Sha256).ToArray(), files.Select(f => f.Partition).ToArray());
        if (m.Release)
        {
            Drop();
            _released = (m.JobId, m.Directory, m.Clock, answer);
        }
        return answer;
    }

    private SlabSet Table(string job, string type)
    {
        Holds(job);
        return _slabs.TryGetValue(type, out var h) ? h.Set : throw new KeyNotFoundException($"job '{job}' has no embedding for node type '{type}'.");
    }

    // The partition holds the job's tables, or the refusal says why (the trainer reopens them on NotHeld).
    private void Holds(string job)
    {
        if (job != _job)
            throw new InvalidOperationException(_job.Length == 0
                ? $"job '{job}' {NotHeld} {partition}: they were not opened here (the partition moved since; the trainer reopens them from the hand-off)."
                : $"job '{job}' {NotHeld} {partition}: it holds job '{_job}'.");
    }

    // A newer attempt of the epoch re-trains from its start clock: what older attempts sent from there on is void.
    private void Catch(long attempt, long from)
    {
        if (attempt <= _attempt) return;
        _attempt = attempt;
        foreach (var clock in _pending.Keys.Where(c => c >= from).ToList()) _pending.Remove(clock);
    }

    private void ApplyBelow(long clock)
    {
        while (_pending.Count > 0)
        {
            var (first, parts) = _pending.First();
            if (first >= clock) break;
            _pending.Remove(first);
            foreach (var group in parts.GroupBy(kv => kv.Key.Type))
                ApplySum(_slabs[group.Key].Set, group.Select(kv => kv.Value));
        }
        if (clock > _applied) _applied = clock;
    }

    // One optimizer step on the step's rows: a row named by several pieces gets the sum of their (already weighted)
    // gradients, added in piece order, into one buffer for the step.
    private static void ApplySum(SlabSet slabs, IEnumerable<(int[] Ids, float[] Gradients)> parts)
    {
        var dim = slabs.Dim;
        var list = parts.ToList();
        var total = 0;
        foreach (var (partIds, _) in list) total += partIds.Length;
        var index = new Dictionary<int, int>(total);
        var ids = new int[total];
        var sums = new float[(long)total * dim];
        var n = 0;
        foreach (var (partIds, gradients) in list)
        {
            for (var i = 0; i < partIds.Length; i++)
            {
                if (!index.TryGetValue(partIds[i], out var u))
                {
                    u = n++;
                    index[partIds[i]] = u;
                    ids[u] = partIds[i];
                }
                var sum = sums.AsSpan(u * dim, dim);
                var g = gradients.AsSpan(i * dim, dim);
                for (var j = 0; j < dim; j++) sum[j] += g[j];
            }
        }
        slabs.ApplyDistinct(ids.AsSpan(0, n), sums.AsSpan(0, n * dim));
    }

    private static string Describe(long clock) => $"{clock >> 32}:{(uint)clock}";

    private void Drop()
    {
        foreach (var h in _slabs.Values) h.Set.Dispose();
        _slabs.Clear();
        _pending.Clear();
        _job = "";
        _handoff = "";
        _opened = (-1, -1, "");
    }

    public void Dispose() => Drop();

    private sealed class PartOrder : IComparer<(string Type, int Piece, int Part)>
    {
        public static readonly PartOrder Instance = new();

        public int Compare((string Type, int Piece, int Part) x, (string Type, int Piece, int Part) y)
        {
            var c = string.CompareOrdinal(x.Type, y.Type);
            if (c != 0) return c;
            c = x.Piece.CompareTo(y.Piece);
            return c != 0 ? c : x.Part.CompareTo(y.Part);
        }
    }
}
