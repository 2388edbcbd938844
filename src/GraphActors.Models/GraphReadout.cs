// Pools node rows into one row per graph, and the graph classifier built on it.
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GraphActors.Models;

public enum ReadoutKind
{
    Mean,
    Sum,
    Max,
}

/// <summary>
/// Readout over a batch of graphs (DGL's mean/sum/max_nodes): node <c>i</c> belongs to graph
/// <c>graphIndex[i]</c>; the result has one row per graph. A graph without nodes reads out zeros.
/// </summary>
public static class GraphReadout
{
    /// <param name="h">[numNodes, F] node rows.</param>
    /// <param name="graphIndex">[numNodes] int64 graph of each node, in [0, numGraphs).</param>
    /// <returns>[numGraphs, F].</returns>
    public static Tensor Apply(Tensor h, Tensor graphIndex, long numGraphs, ReadoutKind kind)
    {
        if (h.dim() != 2 || graphIndex.dim() != 1 || h.size(0) != graphIndex.size(0))
            throw new ArgumentException($"Expected [n, F] rows and [n] graph indices, got [{string.Join(", ", h.shape)}] and [{string.Join(", ", graphIndex.shape)}].");
        using var scope = NewDisposeScope();
        var result = kind switch
        {
            ReadoutKind.Sum => IndexOps.SumInto(h, graphIndex, numGraphs),
            ReadoutKind.Mean => IndexOps.SumInto(h, graphIndex, numGraphs) / IndexOps.Count(graphIndex, numGraphs, h.dtype).clamp_min(1).unsqueeze(1),
            ReadoutKind.Max => Max(h, graphIndex, numGraphs),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
        };
        return result.MoveToOuterDisposeScope();
    }

    // No scatter_reduce in TorchSharp 0.107: each node gets a slot in its graph's row of a dense
    // [numGraphs, maxNodes, F] grid filled with -inf, and amax runs over the slots. Graphs are small,
    // so the grid is too; amax passes the gradient to the winning node.
    private static Tensor Max(Tensor h, Tensor graphIndex, long numGraphs)
    {
        var width = h.size(1);
        var numNodes = h.size(0);
        if (numNodes == 0)
            return zeros(numGraphs, width, dtype: h.dtype, device: h.device);

        var counts = bincount(graphIndex, minlength: numGraphs);
        var maxNodes = counts.max().item<long>();
        var (sortedGraph, order) = graphIndex.sort(stable: true);
        var groupStart = counts.cumsum(0) - counts;
        var rank = arange(numNodes, dtype: ScalarType.Int64, device: h.device) - groupStart.index_select(0, sortedGraph);
        var slot = sortedGraph.Times(maxNodes).Plus(rank);

        var grid = full(numGraphs * maxNodes, width, double.NegativeInfinity, dtype: h.dtype, device: h.device)
            .index_copy(0, slot, h.index_select(0, order))
            .view(numGraphs, maxNodes, width);
        var max = grid.amax(new long[] { 1 });
        var empty = (counts == 0).unsqueeze(1);
        return where(empty, zeros_like(max), max);
    }
}

/// <summary>Graph classification head: readout of the node rows per graph, then a linear classifier to logits.</summary>
public sealed class GraphClassifier : nn.Module<Tensor, Tensor, long, Tensor>
{
    private readonly Linear classifier;

    public GraphClassifier(long inDim, long numClasses, ReadoutKind readout = ReadoutKind.Mean, string name = nameof(GraphClassifier))
        : base(name)
    {
        Readout = readout;
        classifier = nn.Linear(inDim, numClasses);
        RegisterComponents();
    }

    public ReadoutKind Readout { get; }

    /// <returns>[numGraphs, numClasses] logits, for <see cref="TaskLosses.NodeClassification"/>'s cross entropy.</returns>
    public override Tensor forward(Tensor h, Tensor graphIndex, long numGraphs)
    {
        using var pooled = GraphReadout.Apply(h, graphIndex, numGraphs, Readout);
        return classifier.forward(pooled);
    }
}
