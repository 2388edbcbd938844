// GSL over an IGraphStore (a partitioned store here, the cluster's partitions in worker and server mode): the entry points and a task's share.
using GraphActors.Contracts;

namespace GraphActors.Sampling;

/// <summary>
/// GraphLearn's SOURCE operations over a graph store: <c>V(type)</c>, <c>V(type, feed)</c>, <c>E(type, reverse)</c>,
/// then the same <see cref="GslQuery"/> steps and results as over a local graph. A query over a store walks the
/// store's batched calls (one call per step per batch, which a partitioned or remote store turns into at most one
/// request per partition), so its draws are the store's per-node streams, not local mode's one stream per batch.
/// <para>
/// The task's share (GraphLearn splits traversal by task): the sources of <c>V(type)</c> are the type's nodes in
/// ascending business id, and task <see cref="TaskIndex"/> of <see cref="TaskCount"/> walks those of rank r with
/// r % TaskCount == TaskIndex; <c>E(type)</c> likewise over the edges ordered by their ends' business ids. Business ids
/// make the shares, their order and the batches independent of how many partitions the store has and where they run.
/// A fed <c>V(type, feed)</c> is the caller's own and is not split.
/// </para>
/// </summary>
/// <param name="directed">
/// Whether an edge type (by relation name) was declared directed; null for a name it does not know. A store written from
/// GraphLearn sources records it for every type; any other (CGDF) does not: without a declaration there an undirected type between two node types is known by
/// its <c>_reverse</c> twin, and one within a node type stays unknown (its in-direction is then refused).
/// </param>
public sealed class GslStore(IGraphStore store, int taskIndex = 0, int taskCount = 1, Func<string, bool?>? directed = null)
{
    public IGraphStore Store { get; } = store ?? throw new ArgumentNullException(nameof(store));

    /// <summary>This task's index among <see cref="TaskCount"/> (GraphLearn's task_index; a client's index in server mode).</summary>
    public int TaskIndex { get; } = taskCount >= 1 && taskIndex >= 0 && taskIndex < taskCount ? taskIndex
        : throw new ArgumentOutOfRangeException(nameof(taskIndex), taskIndex, $"task {taskIndex} of {taskCount}: needs 0 ≤ index < count.");

    public int TaskCount { get; } = taskCount;

    /// <summary>Traverses this task's share of the nodes of <paramref name="nodeType"/> (GraphLearn's <c>g.V(type)</c>).</summary>
    public GslQuery V(string nodeType)
    {
        var type = Node(nodeType);
        return GslQuery.Source(this, StepKind.SourceNodes, null, type,
            TaskCount == 1 ? $"V({type})" : $"V({type}, share {TaskIndex} of {TaskCount})");
    }

    /// <summary>
    /// GraphLearn's <c>g.V(type, feed=ids)</c>: the given business ids, in order, one batch (or batches of n after
    /// <c>Batch(n)</c>); an id the store lacks walks with default attributes and padding, as over a local graph.
    /// </summary>
    public GslQuery V(string nodeType, long[] feed)
    {
        ArgumentNullException.ThrowIfNull(feed);
        var type = Node(nodeType);
        var query = GslQuery.Source(this, StepKind.SourceNodes, null, type, $"V({type}, feed: {feed.Length} ids)");
        query.Plan.SourceIds = (long[])feed.Clone();
        query.Plan.BatchSize = Math.Max(1, feed.Length);
        return query;
    }

