// GraphLearn's columns over the cluster: node columns and sampled edges' columns from the owning partitions, one request each.
using GraphActors.Contracts;
using GraphActors.Contracts.Protocols;
using GraphActors.Sampling;
using static GraphActors.Contracts.Protocols.ColumnProtocol;

namespace GraphActors.Cluster.Sampling;

public sealed partial class RemoteGraphStore
{
    /// <summary>
    /// Every partition owning some of <paramref name="ids"/> is asked once (in pieces only when the ids, or the answer's
    /// fixed-width part, would not fit: <see cref="ColumnRowsPerRequest"/>); strings may make an answer wide, and it then
    /// comes in chunks like every large answer.
    /// </summary>
    public async ValueTask<ElementColumns> GatherNodeColumnsAsync(NodeType type, ReadOnlyMemory<int> ids, ColumnSet columns,
        CancellationToken cancellationToken = default)
    {
        var view = _view;
        var schema = view.Schema.Node(type);
        var builder = ElementColumnsBuilder.For(schema, ids.Length, columns);
        if (ids.Length == 0) return builder.Build();
        var grouping = Group(view, type, ids.Span);
        var perRequest = ColumnRowsPerRequest(8 + 8L * schema.Columns.IntCount + 4L * schema.FeatureDim + 4L * schema.Columns.StringCount);
        var answers = await AskAll<NodeColumnsResult>(view, grouping, ids.Span, perRequest, (p, _, part) => (id, deadline) =>
            new GetNodeColumns(id, p, type, part, columns, deadline), cancellationToken).ConfigureAwait(false);
        foreach (var a in answers) builder.Add(Positions(grouping, a), a.Answer.Columns);
        return builder.Build();
    }

    /// <summary>Neighbours as <see cref="SampleNeighborsAsync"/> draws them, with each sampled edge's columns, in the same one request per partition.</summary>
    public async ValueTask<NeighborSample> SampleNeighborEdgesAsync(CanonicalEdgeType type, bool incoming, ReadOnlyMemory<int> seeds, int fanout,
        SamplingStrategy strategy, ulong rngSeed, ColumnSet columns, CancellationToken cancellationToken = default)
    {
        var view = _view;
        var grouping = Group(view, incoming ? type.Dst : type.Src, seeds.Span);
        var direction = incoming ? EdgeDirection.In : EdgeDirection.Out;
        var kind = ToProtocol(strategy);
        var asked = columns & ~ColumnSet.Weights;
        var answers = await AskAll<NeighborEdgesResult>(view, grouping, seeds.Span, _wire.MaxIdsPerRequest(sizeof(int)), (p, piece, ids) => (id, deadline) =>
            new GetNeighborEdges(id, p, type, direction, ids, Math.Max(1, fanout), kind, rngSeed, asked, deadline),
            cancellationToken).ConfigureAwait(false);
        var result = Scatter(grouping, seeds.Length, answers, a => (a.Offsets, a.Neighbors, a.Weights), withWeights: true);
        var edgeType = view.Schema.Edge(type);
        if (edgeType.Columns == Graph.Partitioning.EdgeColumns.None) return result;
        var offsets = result.Offsets;
        var builder = ElementColumnsBuilder.For(edgeType, result.Count, asked);
        foreach (var a in answers)
            builder.Add(ElementColumnsBuilder.EntryPositions(Positions(grouping, a), a.Answer.Offsets, offsets), a.Answer.Edges);
        result.Edges = builder.Build();
        return result;
    }

    /// <summary>Columns of the edges <see cref="GetEdgesAsync"/> named: read, as the edge list itself, from the store directory.</summary>
    public ValueTask<ElementColumns> GatherEdgeColumnsAsync(CanonicalEdgeType type, ReadOnlyMemory<long> handles, ColumnSet columns,
        CancellationToken cancellationToken = default) =>
        Local(_view).GatherEdgeColumnsAsync(type, handles, columns, cancellationToken);

    /// <summary>The ragged rows of every partition's answer, in the caller's seed order.</summary>
    private static NeighborSample Scatter<TResult>(OwnerGrouping grouping, int seeds, List<Piece<TResult>> answers,
        Func<TResult, (int[] Offsets, int[] Neighbors, float[] Weights)> rows, bool withWeights)
    {
        var total = 0L;
        foreach (var a in answers) total += rows(a.Answer).Neighbors.Length;
        if (total > Array.MaxLength)
            throw new PartitionRequestException(-1, $"{total:N0} neighbours of {seeds:N0} seeds: more than one array holds; sample fewer seeds at once.");
        var result = NeighborSample.Rent(seeds, (int)total, withWeights);
        var offsets = result.OffsetArray.AsSpan(0, seeds + 1);
        foreach (var a in answers) OwnerGrouping.CountRows(Positions(grouping, a), rows(a.Answer).Offsets, offsets);
        OwnerGrouping.ToOffsets(offsets);
        foreach (var a in answers)
        {
            var positions = Positions(grouping, a);
            var (partOffsets, neighbors, weights) = rows(a.Answer);
            OwnerGrouping.ScatterRows<int>(positions, partOffsets, neighbors, offsets, result.NeighborArray.AsSpan(0, (int)total));
            if (withWeights) OwnerGrouping.ScatterRows<float>(positions, partOffsets, weights, offsets, result.WeightArray.AsSpan(0, (int)total));
        }
        return result;
    }

    // Rows per column request: as many ids as fit a chunk, and no more than one answer holds at rowBytes each (strings not counted).
    private int ColumnRowsPerRequest(long rowBytes) =>
        (int)Math.Min(_wire.MaxIdsPerRequest(sizeof(int)), Math.Max(1, (_wire.MaxMessageBytes - 1024) / Math.Max(1, rowBytes)));
}
