// Answers partition requests from one loaded partition with the sampling kernels and feature slabs; no actors here.
using GraphActors.Contracts;
using GraphActors.Contracts.Protocols;
using GraphActors.Graph;
using GraphActors.Graph.Storage;
using GraphActors.Sampling;
using static GraphActors.Contracts.Protocols.PartitionProtocol;
using static GraphActors.Contracts.Protocols.SamplingProtocol;

namespace GraphActors.Cluster.Partitions;

/// <summary>
/// The plain state behind a PartitionActor: the loaded partition, one reusable sample buffer and the counters.
/// Not thread-safe (the actor calls it from its own thread only). A request the partition cannot answer gives a
/// <see cref="PartitionError"/> naming what was wrong, never an exception.
/// </summary>
public sealed partial class PartitionServer : IDisposable
{
    private readonly LoadedPartition _partition;
    private readonly SampleBuffer _buffer = new();
    private readonly DegreeTables? _degrees;
    private readonly EmbeddingShards _embeddings;

    /// <param name="degrees">
    /// The whole graph's degree tables (a partition holds only its own nodes' CSR rows): in_degree neighbour sampling
    /// weighs a neighbour owned elsewhere by its degree, in_degree negatives draw among every destination. Null: both are
    /// refused with an error.
    /// </param>
    public PartitionServer(LoadedPartition partition, DegreeTables? degrees = null)
    {
        _partition = partition;
        _degrees = degrees;
        _embeddings = new EmbeddingShards(partition.Id.Value, partition.Book);
        MappedBytes = MeasureBytes(partition);
    }

    public int Partition => _partition.Id.Value;
    public long Requests { get; private set; }
    public long RowsServed { get; private set; }
    public long DroppedLate { get; private set; }
    public long MappedBytes { get; }

    public void CountDropped() => DroppedLate++;

    public IPartitionResponse Handle(IPartitionRequest request)
    {
        Requests++;
        if (request.Partition != Partition)
            return Error(request, $"was sent to partition {request.Partition} but reached partition {Partition}.");
        try
        {
            return request switch
            {
                GetNeighbors m => Sample(m),
                GetFeatures m => Gather(m),
                GetDegrees m => Degrees(m),
                GetIds m => Lookup(m),
                GetPartitionInfo m => Info(m.RequestId),
                GetNegatives m => Negatives(m),
                GetLabels m => Labels(m),
                ColumnProtocol.GetNodeColumns m => NodeColumns(m),
                ColumnProtocol.GetNeighborEdges m => NeighborEdges(m),
                EmbeddingProtocol.OpenEmbeddings m => _embeddings.Open(m),
                EmbeddingProtocol.GetEmbeddingRows m => _embeddings.Rows(m),
                EmbeddingProtocol.PushEmbeddingGradients m => _embeddings.Push(m),
                EmbeddingProtocol.WriteEmbeddings m => _embeddings.Write(m),
                _ => Error(request, $"{request.GetType().Name} is not a request a partition answers."),
            };
        }
        catch (Exception e) when (e is KeyNotFoundException or ArgumentException or InvalidOperationException or IOException or InvalidDataException)
        {
            return Error(request, e.Message);
        }
    }