    /// <summary>
    /// GraphLearn's <c>g.V(type, mask=gl.Mask.TRAIN|TEST|VAL)</c> over the store: this task's share (as for
    /// <see cref="V(string)"/>, in ascending business id) of the store's set for the mask, which a store written from
    /// GraphLearn sources took from the type's mask sources. A type whose sets are not GraphLearn's (no mask source: the
    /// partitioner's split) is a <see cref="KeyNotFoundException"/>, and so is a mask the type has no source for (as in
    /// local mode; a store written before the sources were recorded gives an empty set). Mask ids that were not nodes of the type are not in the store (task 0 names them when it writes it).
    /// The set is read from the store when the dataset is made.
    /// </summary>
    public GslQuery V(string nodeType, GraphActors.Graph.GraphLearn.Mask mask)
    {
        if (mask == GraphActors.Graph.GraphLearn.Mask.None) return V(nodeType);
        var type = Node(nodeType);
        var name = GraphActors.Graph.GraphLearn.Graph.MaskName(mask);
        if (!Store.Schema.Node(type).MasksFromSource)
            throw new KeyNotFoundException(
                $"V({nodeType}, mask: {name}): the store's sets of '{nodeType}' are the partitioner's split, not GraphLearn masks; declare the set " +
                $"with g.Node(source, \"{nodeType}\", decoder, Mask.{mask}) on the task that writes the store.");
        if (Store.Schema.Node(type).Columns.Masks is { } declared && !declared.Split(',').Contains(name))
            throw new KeyNotFoundException(
                $"V({nodeType}, mask: {name}): node type '{nodeType}' has no {name} source; declare one with g.Node(source, \"{nodeType}\", decoder, " +
                $"Mask.{mask}) on the task that writes the store (it has {declared}).");
        var query = GslQuery.Source(this, StepKind.SourceNodes, null, type, Shared($"V({type}, mask: {name})"));
        query.Plan.ChosenSources = new ChosenSources(mask switch
        {
            GraphActors.Graph.GraphLearn.Mask.Train => SplitKind.Train,
            GraphActors.Graph.GraphLearn.Mask.Val => SplitKind.Val,
            _ => SplitKind.Test,
        }, null, false);
        return query;
    }

    /// <summary>
    /// GraphLearn's <c>g.V(edge_type, node_from=gl.EDGE_SRC|gl.EDGE_DST)</c> over the store: this task's share (in
    /// ascending business id) of the nodes that are a source (destination) of at least one edge of the type, found from
    /// the partitions' degrees when the dataset is made.
    /// </summary>
    public GslQuery V(string edgeType, NodeFrom nodeFrom)
    {
        var t = Edge(edgeType);
        var from = nodeFrom == NodeFrom.EdgeSrc;
        var query = GslQuery.Source(this, StepKind.SourceNodes, null, from ? t.Src : t.Dst,
            Shared($"V({t.Relation}, node_from: {(from ? "EDGE_SRC" : "EDGE_DST")})"));
        query.Plan.ChosenSources = new ChosenSources(null, t, Incoming: !from);
        return query;
    }

    private string Shared(string description) => TaskCount == 1 ? description : $"{description[..^1]}, share {TaskIndex} of {TaskCount})";

    /// <summary>
    /// Traverses this task's share of the edges of <paramref name="edgeType"/> (GraphLearn's <c>g.E(type, reverse)</c>),
    /// with local mode's rules for <paramref name="reverse"/>. The store hands out an edge type's edges whole and without
    /// weights, so the dataset fetches them once, and its results refuse <c>Weights</c>.
    /// </summary>
    public GslQuery E(string edgeType, bool reverse = false)
    {
        var t = Edge(edgeType);
        if (reverse)
        {
            if (ReverseOf(t) is { } of)
                throw new InvalidOperationException(
                    $"E(\"{edgeType}\", reverse: true): {t} is already the reverse of '{of.Relation}'; traverse its edges with E(\"{of.Relation}\").");
            var directedness = Directed(t);
            if (t.Src == t.Dst)
                throw new InvalidOperationException(directedness == true
                    ? $"E(\"{edgeType}\", reverse: true): {t} is directed, so it has no reverse edges; load it with directed: false, or use E(\"{edgeType}\")."
                    : $"E(\"{edgeType}\", reverse: true): {t} is within {t.Src}, so it has no reverse type (undirected, its edges already hold both directions); use E(\"{edgeType}\").");
            if (directedness != false)
                throw new InvalidOperationException(
                    $"E(\"{edgeType}\", reverse: true): {t} is directed, so it has no reverse edges; load it with directed: false, or use E(\"{edgeType}\").");
            t = Store.Schema.Edge(t).Reverse!.Value;
        }
        return GslQuery.Source(this, StepKind.SourceEdges, t, t.Src,
            TaskCount == 1 ? $"E({t.Relation})" : $"E({t.Relation}, share {TaskIndex} of {TaskCount})");
    }

