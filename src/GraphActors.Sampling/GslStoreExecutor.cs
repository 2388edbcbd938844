// Runs a GSL query's steps over a graph store: one batched store call per step per batch, results shaped as local mode's.
using GraphActors.Contracts;
using GraphActors.Graph;

namespace GraphActors.Sampling;

/// <summary>
/// Builds the batches of a query over a <see cref="GslStore"/>. Each step is one store call for the whole batch
/// (neighbours with the sampled edges' columns, negatives), and each node step gathers its columns (weights, labels, int,
/// float and string attributes) with one call and its business ids with another, so a partitioned store asks every
/// partition at most once per call. Neg(nodeType) and Where() draw here, from tables read from the store once per
/// dataset (node weights; candidates' degrees and attribute columns), and Where's true-neighbour check asks for the
/// batch's sources' neighbours in one call per batch. Step s of batch b in epoch e draws with a seed taken
/// from the batch's stream (seed, e, b), and the store keys each row's draws by that seed and the node's id; a node
/// listed twice in one step therefore gets the same draws twice (local mode draws them independently). The sources
/// (the task's share, in business id order) are fetched from the store once, on the first batch.
/// </summary>
internal sealed class GslStoreExecutor
{
    private readonly QueryPlan _plan;
    private readonly GslStore _gsl;
    private readonly IGraphStore _store;
    private readonly GslOptions _options;
    private readonly GslQuery[] _steps;
    private readonly int[] _executionOrder;
    private readonly object?[] _tables;
    private SourceTable? _sources;

    /// <summary>A task's share of the sources: store ids and business ids (and the far ends and handles for edges), in walk order.</summary>
    private sealed record SourceTable(int[] Ids, long[] BusinessIds, int[]? DstIds, long[]? DstBusinessIds, long[]? Handles = null);

    /// <summary>The columns a node step gathers: everything a node has.</summary>
    private const ColumnSet NodeColumns = ColumnSet.Weights | ColumnSet.Labels | ColumnSet.Ints | ColumnSet.Floats | ColumnSet.Strings;

    public GslStoreExecutor(QueryPlan plan, GslOptions options, GslQuery[] steps, int[] executionOrder)
    {
        _plan = plan;
        _gsl = plan.Store!;
        // One store version for the whole dataset (a cluster's reload may switch versions meanwhile): its shares, tables
        // and every batch read the same one.
        _store = _gsl.Store is IVersionedGraphStore versioned ? versioned.Pin() : _gsl.Store;
        _options = options;
        _steps = steps;
        _executionOrder = executionOrder;
        _tables = new object?[steps.Length];
        foreach (var s in steps)
            // Plain negatives are drawn by the partitions, with their own cap; Where() and Neg() draw here and take the option.
            if (s.Kind == StepKind.Negative && s.WhereTarget is null && options.MaxNegativeRetries != NegativeSampler.DefaultMaxRetries)
                throw new NotSupportedException(
                    $"{s.Description} ('{s.AliasName}'): a graph store redraws a true neighbour up to {NegativeSampler.DefaultMaxRetries} times, " +
                    $"its own cap; GslOptions.MaxNegativeRetries = {options.MaxNegativeRetries} applies to local graphs only.");
        var root = steps[0];
        long total = plan.SourceIds is { } fed ? fed.Length
            : root.Kind == StepKind.SourceNodes ? _store.Schema.Node(root.NodeType).Count
            : _store.Schema.Edge(root.EdgeType!.Value).Count;
        var share = plan.SourceIds is not null ? total : ShareSize(total);
        if (share > int.MaxValue) throw new NotSupportedException($"{root.Description}: {share} sources in one task's share; at most {int.MaxValue}.");
        SourceCount = (int)share;
        if (plan.ChosenSources is not null)
        {
            // A mask or node_from set: how many there are is known only from the store, and the dataset needs it now.
            _sources = LoadSourcesAsync().GetAwaiter().GetResult();
            SourceCount = _sources.Ids.Length;
        }
    }

    /// <summary>How many sources this task walks per epoch (its share, or the fed ids).</summary>
    public int SourceCount { get; }