    private IPartitionResponse Sample(GetNeighbors m)
    {
        if (m.Fanout < 1 && m.Strategy != NeighborStrategy.Full)
            return Error(m, $"fanout {m.Fanout} must be at least 1.");
        var edges = _partition.Edges(m.EdgeType);
        var incoming = m.Direction == EdgeDirection.In;
        var rowType = incoming ? m.EdgeType.Dst : m.EdgeType.Src;
        if (!TryLocalRows(rowType, m.Seeds, out var rows, out var problem)) return Error(m, problem);
        var weights = edges.Weights(incoming).Span;
        // Each row draws from its node's stream under the call's seed (keyed by global id), as PartitionedGraphStore does.
        var random = KernelRandom.PerNode(m.RngSeed, _partition.Nodes(rowType).Rows);
        var strategy = ToKernel(m.Strategy);
        if (strategy == SamplingStrategy.InDegree && _degrees is null)
            return Error(m, "in_degree sampling weighs neighbours by the whole graph's degrees, which this partition was not given.");
        NeighborSampler.Sample(edges.Direction(incoming), rows, Math.Max(1, m.Fanout), strategy, ref random, _buffer, weights,
            neighborDegrees: strategy == SamplingStrategy.InDegree ? _degrees!.NeighborDegrees(m.EdgeType, incoming) : default);
        var edgeIds = _buffer.EdgeIds;
        var w = new float[edgeIds.Length];
        if (weights.IsEmpty) w.AsSpan().Fill(1f);
        else for (var i = 0; i < w.Length; i++) w[i] = weights[edgeIds[i]];
        RowsServed += rows.Length;
        return new NeighborsResult(m.RequestId, Partition, _buffer.Offsets.ToArray(), _buffer.Neighbors.ToArray(), w);
    }

    private IPartitionResponse Labels(GetLabels m)
    {
        if (!TryLocalRows(m.NodeType, m.Ids, out var rows, out var problem)) return Error(m, problem);
        var labels = _partition.Nodes(m.NodeType).Labels.Span;
        var result = new int[rows.Length];
        for (var i = 0; i < rows.Length; i++) result[i] = labels.IsEmpty ? -1 : labels[rows[i]];
        RowsServed += rows.Length;
        return new LabelsResult(m.RequestId, Partition, result);
    }

    private IPartitionResponse Negatives(GetNegatives m)
    {
        if (m.K < 1) return Error(m, $"k = {m.K} must be at least 1.");
        var edges = _partition.Edges(m.EdgeType);
        if (!TryLocalRows(m.EdgeType.Src, m.Sources, out var rows, out var problem)) return Error(m, problem);
        var candidates = _partition.Book.NodeCount(m.EdgeType.Dst);
        AliasTable? table = null;
        if (m.Strategy != NegativeStrategyKind.Random)
        {
            if (_degrees is null) return Error(m, $"{m.Strategy} negatives need the whole graph's degree table, which this partition was not given.");
            table = m.Strategy switch
            {
                NegativeStrategyKind.RawInDegree => _degrees.Raw(m.EdgeType),
                NegativeStrategyKind.RandomReached => _degrees.Reached(m.EdgeType),
                _ => _degrees.Smoothed(m.EdgeType),
            };
        }
        var output = new int[checked(rows.Length * m.K)];
        // Per source: the stream of (seed, global id, occurrence), as PartitionedGraphStore draws centrally.
        var random = KernelRandom.PerNode(m.RngSeed, _partition.Nodes(m.EdgeType.Src).Rows);
        var stats = NegativeSampler.Sample(edges.Out, rows, candidates, table, m.K, m.ExcludeNeighbors, ref random, output);
        RowsServed += rows.Length;
        return new NegativesResult(m.RequestId, Partition, output, stats.Requested, stats.Redrawn, stats.Unresolved);
    }

    private IPartitionResponse Gather(GetFeatures m)
    {
        var nodes = _partition.Nodes(m.NodeType);
        if (!TryLocalRows(m.NodeType, m.Ids, out var rows, out var problem)) return Error(m, problem);
        var slab = nodes.Features;
        var data = GC.AllocateUninitializedArray<float>(checked(rows.Length * slab.Dim));
        slab.Gather(rows, data);
        RowsServed += rows.Length;
        return new FeaturesResult(m.RequestId, Partition, rows.Length, slab.Dim, data);
    }

    private IPartitionResponse Degrees(GetDegrees m)
    {
        var incoming = m.Direction == EdgeDirection.In;
        var csr = _partition.Edges(m.EdgeType).Direction(incoming);
        if (!TryLocalRows(incoming ? m.EdgeType.Dst : m.EdgeType.Src, m.Ids, out var rows, out var problem)) return Error(m, problem);
        var degrees = new int[rows.Length];
        for (var i = 0; i < rows.Length; i++) degrees[i] = csr.Degree(rows[i]);
        RowsServed += rows.Length;
        return new DegreesResult(m.RequestId, Partition, degrees);
    }

