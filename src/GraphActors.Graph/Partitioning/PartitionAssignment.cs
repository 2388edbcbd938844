// Which partition each node goes to, before relabelling.
using GraphActors.Contracts;

namespace GraphActors.Graph.Partitioning;

/// <summary>The partition of every node, per node type, indexed by the source's dense id.</summary>
public sealed class PartitionAssignment
{
    public PartitionAssignment(string method, int parts, IReadOnlyDictionary<NodeType, int[]> partOf)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(parts, 1);
        foreach (var (type, p) in partOf)
            for (var i = 0; i < p.Length; i++)
                if ((uint)p[i] >= (uint)parts)
                    throw new ArgumentException($"Node {i} of '{type}' is assigned to partition {p[i]}, outside 0..{parts - 1}.");
        Method = method;
        Parts = parts;
        PartOf = partOf;
    }

    public string Method { get; }
    public int Parts { get; }

    /// <summary>Partition of each dense id, per node type.</summary>
    public IReadOnlyDictionary<NodeType, int[]> PartOf { get; }

    public int this[NodeType type, int dense] => PartOf[type][dense];
}