    private long ShareSize(long total) => total > _gsl.TaskIndex ? (total - _gsl.TaskIndex - 1) / _gsl.TaskCount + 1 : 0;

    /// <summary>One batch; <paramref name="picked"/> are positions in the share, <paramref name="seeds"/> one per step.</summary>
    public async Task<GslBatch> BuildAsync(int epoch, int batchIndex, int[] picked, ulong[] seeds)
    {
        var sources = _sources ??= await LoadSourcesAsync().ConfigureAwait(false);
        var results = new AliasResult[_steps.Length];
        foreach (var i in _executionOrder)
        {
            var step = _steps[i];
            var parent = step.Parent is null ? null : results[step.Parent.Index];
            results[i] = step.Kind switch
            {
                StepKind.SourceNodes => await SourceNodesAsync(step, sources, picked).ConfigureAwait(false),
                StepKind.SourceEdges => await SourceEdgesAsync(step, sources, picked).ConfigureAwait(false),
                StepKind.HopNodes or StepKind.HopEdges => await HopAsync(step, (NodeResult)parent!, seeds[i]).ConfigureAwait(false),
                StepKind.Negative when step.WhereTarget is { } target =>
                    await ConditionalNegativeAsync(step, (NodeResult)parent!, (NodeResult)results[target.Index], seeds[i]).ConfigureAwait(false),
                StepKind.Negative => await NegativeAsync(step, (NodeResult)parent!, seeds[i]).ConfigureAwait(false),
                StepKind.NodeNegative => await NodeNegativeAsync(step, (NodeResult)parent!, seeds[i]).ConfigureAwait(false),
                StepKind.Endpoint => await EndpointAsync(step, (EdgeResult)parent!).ConfigureAwait(false),
                _ => throw new NotSupportedException($"{step.Description} does not run over a graph store."),
            };
        }
        var byAlias = new Dictionary<string, AliasResult>(_steps.Length, StringComparer.Ordinal);
        for (var i = 0; i < _steps.Length; i++) byAlias.Add(_steps[i].AliasName!, results[i]);
        return new GslBatch(epoch, batchIndex, byAlias);
    }

    private async Task<SourceTable> LoadSourcesAsync()
    {
        var root = _steps[0];
        if (_plan.SourceIds is { } fed)
        {
            var ids = new int[fed.Length];
            await _store.LookupIdsAsync(root.NodeType, fed, ids).ConfigureAwait(false);
            return new SourceTable(ids, fed, null, null);
        }
        if (root.Kind == StepKind.SourceNodes)
        {
            var candidates = _plan.ChosenSources is { } chosen
                ? await ChosenAsync(root.NodeType, chosen).ConfigureAwait(false)
                : AllIds(_store.Schema.Node(root.NodeType).Count);
            var business = new long[candidates.Length];
            await _store.GetBusinessIdsAsync(root.NodeType, candidates, business).ConfigureAwait(false);
            Array.Sort(business, candidates);
            var ids = new int[ShareSize(candidates.Length)];
            var shareBusiness = new long[ids.Length];
            for (int r = _gsl.TaskIndex, j = 0; j < ids.Length; r += _gsl.TaskCount, j++)
            {
                ids[j] = candidates[r];
                shareBusiness[j] = business[r];
            }
            return new SourceTable(ids, shareBusiness, null, null);
        }

        var t = root.EdgeType!.Value;
        var edges = await _store.GetEdgesAsync(t).ConfigureAwait(false);
        var srcBusiness = new long[edges.Count];
        var dstBusiness = new long[edges.Count];
        await Task.WhenAll(
            _store.GetBusinessIdsAsync(t.Src, edges.Src, srcBusiness).AsTask(),
            _store.GetBusinessIdsAsync(t.Dst, edges.Dst, dstBusiness).AsTask()).ConfigureAwait(false);
        // Ordered by (source, destination) business id, so that no partitioning shows through.
        var order = new int[edges.Count];
        for (var i = 0; i < order.Length; i++) order[i] = i;
        Array.Sort(order, (a, b) =>
        {
            var c = srcBusiness[a].CompareTo(srcBusiness[b]);
            return c != 0 ? c : dstBusiness[a].CompareTo(dstBusiness[b]);
        });
        var src = new int[SourceCount];
        var dst = new int[SourceCount];
        var srcIds = new long[SourceCount];
        var dstIds = new long[SourceCount];
        var handles = edges.Handles is null ? null : new long[SourceCount];
        for (int r = _gsl.TaskIndex, j = 0; j < src.Length; r += _gsl.TaskCount, j++)
        {
            var e = order[r];
            src[j] = edges.Src[e];
            dst[j] = edges.Dst[e];
            srcIds[j] = srcBusiness[e];
            dstIds[j] = dstBusiness[e];
            if (handles is not null) handles[j] = edges.Handles![e];
        }
        return new SourceTable(src, srcIds, dst, dstIds, handles);
    }