    private IPartitionResponse Lookup(GetIds m)
    {
        var nodes = _partition.Nodes(m.NodeType);
        var ids = new int[m.BusinessIds.Length];
        var misses = new List<int>();
        for (var i = 0; i < ids.Length; i++)
        {
            if (!nodes.TryGetId(m.BusinessIds[i], out ids[i])) { ids[i] = -1; misses.Add(i); }
        }
        RowsServed += ids.Length;
        return new IdsResult(m.RequestId, Partition, ids, misses.ToArray());
    }

    public PartitionInfoResult Info(long requestId)
    {
        var nodes = _partition.NodeTypes.OrderBy(n => n.Type.Name, StringComparer.Ordinal).ToArray();
        var edges = _partition.EdgeTypes.OrderBy(e => e.Type.DirectoryName, StringComparer.Ordinal).ToArray();
        return new PartitionInfoResult(requestId, Partition, _partition.Book.Parts,
            nodes.Select(n => n.Type.Name).ToArray(), nodes.Select(n => n.Rows.First).ToArray(), nodes.Select(n => n.Count).ToArray(),
            nodes.Select(n => n.Features.Dim).ToArray(), edges.Select(e => e.Type).ToArray(),
            edges.Select(e => (long)e.Out.EdgeCount).ToArray(), Requests, RowsServed, MappedBytes, DroppedLate);
    }

    private bool TryLocalRows(NodeType type, int[] ids, out int[] rows, out string problem)
    {
        var own = _partition.Nodes(type).Rows;
        rows = new int[ids.Length];
        for (var i = 0; i < ids.Length; i++)
        {
            var row = own.RowOf(ids[i]);
            if (row < 0)
            {
                problem = $"node {ids[i]} of type '{type}' is not owned here (partition {Partition} owns {own}).";
                return false;
            }
            rows[i] = row;
        }
        problem = "";
        return true;
    }

    public static SamplingStrategy ToKernel(NeighborStrategy s) => s switch
    {
        NeighborStrategy.Random => SamplingStrategy.Random,
        NeighborStrategy.RandomWithoutReplacement => SamplingStrategy.RandomWithoutReplacement,
        NeighborStrategy.EdgeWeight => SamplingStrategy.EdgeWeight,
        NeighborStrategy.TopK => SamplingStrategy.TopK,
        NeighborStrategy.Full => SamplingStrategy.Full,
        NeighborStrategy.InDegree => SamplingStrategy.InDegree,
        _ => throw new ArgumentOutOfRangeException(nameof(s), s, "Unknown neighbour strategy."),
    };

    private PartitionError Error(IPartitionRequest r, string problem) =>
        new(r.RequestId, Partition, $"{r.GetType().Name} {r.RequestId}: {problem}");

    private static long MeasureBytes(LoadedPartition p)
    {
        long total = 0;
        foreach (var n in p.NodeTypes)
            total += n.Features.ByteSize + n.Labels.Length * 4L + (n.TrainMask.Length + n.ValMask.Length + n.TestMask.Length)
                     + n.BusinessIds.Length * 8L + n.SortedBusinessIds.Length * 8L + n.SortedIds.Length * 4L + n.Columns.ByteSize;
        foreach (var e in p.EdgeTypes)
            total += e.Out.ByteSize + e.In.ByteSize + (e.OutWeights.Length + e.InWeights.Length) * 4L + e.OutColumns.ByteSize + e.InColumns.ByteSize;
        return total;
    }

    /// <summary>Writes the job's embedding tables for the partition's next host (the partition is moving or stopping).</summary>
    public void HandOffEmbeddings() => _embeddings.HandOff();

    public void Dispose()
    {
        _embeddings.Dispose();
        _partition.Dispose();
    }
}
