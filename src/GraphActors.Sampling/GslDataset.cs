// Runs a GSL query batch by batch; enumeration is one epoch, like GraphLearn's Dataset until OutOfRangeError (or endless after shuffle()).
using System.Collections;
using GraphActors.Graph;

namespace GraphActors.Sampling;

/// <summary>
/// The batches of a GSL query. <c>foreach</c> runs one epoch and ends; <see cref="TryNext"/> / <see cref="Next"/>
/// walk the same epochs with a cursor and report the end of each (Next throws <see cref="OutOfRangeException"/>),
/// after which the following call starts the next epoch. A source with <c>Shuffle()</c> (traverse false) is
/// <see cref="Endless"/>: every batch draws its sources with replacement, <c>foreach</c> never ends and the cursor
/// never reports an end, as GraphLearn's never raises OutOfRangeError. Batch b of epoch e draws from its own random
/// stream (seed, e, b), so results do not depend on how batches are consumed. Not thread-safe: one consumer per dataset.
/// A query over a graph store (<see cref="GslStore"/>) walks this task's share of the sources and builds each batch with
/// the store's batched calls (<see cref="GslStoreExecutor"/>), waiting for them on the thread that builds it.
/// <para>
/// With <see cref="GslOptions.Window"/> &gt; 0 (GraphLearn's <c>gl.Dataset(query, window=N)</c>) a background task
/// builds the cursor's batches up to N ahead; they are the same batches, in the same order, as without it. The
/// cursor and <c>foreach</c> then read that one stream: a <c>foreach</c> runs from where the cursor stands to the end
/// of its epoch (without a window it always starts a fresh epoch). A failure while building surfaces at the
/// <see cref="Next"/> (or <c>foreach</c> step) that would have returned the batch, and at every call after. Dispose the
/// dataset to stop the task.
/// </para>
/// </summary>
public sealed class GslDataset : IEnumerable<GslBatch>, IDisposable
{
    private readonly QueryPlan _plan;
    private readonly GslOptions _options;
    private readonly GslQuery[] _steps;
    private readonly int[] _executionOrder;
    private readonly ConditionalNegativeSampler?[] _conditional;
    private readonly int _sourceCount;
    private readonly SampleBuffer _buffer = new();
    private int _epochsStarted;
    private int _cursorEpoch = -1;
    private int _cursorBatch;
    private int[]? _order;
    private int _orderEpoch = -1;
    private readonly GslPrefetcher? _prefetch;
    private readonly GslStoreExecutor? _store;
    private bool _disposed;

    internal GslDataset(QueryPlan plan, GslOptions options)
    {
        _plan = plan;
        _options = options;
        _steps = plan.Steps.ToArray();
        _executionOrder = plan.ExecutionOrder();
        _conditional = new ConditionalNegativeSampler?[_steps.Length];
        var root = _steps[0];
        if (plan.Store is not null)
        {
            _store = new GslStoreExecutor(plan, options, _steps, _executionOrder);
            _sourceCount = _store.SourceCount;
        }
        else _sourceCount = plan.SourceSet?.Length ?? (root.Kind == StepKind.SourceNodes ? plan.Graph.Nodes(root.NodeType).Count : root.EdgeData!.Count);
        Endless = plan.Order == SourceOrder.WithReplacement;
        if (Endless && _sourceCount == 0)
            throw new InvalidOperationException($"{root.Description} has nothing to draw: Shuffle() samples sources with replacement from an empty set.");
        BatchesPerEpoch = Endless ? -1 : (_sourceCount + plan.BatchSize - 1) / plan.BatchSize;
        if (options.Window < 0)
            throw new ArgumentOutOfRangeException(nameof(options), options.Window, "GslOptions.Window is 0 (no prefetch) or the number of batches to build ahead.");
        if (options.Window > 0)
            _prefetch = new GslPrefetcher(options.Window, options.PrefetchTimeout, Endless, BatchesPerEpoch, Build);
    }