    /// <summary>The store ids of a mask's set (the store's train/val/test set), or of the nodes with an edge of a type at one end.</summary>
    private async Task<int[]> ChosenAsync(NodeType type, ChosenSources chosen)
    {
        if (chosen.Split is { } split) return await _store.GetSplitAsync(type, split).ConfigureAwait(false);
        var all = AllIds(_store.Schema.Node(type).Count);
        var degrees = new int[all.Length];
        await _store.GetDegreesAsync(chosen.EdgeType!.Value, chosen.Incoming, all, degrees).ConfigureAwait(false);
        var count = 0;
        foreach (var d in degrees) if (d > 0) count++;
        var ids = new int[count];
        for (int i = 0, j = 0; i < degrees.Length; i++) if (degrees[i] > 0) ids[j++] = i;
        return ids;
    }

    private Task<NodeResult> SourceNodesAsync(GslQuery step, SourceTable sources, int[] picked)
    {
        var ids = new int[picked.Length];
        var business = new long[picked.Length];
        for (var i = 0; i < picked.Length; i++)
        {
            ids[i] = sources.Ids[picked[i]];
            business[i] = sources.BusinessIds[picked[i]];
        }
        return NodesAsync(step.AliasName!, step.NodeType, ids, business, picked.Length, 0, null, null, 0);
    }

    private async Task<EdgeResult> SourceEdgesAsync(GslQuery step, SourceTable sources, int[] picked)
    {
        var n = picked.Length;
        var src = new int[n];
        var dst = new int[n];
        var srcIds = new long[n];
        var dstIds = new long[n];
        var handles = sources.Handles is null ? null : new long[n];
        for (var i = 0; i < n; i++)
        {
            var p = picked[i];
            src[i] = sources.Ids[p];
            dst[i] = sources.DstIds![p];
            srcIds[i] = sources.BusinessIds[p];
            dstIds[i] = sources.DstBusinessIds![p];
            if (handles is not null) handles[i] = sources.Handles![p];
        }
        var t = step.EdgeType!.Value;
        if (handles is null)
        {
            var refused = new GatheredColumns(ElementColumns.None(n), null,
                $"Alias '{step.AliasName}': {step.Description} walks the edge list a graph store hands out, which carries no weights; " +
                $"walk the edges from their source nodes (V(\"{t.Src}\").OutE(\"{t.Relation}\")) to have them.");
            return new EdgeResult(step.AliasName!, t, false, src, dst, srcIds, dstIds, refused, n, 0, null);
        }
        var columns = await _store.GatherEdgeColumnsAsync(t, handles, ColumnSet.All).ConfigureAwait(false);
        return new EdgeResult(step.AliasName!, t, false, src, dst, srcIds, dstIds, new GatheredColumns(columns), n, 0, null,
            edgeIds: EdgeIdsOf(step, columns));
    }

    // GraphLearn's edge ids as GSL hands them out (int, as local mode's positions), when the store keeps them.
    private static int[]? EdgeIdsOf(GslQuery step, ElementColumns columns)
    {
        if (!columns.Has(ColumnSet.EdgeIds)) return null;
        var ids = new int[columns.Count];
        for (var i = 0; i < ids.Length; i++)
        {
            var id = columns.EdgeIds[i];
            if (id > int.MaxValue)
                throw new NotSupportedException($"'{step.AliasName}': edge id {id} of {step.EdgeType} does not fit GSL's int edge ids (local mode's limit too).");
            ids[i] = (int)id;
        }
        return ids;
    }

