// Synthetic graphs for benchmarks and tests, built through the same builder as real data.
using GraphActors.Contracts;

namespace GraphActors.Graph;

public static class SyntheticGraphs
{
    /// <summary>
    /// One node type <c>node</c> (business id = dense id) and one directed edge type <c>(node, edge, node)</c> with
    /// <paramref name="edges"/> uniformly random endpoints (self-loops and repeats allowed, as in DGL's rand_graph),
    /// optionally with uniform (0, 1] weights. Deterministic in <paramref name="seed"/>.
    /// </summary>
    public static HeteroGraph Uniform(int nodes, long edges, int seed, bool weighted = false)
    {
        if (nodes <= 0) throw new ArgumentOutOfRangeException(nameof(nodes), nodes, "Need at least one node.");
        if (edges < 0 || edges > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(edges), edges, "One edge type holds 0 .. 2^31 - 1 edges.");
        var builder = new HeteroGraphBuilder();
        var nodeType = new NodeType("node");
        var table = builder.AddNodeType(nodeType, AttributeSchema.Empty, capacity: nodes);
        for (var i = 0; i < nodes; i++) table.TryAdd(i, 1f, -1, [], [], [], out _);
        // Capacity up front: growing a 20M-edge column by halves would copy it several times and raise the peak.
        var edgeTable = builder.AddEdgeType(new CanonicalEdgeType(nodeType, "edge", nodeType), AttributeSchema.Empty,
            weighted: weighted, capacity: (int)Math.Max(edges, 16));
        var state = (ulong)seed * 0x9E3779B97F4A7C15UL + 0xD1B54A32D192ED03UL;
        for (long e = 0; e < edges; e++)
        {
            var r = Next(ref state);
            var src = (int)(((r >> 32) * (ulong)nodes) >> 32);
            var dst = (int)(((r & 0xFFFFFFFFUL) * (ulong)nodes) >> 32);
            var weight = weighted ? 1f - (Next(ref state) >> 40) * (1f / (1 << 24)) : 1f;
            edgeTable.Add(src, dst, weight);
        }
        return builder.Build();
    }

    // SplitMix64: the Graph project does not depend on Sampling's generator, and endpoints only need to be uniform.
    private static ulong Next(ref ulong state)
    {
        var z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