    /// <summary>Batches built ahead by a background task (GraphLearn's <c>window</c>); 0 when batches are built on demand.</summary>
    public int Window => _options.Window;

    /// <summary>True while the prefetch task runs.</summary>
    internal bool Prefetching => _prefetch?.Running ?? false;

    public int BatchSize => _plan.BatchSize;

    /// <summary>Batches per epoch; -1 when <see cref="Endless"/>.</summary>
    public int BatchesPerEpoch { get; }

    /// <summary>Sources drawn with replacement (GraphLearn's <c>shuffle(traverse=False)</c>): batches never run out.</summary>
    public bool Endless { get; }

    /// <summary>Epochs begun so far, by enumeration or by the cursor.</summary>
    public int EpochsStarted => _epochsStarted;

    public IEnumerator<GslBatch> GetEnumerator()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_prefetch is not null)
        {
            // One prefetched stream: the rest of the cursor's epoch (a whole one when it stands at an epoch's start).
            while (TryNext(out var next)) yield return next;
            yield break;
        }
        var epoch = _epochsStarted++;
        for (var b = 0; Endless || b < BatchesPerEpoch; b++) yield return Build(epoch, b);
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>The next batch of the cursor's epoch; false once at its end (the call after that starts a new epoch).</summary>
    public bool TryNext(out GslBatch batch)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_cursorEpoch < 0)
        {
            _cursorEpoch = _epochsStarted++;
            _cursorBatch = 0;
        }
        if (_prefetch is not null)
        {
            // The prefetch task numbers epochs from 0 in the same order, so its marks fall where the cursor's would.
            var next = _prefetch.Take($"batch {_cursorBatch} of epoch {_cursorEpoch}");
            if (next is null)
            {
                _cursorEpoch = -1;
                batch = null!;
                return false;
            }
            _cursorBatch++;
            batch = next;
            return true;
        }
        if (!Endless && _cursorBatch >= BatchesPerEpoch)
        {
            _cursorEpoch = -1;
            batch = null!;
            return false;
        }
        batch = Build(_cursorEpoch, _cursorBatch++);
        return true;
    }

    public GslBatch Next() =>
        TryNext(out var batch) ? batch
            : throw new OutOfRangeException(
                $"End of epoch: all {_sourceCount} sources were visited in {BatchesPerEpoch} batches. The next call starts a new epoch.");

    /// <summary>Stops the prefetch task (if any) and waits for it; the dataset cannot be read afterwards.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _prefetch?.Dispose();
    }

    // Called by one thread at a time: the reader without a window, the prefetch task with one.
    private GslBatch Build(int epoch, int batchIndex)
    {
        var rng = Xoshiro256.ForStream(_options.Seed, (ulong)epoch, (ulong)batchIndex);
        if (_store is not null)
        {
            // Over a store every step draws from a seed of the batch's stream; the store keys each row by it and the node.
            var picked = Pick(epoch, batchIndex, ref rng);
            var seeds = new ulong[_steps.Length];
            for (var i = 0; i < seeds.Length; i++) seeds[i] = rng.NextUInt64();
            return _store.BuildAsync(epoch, batchIndex, picked, seeds).GetAwaiter().GetResult();
        }
        var results = new AliasResult[_steps.Length];
        foreach (var i in _executionOrder)
        {
            var step = _steps[i];
            var parent = step.Parent is null ? null : results[step.Parent.Index];
            results[i] = step.Kind switch
            {
                StepKind.SourceNodes or StepKind.SourceEdges => Source(step, epoch, batchIndex, ref rng),
                StepKind.HopNodes or StepKind.HopEdges => Hop(step, (NodeResult)parent!, ref rng),
                StepKind.Negative when step.WhereTarget is { } target =>
                    ConditionalNegative(step, (NodeResult)parent!, (NodeResult)results[target.Index], ref rng),
                StepKind.Negative => Negative(step, (NodeResult)parent!, ref rng),
                StepKind.NodeNegative => NodeNegative(step, (NodeResult)parent!, ref rng),
                StepKind.Endpoint => Endpoint(step, (EdgeResult)parent!),
                _ => throw new InvalidOperationException($"Unknown step {step.Description}."),
            };
        }
        var byAlias = new Dictionary<string, AliasResult>(_steps.Length, StringComparer.Ordinal);
        for (var i = 0; i < _steps.Length; i++) byAlias.Add(_steps[i].AliasName!, results[i]);
        return new GslBatch(epoch, batchIndex, byAlias);
    }

    /// <summary>Positions in the source set of batch <paramref name="batchIndex"/> of <paramref name="epoch"/>, by the source order.</summary>
    private int[] Pick(int epoch, int batchIndex, ref Xoshiro256 rng)
    {
        var start = batchIndex * _plan.BatchSize;
        var n = Endless ? _plan.BatchSize : Math.Min(_plan.BatchSize, _sourceCount - start);
        var picked = new int[n];
        switch (_plan.Order)
        {
            case SourceOrder.WithReplacement: for (var i = 0; i < n; i++) picked[i] = rng.NextInt(_sourceCount); break;
            case SourceOrder.Traverse: Order(epoch).AsSpan(start, n).CopyTo(picked); break;
            default: for (var i = 0; i < n; i++) picked[i] = start + i; break;
        }
        return picked;
    }

    private AliasResult Source(GslQuery step, int epoch, int batchIndex, ref Xoshiro256 rng)
    {
        var picked = Pick(epoch, batchIndex, ref rng);
        var n = picked.Length;

        if (step.Kind == StepKind.SourceNodes)
        {
            if (_plan.SourceSet is not { } set)
                return new NodeResult(step.AliasName!, _plan.Graph.Nodes(step.NodeType), picked, _options.DefaultNeighborId, n, 0, null);
            // A chosen source set (feed, node_from): picked are positions in it. Fed ids are reported as fed, held or not.
            var dense = new int[n];
            for (var i = 0; i < n; i++) dense[i] = set[picked[i]];
            long[]? fed = null;
            if (_plan.SourceIds is { } ids)
            {
                fed = new long[n];
                for (var i = 0; i < n; i++) fed[i] = ids[picked[i]];
            }
            return new NodeResult(step.AliasName!, _plan.Graph.Nodes(step.NodeType), dense, _options.DefaultNeighborId, n, 0, null, businessIds: fed);
        }

        // Edge ids are out-CSR positions, so an edge's source is the row whose range holds it.
        var edges = step.EdgeData!;
        var neighbors = edges.Out.Neighbors;
        var src = new int[n];
        var dst = new int[n];
        for (var i = 0; i < n; i++)
        {
            var e = picked[i];
            src[i] = edges.Out.RowOfEntry(e);
            dst[i] = neighbors[e];
        }
        return new EdgeResult(step.AliasName!, edges, false, src, dst, picked,
            _plan.Graph.Nodes(edges.Type.Src), _plan.Graph.Nodes(edges.Type.Dst), _options.DefaultNeighborId, n, 0, null);
    }

    private AliasResult Hop(GslQuery step, NodeResult parent, ref Xoshiro256 rng)
    {
        var edges = step.EdgeData!;
        var csr = edges.Direction(step.Incoming);
        var strategy = StrategyNames.ParseNeighbor(step.StrategyName!);
        var from = parent.DenseIds;

        // Padding slots of the parent (dense -1) have no neighbours: sample the real ones, then lay rows out again.
        var seeds = new int[from.Length];
        var m = 0;
        foreach (var d in from) if (d >= 0) seeds[m++] = d;
        // One stream through the batch, as GraphLearn draws: a node listed twice (hop 2 over repeated hop-1 ids) is sampled twice, independently.
        var random = KernelRandom.Sequential(rng);
        NeighborSampler.Sample(csr, seeds.AsSpan(0, m), step.K, strategy, ref random, _buffer, edges.Data.Weights.Span, edges.Direction(!step.Incoming));
        rng = random.Stream;

        int[] far, edgeIds;
        int[]? offsets = null;
        int width;
        if (strategy == SamplingStrategy.Full)
        {
            // Sample(k) caps a row at its first k neighbours (GraphLearn's truncation); no Sample(k) keeps them all.
            var cap = step.K > 0 ? step.K : int.MaxValue;
            offsets = new int[from.Length + 1];
            var row = 0;
            for (var i = 0; i < from.Length; i++)
                offsets[i + 1] = offsets[i] + (from[i] >= 0 ? Math.Min(cap, _buffer.CountOf(row++)) : 0);
            far = new int[offsets[^1]];
            edgeIds = new int[offsets[^1]];
            row = 0;
            for (var i = 0; i < from.Length; i++)
            {
                if (from[i] < 0) continue;
                var count = offsets[i + 1] - offsets[i];
                _buffer.NeighborsOf(row)[..count].CopyTo(far.AsSpan(offsets[i]));
                _buffer.EdgeIdsOf(row++)[..count].CopyTo(edgeIds.AsSpan(offsets[i]));
            }
            width = -1;
        }
        else
        {
            var k = step.K;
            width = k;
            far = new int[from.Length * k];
            edgeIds = new int[from.Length * k];
            var row = 0;
            for (var i = 0; i < from.Length; i++)
            {
                var dst = far.AsSpan(i * k, k);
                var dstEdges = edgeIds.AsSpan(i * k, k);
                if (from[i] >= 0)
                    Padding.PadRow(_buffer.NeighborsOf(row), _buffer.EdgeIdsOf(row++), _options.Padding, -1, dst, dstEdges);
                else
                {
                    dst.Fill(-1);
                    dstEdges.Fill(-1);
                }
            }
        }

        var graph = _plan.Graph;
        var farType = step.Incoming ? edges.Type.Src : edges.Type.Dst;
        if (step.Kind == StepKind.HopNodes)
            return new NodeResult(step.AliasName!, graph.Nodes(farType), far, _options.DefaultNeighborId, from.Length, width, offsets,
                cap: Math.Max(0, step.K));

        // Edges keep their walker on the Src side: repeat each parent id over its row.
        var near = new int[far.Length];
        for (var i = 0; i < from.Length; i++)
        {
            var (a, b) = offsets is null ? (i * width, (i + 1) * width) : (offsets[i], offsets[i + 1]);
            near.AsSpan(a, b - a).Fill(from[i]);
        }
        return new EdgeResult(step.AliasName!, edges, step.Incoming, near, far, edgeIds,
            graph.Nodes(step.NodeType), graph.Nodes(farType), _options.DefaultNeighborId, from.Length, width, offsets, Math.Max(0, step.K));
    }

    private NodeResult Negative(GslQuery step, NodeResult parent, ref Xoshiro256 rng)
    {
        var edges = step.EdgeData!;
        var strategy = StrategyNames.ParseNegative(step.StrategyName!);
        var exclude = step.ExcludeNeighbors ?? strategy != NegativeStrategy.Random;
        var adjacency = edges.Direction(step.Incoming);
        var candidates = edges.Direction(!step.Incoming);
        // GraphLearn's candidates are the ids the edge type reaches, so even random never draws a node without an edge here.
        var table = strategy switch
        {
            NegativeStrategy.InDegree => NegativeSampler.RawDegreeTable(candidates, edges),
            NegativeStrategy.SmoothedInDegree => NegativeSampler.DegreeTable(candidates, edges),
            _ => NegativeSampler.EdgeEndTable(candidates, edges),
        };
        var output = new int[parent.DenseIds.Length * step.K];
        var random = KernelRandom.Sequential(rng);
        var stats = NegativeSampler.Sample(adjacency, parent.DenseIds, candidates.RowCount, table, step.K, exclude, ref random, output,
            _options.MaxNegativeRetries);
        rng = random.Stream;
        var farType = step.Incoming ? edges.Type.Src : edges.Type.Dst;
        return new NodeResult(step.AliasName!, _plan.Graph.Nodes(farType), output, _options.DefaultNeighborId,
            parent.DenseIds.Length, step.K, null, stats);
    }

    // GraphLearn's where(target, condition): row i pairs source i with positive i (a ragged hop can break the pairing, checked here).
    private NodeResult ConditionalNegative(GslQuery step, NodeResult parent, NodeResult positives, ref Xoshiro256 rng)
    {
        if (positives.Count != parent.Count)
            throw new InvalidOperationException(
                $"{step.Description}.Where(\"{positives.Alias}\") ('{step.AliasName}'): this batch has {parent.Count} sources in '{parent.Alias}' but " +
                $"{positives.Count} positives in '{positives.Alias}'; row i pairs source i with positive i.");
        var edges = step.EdgeData!;
        var sampler = _conditional[step.Index] ??= new ConditionalNegativeSampler(edges, step.Incoming,
            StrategyNames.ParseNegative(step.StrategyName!), _plan.Graph.Nodes(step.NodeType), step.Condition!);
        var output = new int[parent.DenseIds.Length * step.K];
        var stats = sampler.Sample(parent.DenseIds, positives.DenseIds, step.K, ref rng, output, _options.MaxNegativeRetries);
        return new NodeResult(step.AliasName!, _plan.Graph.Nodes(step.NodeType), output, _options.DefaultNeighborId,
            parent.DenseIds.Length, step.K, null, stats);
    }

    // GraphLearn's Neg(node_type).by("node_weight"): nodes ∝ weight, redrawn while they are one of the batch's source ids.
    private NodeResult NodeNegative(GslQuery step, NodeResult parent, ref Xoshiro256 rng)
    {
        var nodes = _plan.Graph.Nodes(step.NodeType);
        var table = NegativeSampler.NodeWeightTable(nodes);
        var sources = new HashSet<long>(parent.Ids.Length);
        for (var i = 0; i < parent.Ids.Length; i++) if (parent.DenseIds[i] >= 0) sources.Add(parent.Ids[i]);
        var ids = nodes.Ids;
        var output = new int[parent.DenseIds.Length * step.K];
        int redrawn = 0, unresolved = 0;
        for (var j = 0; j < output.Length; j++)
        {
            var c = table.Next(ref rng);
            var tries = 0;
            while (sources.Contains(ids.ToBusiness(c)) && tries < _options.MaxNegativeRetries)
            {
                c = table.Next(ref rng);
                tries++;
            }
            redrawn += tries;
            if (tries == _options.MaxNegativeRetries && sources.Contains(ids.ToBusiness(c))) unresolved++;
            output[j] = c;
        }
        return new NodeResult(step.AliasName!, nodes, output, _options.DefaultNeighborId, parent.DenseIds.Length, step.K, null,
            new NegativeSampleStats(output.Length, redrawn, unresolved));
    }

    private NodeResult Endpoint(GslQuery step, EdgeResult parent)
    {
        var ids = step.Incoming ? parent.DstDenseIds : parent.SrcDenseIds;
        return new NodeResult(step.AliasName!, _plan.Graph.Nodes(step.NodeType), ids, _options.DefaultNeighborId,
            parent.Rows, parent.Width, parent.Offsets, cap: parent.Cap);
    }

    private int[] Order(int epoch)
    {
        if (_orderEpoch == epoch) return _order!;
        var order = _order ?? new int[_sourceCount];
        for (var i = 0; i < order.Length; i++) order[i] = i;
        var rng = Xoshiro256.ForStream(_options.Seed, (ulong)epoch, ulong.MaxValue); // a stream no batch uses
        for (var i = order.Length - 1; i > 0; i--)
        {
            var j = rng.NextInt(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        _order = order;
        _orderEpoch = epoch;
        return order;
    }
}