    private async Task<AliasResult> HopAsync(GslQuery step, NodeResult parent, ulong seed)
    {
        var t = step.EdgeType!.Value;
        var strategy = StrategyNames.ParseNeighbor(step.StrategyName!);
        var from = parent.DenseIds;
        var seeds = Compact(from);
        int[] far;
        float[] weights;
        int[]? offsets = null;
        int width;
        ElementColumns? edgeColumns = null;
        // Edges come with their columns in the same call; nodes gather theirs after (from the far ends' owners).
        var sampling = step.Kind == StepKind.HopEdges
            ? _store.SampleNeighborEdgesAsync(t, step.Incoming, seeds, Math.Max(1, step.K), strategy, seed, ColumnSet.All)
            : _store.SampleNeighborsAsync(t, step.Incoming, seeds, Math.Max(1, step.K), strategy, seed, withWeights: true);
        using (var sample = await sampling.ConfigureAwait(false))
        {
            int[] slots;
            if (strategy == SamplingStrategy.Full)
            {
                width = -1;
                (far, weights, offsets, slots) = LayOutRagged(sample, from, step.K > 0 ? step.K : int.MaxValue);
            }
            else
            {
                width = step.K;
                (far, weights, slots) = LayOutFixed(sample, from, step.K, _options.Padding);
            }
            if (sample.Edges is { } sampled) edgeColumns = ElementColumnsBuilder.Pick(sampled, slots);
        }

        var farType = step.Incoming ? t.Src : t.Dst;
        var cap = Math.Max(0, step.K);
        if (step.Kind == StepKind.HopNodes)
            return await NodesAsync(step.AliasName!, farType, far, null, from.Length, width, offsets, null, cap).ConfigureAwait(false);

        // Edges keep their walker on the Src side: repeat each parent over its row.
        var near = new int[far.Length];
        var nearIds = new long[far.Length];
        for (var i = 0; i < from.Length; i++)
        {
            var (a, b) = offsets is null ? (i * width, (i + 1) * width) : (offsets[i], offsets[i + 1]);
            near.AsSpan(a, b - a).Fill(from[i]);
            nearIds.AsSpan(a, b - a).Fill(parent.Ids[i]);
        }
        var farIds = await BusinessIdsAsync(farType, far).ConfigureAwait(false);
        var columns = edgeColumns ?? ElementColumns.None(far.Length);
        return new EdgeResult(step.AliasName!, t, step.Incoming, near, far, nearIds, farIds,
            new GatheredColumns(columns, _store.Schema.Edge(t).HasWeights ? weights : null), from.Length, width, offsets, cap, EdgeIdsOf(step, columns));
    }

    // Fixed width k: each row padded as local mode pads it; a padding slot (or a padding parent) has id -1 and weight 0.
    // Slots: the sample entry behind each output value (-1: padding), to lay the edges' columns out the same way.
    private static (int[] Far, float[] Weights, int[] Slots) LayOutFixed(NeighborSample sample, int[] from, int k, PaddingMode padding)
    {
        var far = new int[from.Length * k];
        var slots = new int[from.Length * k];
        var positions = Positions(sample.Count);
        var sampleOffsets = sample.Offsets;
        var neighbors = sample.Neighbors;
        var row = 0;
        for (var i = 0; i < from.Length; i++)
        {
            var dst = far.AsSpan(i * k, k);
            var dstSlots = slots.AsSpan(i * k, k);
            if (from[i] < 0)
            {
                dst.Fill(-1);
                dstSlots.Fill(-1);
                continue;
            }
            var (a, b) = (sampleOffsets[row], sampleOffsets[row + 1]);
            row++;
            Padding.PadRow(neighbors[a..b], positions.AsSpan(a, b - a), padding, -1, dst, dstSlots);
        }
        var weights = new float[far.Length];
        var sampled = sample.Weights;
        for (var j = 0; j < slots.Length; j++) weights[j] = slots[j] >= 0 ? sampled[slots[j]] : 0f;
        return (far, weights, slots);
    }

