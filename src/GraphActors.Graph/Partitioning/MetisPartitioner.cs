// DistDGL-style METIS partitioning of a heterogeneous graph: one vertex space, symmetrised, multi-constraint balance.
using GraphActors.Contracts;

namespace GraphActors.Graph.Partitioning;

/// <summary>
/// What METIS balances, after DistDGL's <c>partition_graph</c>: <see cref="BalanceNodeTypes"/> adds one vertex-weight
/// column per node type (balance_ntypes); <see cref="BalanceTrain"/> splits each column into training and other nodes
/// (balance_train); <see cref="BalanceEdges"/> adds each type's degree as a column (balance_edges). Columns whose total
/// is zero are dropped (METIS cannot balance them). <see cref="Imbalance"/> is the allowed max/mean − 1.
/// </summary>
public sealed record MetisOptions(int Seed = 42, bool BalanceNodeTypes = true, bool BalanceTrain = true, bool BalanceEdges = false,
    double Imbalance = 0.03);

public static class MetisPartitioner
{
    public const string MethodName = "metis";

    /// <summary>The symmetrised graph of every edge type over one vertex space (node types stacked in order), as METIS takes it.</summary>
    public static (int[] Xadj, int[] Adjncy, int[] TypeOffsets) BuildGraph(IReadOnlyList<NodeTable> nodes, IReadOnlyList<EdgeList> edges)
    {
        var index = new Dictionary<NodeType, int>();
        var typeOffsets = new int[nodes.Count + 1];
        for (var t = 0; t < nodes.Count; t++)
        {
            index[nodes[t].Type] = t;
            var next = (long)typeOffsets[t] + nodes[t].Count;
            if (next > int.MaxValue) throw new BadInputException($"--method metis: the graph has more than 2^31 - 1 nodes, more than METIS (32-bit idx_t) takes. Use --method hash.");
            typeOffsets[t + 1] = (int)next;
        }
        var n = typeOffsets[^1];

        // Degrees, then a counting fill: no per-edge objects, no dense adjacency.
        var xadj = new int[n + 1];
        long total = 0;
        foreach (var e in edges)
        {
            int so = typeOffsets[index[e.Type.Src]], d0 = typeOffsets[index[e.Type.Dst]];
            for (var i = 0; i < e.Count; i++)
            {
                int u = so + e.Src[i], v = d0 + e.Dst[i];
                if (u == v) continue;
                xadj[u + 1]++;
                xadj[v + 1]++;
                total += 2;
            }
        }
        if (total > int.MaxValue) throw new BadInputException($"--method metis: the symmetrised graph has {total:N0} adjacency entries; METIS (32-bit idx_t) takes at most 2^31 - 1. Use --method hash, which streams edges.");
        for (var v = 0; v < n; v++) xadj[v + 1] += xadj[v];
        var adjncy = new int[total];
        var cursor = new int[n];
        Array.Copy(xadj, cursor, n);
        foreach (var e in edges)
        {
            int so = typeOffsets[index[e.Type.Src]], d0 = typeOffsets[index[e.Type.Dst]];
            for (var i = 0; i < e.Count; i++)
            {
                int u = so + e.Src[i], v = d0 + e.Dst[i];
                if (u == v) continue;
                adjncy[cursor[u]++] = v;
                adjncy[cursor[v]++] = u;
            }
        }
        cursor = null;

        // Sort rows and drop duplicates in place (METIS wants a simple graph, as DGL's to_bidirected gives it).
        var write = 0;
        var start = 0;
        for (var v = 0; v < n; v++)
        {
            var end = xadj[v + 1];
            var row = adjncy.AsSpan(start, end - start);
            row.Sort();
            xadj[v] = write;
            for (var k = 0; k < row.Length; k++)
                if (k == 0 || row[k] != row[k - 1]) adjncy[write++] = row[k];
            start = end;
        }
        xadj[n] = write;
        if (write != adjncy.Length) Array.Resize(ref adjncy, write);
        return (xadj, adjncy, typeOffsets);
    }

    /// <summary>The vertex-weight columns (row-major, ncon per vertex) of <paramref name="options"/>.</summary>
    public static (int[]? Vwgt, int Ncon) BuildWeights(IReadOnlyList<NodeTable> nodes, int[] xadj, int[] typeOffsets, MetisOptions options)
    {
        var n = typeOffsets[^1];
        // column of each vertex for the type/train columns: computed per type below.
        var columns = new List<Func<int, int, int>>(); // (type index, local id) → weight
        for (var t = 0; t < nodes.Count; t++)
        {
            var tt = t;
            var table = nodes[t];
            var train = table.CountWhere(SplitFlags.Train);
            if (options.BalanceNodeTypes)
            {
                if (options.BalanceTrain && train > 0 && train < table.Count)
                {
                    columns.Add((ti, v) => ti == tt && (table.Split[v] & 1) != 0 ? 1 : 0);
                    columns.Add((ti, v) => ti == tt && (table.Split[v] & 1) == 0 ? 1 : 0);
                }
                else if (table.Count > 0) columns.Add((ti, _) => ti == tt ? 1 : 0);
            }
            if (options.BalanceEdges && xadj[typeOffsets[t + 1]] > xadj[typeOffsets[t]])
                columns.Add((ti, v) => ti == tt ? xadj[typeOffsets[tt] + v + 1] - xadj[typeOffsets[tt] + v] : 0);
        }
        if (!options.BalanceNodeTypes && options.BalanceTrain && nodes.Any(x => x.CountWhere(SplitFlags.Train) > 0))
        {
            columns.Add((ti, v) => (nodes[ti].Split[v] & 1) != 0 ? 1 : 0);
            columns.Add((ti, v) => (nodes[ti].Split[v] & 1) == 0 ? 1 : 0);
        }
        if (columns.Count == 0) return (null, 1);
        var ncon = columns.Count;
        var vwgt = new int[(long)n * ncon];
        for (var t = 0; t < nodes.Count; t++)
            for (var v = 0; v < nodes[t].Count; v++)
            {
                var row = (long)(typeOffsets[t] + v) * ncon;
                for (var c = 0; c < ncon; c++) vwgt[row + c] = columns[c](t, v);
            }
        return (vwgt, ncon);
    }

    public static PartitionAssignment Assign(IReadOnlyList<NodeTable> nodes, IReadOnlyList<EdgeList> edges, int parts, MetisOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(parts, 1);
        var (xadj, adjncy, typeOffsets) = BuildGraph(nodes, edges);
        var (vwgt, ncon) = BuildWeights(nodes, xadj, typeOffsets, options);
        var part = Metis.PartGraphKway(xadj, adjncy, vwgt, ncon, parts, options.Seed, options.Imbalance, out _);
        var partOf = new Dictionary<NodeType, int[]>();
        for (var t = 0; t < nodes.Count; t++)
            partOf[nodes[t].Type] = part.AsSpan(typeOffsets[t], nodes[t].Count).ToArray();
        return new PartitionAssignment(MethodName, parts, partOf);
    }
}