    internal NodeType Node(string name)
    {
        foreach (var n in Store.Schema.NodeTypes)
            if (n.Type.Name == name) return n.Type;
        throw new KeyNotFoundException(
            $"The graph store has no node type '{name}'. Known: {string.Join(", ", Store.Schema.NodeTypes.Select(n => n.Type.Name))}.");
    }

    internal CanonicalEdgeType Edge(string relation)
    {
        foreach (var e in Store.Schema.EdgeTypes)
            if (e.Type.Relation == relation) return e.Type;
        throw new KeyNotFoundException(
            $"The graph store has no edge type '{relation}'. Known: {string.Join(", ", Store.Schema.EdgeTypes.Select(e => e.Type.Relation))}.");
    }

    /// <summary>GraphLearn walks an edge type backwards only where it is undirected (as local mode's inV/inE/inNeg).</summary>
    internal void RequireInDirection(CanonicalEdgeType t, string verb)
    {
        var outVerb = "out" + verb[2..];
        if (ReverseOf(t) is { } of)
            throw new InvalidOperationException(
                $"{verb}({t.Relation}): {t} is the reverse of '{of.Relation}' and has no reverse of its own; walk it backwards with {outVerb}(\"{of.Relation}\").");
        switch (Directed(t))
        {
            case true:
                throw new InvalidOperationException(
                    $"{verb}({t.Relation}): {t} is directed, so it has no in-direction; walk it with {outVerb}(\"{t.Relation}\") from its {t.Src} end, or load it with directed: false.");
            case null:
                throw new NotSupportedException(
                    $"{verb}({t.Relation}): this partition store does not record whether {t} (within {t.Src}) is directed (it was not written from GraphLearn sources), and GraphLearn walks only an " +
                    $"undirected type backwards. Pass the declaration to GslStore (a ClusterGraph does when this task declared the edge with g.Edge(…)), or use {outVerb}(\"{t.Relation}\").");
        }
    }

    /// <summary>
    /// The type whose out-direction is <paramref name="t"/>'s in-direction, for the store's negatives (which draw along
    /// out-edges): the <c>_reverse</c> twin of an undirected type between two node types, the type itself within one.
    /// </summary>
    internal CanonicalEdgeType InDirectionType(CanonicalEdgeType t) => t.Src == t.Dst ? t : Store.Schema.Edge(t).Reverse!.Value;

    private CanonicalEdgeType? ReverseOf(CanonicalEdgeType t) =>
        t.Relation.EndsWith(CanonicalEdgeType.ReverseSuffix, StringComparison.Ordinal) && Store.Schema.Edge(t).Reverse is { } forward
            && forward.Relation + CanonicalEdgeType.ReverseSuffix == t.Relation ? forward : null;

    // True / false as declared to this task; else, within one node type, as the store recorded it (a store written from
    // GraphLearn sources; null otherwise); between two node types, undirected exactly when its _reverse twin was loaded.
    private bool? Directed(CanonicalEdgeType t)
    {
        if (directed?.Invoke(t.Relation) is { } declared) return declared;
        if (t.Src == t.Dst) return Store.Schema.Edge(t).Columns.Directed;
        return Store.Schema.Edge(t).Reverse is null;
    }
}

/// <summary>A chosen set of a node type as GSL sources over a store: a mask's set (<paramref name="Split"/>), or the nodes at one end of an edge type.</summary>
internal sealed record ChosenSources(SplitKind? Split, CanonicalEdgeType? EdgeType, bool Incoming);