    // full: each row keeps its first cap neighbours; a padding parent has an empty row.
    private static (int[] Far, float[] Weights, int[] Offsets, int[] Slots) LayOutRagged(NeighborSample sample, int[] from, int cap)
    {
        var sampleOffsets = sample.Offsets;
        var offsets = new int[from.Length + 1];
        var row = 0;
        for (var i = 0; i < from.Length; i++)
        {
            var count = 0;
            if (from[i] >= 0)
            {
                count = Math.Min(cap, sampleOffsets[row + 1] - sampleOffsets[row]);
                row++;
            }
            offsets[i + 1] = offsets[i] + count;
        }
        var far = new int[offsets[^1]];
        var weights = new float[offsets[^1]];
        var slots = new int[offsets[^1]];
        var neighbors = sample.Neighbors;
        var sampled = sample.Weights;
        row = 0;
        for (var i = 0; i < from.Length; i++)
        {
            if (from[i] < 0) continue;
            var count = offsets[i + 1] - offsets[i];
            var a = sampleOffsets[row++];
            neighbors.Slice(a, count).CopyTo(far.AsSpan(offsets[i]));
            sampled.Slice(a, count).CopyTo(weights.AsSpan(offsets[i]));
            for (var j = 0; j < count; j++) slots[offsets[i] + j] = a + j;
        }
        return (far, weights, offsets, slots);
    }

    private async Task<NodeResult> NegativeAsync(GslQuery step, NodeResult parent, ulong seed)
    {
        var walked = step.EdgeType!.Value;
        // The store draws along out-edges: an in-direction walk draws along the type that holds it as out-edges.
        var t = step.Incoming ? _gsl.InDirectionType(walked) : walked;
        var strategy = StrategyNames.ParseNegative(step.StrategyName!);
        var exclude = step.ExcludeNeighbors ?? strategy != NegativeStrategy.Random;
        // GraphLearn's random negatives are drawn among the ids the edge type reaches, not every node of the type.
        if (strategy == NegativeStrategy.Random) strategy = NegativeStrategy.RandomReached;
        var from = parent.DenseIds;
        var sources = Compact(from);
        var k = step.K;
        var drawn = new int[sources.Length * k];
        var stats = sources.Length == 0 ? new NegativeSampleStats(0, 0, 0)
            : await _store.SampleNegativesAsync(t, sources, k, strategy, exclude, seed, drawn).ConfigureAwait(false);
        // A padding source has no negatives: its row is padding.
        var output = new int[from.Length * k];
        for (int i = 0, row = 0; i < from.Length; i++)
        {
            if (from[i] >= 0) drawn.AsSpan(row++ * k, k).CopyTo(output.AsSpan(i * k, k));
            else output.AsSpan(i * k, k).Fill(-1);
        }
        return await NodesAsync(step.AliasName!, step.NodeType, output, null, from.Length, k, null, stats, 0).ConfigureAwait(false);
    }

    /// <summary>
    /// GraphLearn's <c>Neg(node_type).by("node_weight")</c> over a store: nodes ∝ their weight (read from the store once
    /// per dataset, as the table local mode builds), redrawn while one of the batch's source ids, from the step's stream.
    /// </summary>
    private async Task<NodeResult> NodeNegativeAsync(GslQuery step, NodeResult parent, ulong seed)
    {
        var (table, business) = _tables[step.Index] as (AliasTable, long[])? ?? await NodeWeightTableAsync(step).ConfigureAwait(false);
        _tables[step.Index] = (table, business);
        var sources = new HashSet<long>(parent.Ids.Length);
        for (var i = 0; i < parent.Ids.Length; i++) if (parent.DenseIds[i] >= 0) sources.Add(parent.Ids[i]);
        var rng = new Xoshiro256(seed);
        var output = new int[parent.DenseIds.Length * step.K];
        int redrawn = 0, unresolved = 0;
        var retries = _options.MaxNegativeRetries;
        for (var j = 0; j < output.Length; j++)
        {
            var c = table.Next(ref rng);
            var tries = 0;
            while (sources.Contains(business[c]) && tries < retries)
            {
                c = table.Next(ref rng);
                tries++;
            }
            redrawn += tries;
            if (tries == retries && sources.Contains(business[c])) unresolved++;
            output[j] = c;
        }
        return await NodesAsync(step.AliasName!, step.NodeType, output, null, parent.DenseIds.Length, step.K, null,
            new NegativeSampleStats(output.Length, redrawn, unresolved), 0).ConfigureAwait(false);
    }

    private async Task<(AliasTable, long[])> NodeWeightTableAsync(GslQuery step)
    {
        var all = AllIds(_store.Schema.Node(step.NodeType).Count);
        var weights = await _store.GatherNodeColumnsAsync(step.NodeType, all, ColumnSet.Weights).ConfigureAwait(false);
        var business = new long[all.Length];
        await _store.GetBusinessIdsAsync(step.NodeType, all, business).ConfigureAwait(false);
        var w = new double[all.Length];
        var any = false;
        for (var i = 0; i < w.Length; i++)
        {
            var x = weights.Weights[i];
            w[i] = x > 0 && float.IsFinite(x) ? x : 0;
            any |= w[i] > 0;
        }
        if (!any) throw new InvalidOperationException($"No {step.NodeType} node has a positive weight, so node_weight negatives have nothing to draw from.");
        return (new AliasTable(w), business);
    }

    /// <summary>
    /// GraphLearn's <c>where(target, condition)</c> over a store: the candidates (the nodes the walked type reaches, weighted
    /// by the strategy) and their attribute columns are read from the store once per dataset; each batch asks for its
    /// sources' neighbours along the walked direction in one call, for the true-neighbour check. Row i pairs source i with
    /// positive i, as in local mode; draws come from the step's stream.
    /// </summary>
    private async Task<NodeResult> ConditionalNegativeAsync(GslQuery step, NodeResult parent, NodeResult positives, ulong seed)
    {
        if (positives.Count != parent.Count)
            throw new InvalidOperationException(
                $"{step.Description}.Where(\"{positives.Alias}\") ('{step.AliasName}'): this batch has {parent.Count} sources in '{parent.Alias}' but " +
                $"{positives.Count} positives in '{positives.Alias}'; row i pairs source i with positive i.");
        var sampler = _tables[step.Index] as ConditionalNegativeSampler ?? await ConditionalSamplerAsync(step).ConfigureAwait(false);
        _tables[step.Index] = sampler;

        // The sources' true neighbours as a small CSR over the batch's rows (a store's rows are sorted, as Contains needs).
        var t = step.EdgeType!.Value;
        var from = parent.DenseIds;
        var present = Compact(from);
        var rows = new int[from.Length];
        for (int i = 0, j = 0; i < from.Length; i++) rows[i] = from[i] >= 0 ? j++ : -1;
        Csr adjacency;
        using (var neighbours = await _store.SampleNeighborsAsync(t, step.Incoming, present, 1, SamplingStrategy.Full, seed).ConfigureAwait(false))
        {
            var offsets = new long[present.Length + 1];
            for (var i = 0; i <= present.Length; i++) offsets[i] = neighbours.Offsets[i];
            adjacency = new Csr(present.Length, offsets, neighbours.Neighbors.ToArray(), ReadOnlyMemory<int>.Empty);
        }
        var rng = new Xoshiro256(seed);
        var output = new int[from.Length * step.K];
        var stats = sampler.Sample(rows, positives.DenseIds, step.K, ref rng, output, _options.MaxNegativeRetries, adjacency);
        return await NodesAsync(step.AliasName!, step.NodeType, output, null, from.Length, step.K, null, stats, 0).ConfigureAwait(false);
    }

    private async Task<ConditionalNegativeSampler> ConditionalSamplerAsync(GslQuery step)
    {
        var t = step.EdgeType!.Value;
        var n = _store.Schema.Node(step.NodeType).Count;
        var all = AllIds(n);
        // Candidates are the nodes the walked type reaches: their degree towards the sources' side.
        var degrees = new int[n];
        await _store.GetDegreesAsync(t, !step.Incoming, all, degrees).ConfigureAwait(false);
        var weights = ConditionalNegativeSampler.CandidateWeights(degrees, StrategyNames.ParseNegative(step.StrategyName!), t.ToString());
        var c = step.Condition!;
        var asked = (c.IntCols.Count > 0 ? ColumnSet.Ints : 0) | (c.FloatCols.Count > 0 ? ColumnSet.Floats : 0) | (c.StrCols.Count > 0 ? ColumnSet.Strings : 0);
        var columns = await _store.GatherNodeColumnsAsync(step.NodeType, all, asked).ConfigureAwait(false);
        var strings = columns.StringCount > 0 ? columns.DecodeStrings() : [];
        return new ConditionalNegativeSampler(weights, c,
            v => columns.Ints[v.Node * columns.IntCount + v.Column],
            v => columns.Floats[v.Node * columns.FloatCount + v.Column],
            v => strings[v.Node * columns.StringCount + v.Column]);
    }

    private static int[] AllIds(int n)
    {
        var all = new int[n];
        for (var i = 0; i < n; i++) all[i] = i;
        return all;
    }

    private async Task<NodeResult> EndpointAsync(GslQuery step, EdgeResult parent)
    {
        var (ids, business) = step.Incoming ? (parent.DstDenseIds, parent.DstIds) : (parent.SrcDenseIds, parent.SrcIds);
        return await NodesAsync(step.AliasName!, step.NodeType, ids, business, parent.Rows, parent.Width, parent.Offsets, null, parent.Cap)
            .ConfigureAwait(false);
    }

    /// <summary>
    /// A node result with its columns: business ids (unless known) and every column the store holds (weights, labels,
    /// int, float and string attributes) gathered for the non-padding ids in one call each, at once; padding gets the
    /// default id and GraphLearn's defaults (weight 0, label −1, zeros, empty strings).
    /// </summary>
    private async Task<NodeResult> NodesAsync(string alias, NodeType type, int[] ids, long[]? business, int rows, int width, int[]? offsets,
        NegativeSampleStats? negatives, int cap)
    {
        var present = Compact(ids);
        var presentIds = business is null ? new long[present.Length] : null;
        var gather = _store.GatherNodeColumnsAsync(type, present, NodeColumns).AsTask();
        if (presentIds is not null && present.Length > 0) await _store.GetBusinessIdsAsync(type, present, presentIds).ConfigureAwait(false);
        var columns = await gather.ConfigureAwait(false);

        if (present.Length == ids.Length)
            return new NodeResult(alias, type, ids, business ?? presentIds!, new GatheredColumns(columns), rows, width, offsets, negatives, cap);
        // Some slots are padding: spread the gathered values back over the slots.
        var slots = new int[ids.Length];
        var allIds = business ?? new long[ids.Length];
        for (int i = 0, j = 0; i < ids.Length; i++)
        {
            if (ids[i] < 0)
            {
                slots[i] = -1;
                if (business is null) allIds[i] = _options.DefaultNeighborId;
                continue;
            }
            if (business is null) allIds[i] = presentIds![j];
            slots[i] = j++;
        }
        return new NodeResult(alias, type, ids, allIds, new GatheredColumns(ElementColumnsBuilder.Pick(columns, slots)), rows, width, offsets, negatives, cap);
    }

    private async Task<long[]> BusinessIdsAsync(NodeType type, int[] ids)
    {
        var present = Compact(ids);
        var found = new long[present.Length];
        if (present.Length > 0) await _store.GetBusinessIdsAsync(type, present, found).ConfigureAwait(false);
        if (present.Length == ids.Length) return found;
        var all = new long[ids.Length];
        for (int i = 0, j = 0; i < ids.Length; i++) all[i] = ids[i] >= 0 ? found[j++] : _options.DefaultNeighborId;
        return all;
    }

    /// <summary>The non-padding ids, in order; the array itself when there is no padding.</summary>
    private static int[] Compact(int[] ids)
    {
        var m = 0;
        foreach (var id in ids) if (id >= 0) m++;
        if (m == ids.Length) return ids;
        var present = new int[m];
        m = 0;
        foreach (var id in ids) if (id >= 0) present[m++] = id;
        return present;
    }

    private static int[] Positions(int count)
    {
        var positions = new int[count];
        for (var i = 0; i < count; i++) positions[i] = i;
        return positions;
    }
}
