// partition --update: a new day's graph into a new store version that keeps every existing node's owner and id.
using System.Runtime.InteropServices;
using GraphActors.Contracts;
using GraphActors.Graph.Storage;

namespace GraphActors.Graph.Partitioning;

/// <summary>Where <c>partition --update</c> puts the day's new nodes.</summary>
public enum NewNodePlacement
{
    /// <summary>The partition hashing their business id (what a full hash partitioning would give them).</summary>
    Hash,
    /// <summary>The partition holding most of their neighbours among existing nodes (hash when they have none).</summary>
    Neighbours,
}

/// <summary>What an update did per node type: nodes kept (same id and owner), new (appended), retired (absent from the new graph).</summary>
public sealed record UpdateCounts(string Type, int Kept, int Added, int Retired, int[] AddedPerPartition);

public static partial class GraphPartitioner
{
    /// <summary>
    /// Brings the store at <paramref name="previousStore"/> up to date with <paramref name="source"/>, the complete
    /// graph of a later day (its CGDF), writing a new store at <c>options.OutputDirectory</c> (atomically, as
    /// <see cref="Run"/> does) and leaving the previous one untouched:
    /// <list type="bullet">
    /// <item>a node the previous store holds (matched by business id) keeps its owner and its id, so ids handed out
    /// yesterday (serving caches, embedding rows, a trainer's batch in flight) mean the same node today;</item>
    /// <item>a new node goes to a partition (<paramref name="placement"/>) and gets an id after every existing one:
    /// the new ids of each type form one more generation of the partition book, grouped by owner, so each partition's
    /// older rows keep their places;</item>
    /// <item>a node of the previous store missing from the new graph is <em>retired</em>: it keeps its id, business
    /// id, label and features (a lookup still answers), loses its edges and leaves every split;</item>
    /// <item>edges, labels, masks and features are the new graph's.</item>
    /// </list>
    /// The partition count, method and default split are the previous store's; <paramref name="placement"/> defaults to
    /// the method's (hash for a hash store, neighbours for a METIS store). Node types must be the same and keep
    /// their feature widths; edge types may change.
    /// </summary>
    public static (PartitionReport Report, IReadOnlyList<UpdateCounts> Counts) Update(IPartitionSource source, string previousStore,
        PartitionOptions options, NewNodePlacement? placement = null)
    {
        var previous = PartitionStore.Open(previousStore);
        // By default new nodes follow the store's method: a hash store hashes them, a METIS store keeps its locality.
        var place = placement ?? (previous.Manifest.Method == MetisPartitioner.MethodName ? NewNodePlacement.Neighbours : NewNodePlacement.Hash);
        var parts = previous.Parts;
        options = options with { Parts = parts, Method = previous.Manifest.Method };
        CheckSchema(source, previous);
        var split = previous.Manifest.DefaultSplit ?? options.Split;
        var counts = new List<UpdateCounts>();
        var report = Write(options, (temp, Phase) =>
        {
            var old = Enumerable.Range(0, parts).Select(p => previous.LoadPartition(p)).ToArray();
            try
            {
                var nodes = source.NodeTypes.Select(n => NodeTable.Read(source, n, split)).ToArray();
                Phase("read nodes");
                var plans = nodes.Select(t => Match(t, previous.Book.For(t.Type), old)).ToArray();
                Phase("match business ids");
                if (place == NewNodePlacement.Neighbours) PlaceByNeighbours(source, plans, previous.Book);
                var generations = new Dictionary<NodeType, IReadOnlyList<int[]>>();
                foreach (var t in previous.Book.NodeTypes)
                {
                    var b = previous.Book.For(t);
                    var list = Enumerable.Range(0, b.GenerationCount).Select(g => b.Generation(g).ToArray()).ToList();
                    var plan = plans.First(x => x.Table.Type == t);
                    if (plan.Added > 0) list.Add(plan.AssignNewIds(parts));
                    generations[t] = list;
                }
                var book = new PartitionBook(parts, generations);
                var newIds = plans.ToDictionary(x => x.Table.Type, x => x.NewIds);
                foreach (var plan in plans)
                {
                    counts.Add(new UpdateCounts(plan.Table.Type.Name, plan.Kept, plan.Added, plan.Retired, plan.AddedPerPartition));
                    options.Progress?.Invoke($"{plan.Table.Type}: {plan.Kept:N0} kept, {plan.Added:N0} new, {plan.Retired:N0} retired (absent from the new graph; ids kept, no edges, in no split)");
                }
                Phase($"place new nodes ({(place == NewNodePlacement.Hash ? "hash" : "neighbours")})");

                var edgeCounts = WriteEdges(source, temp, book, newIds, null, options);
                Phase("write edges");
                foreach (var plan in plans) plan.WriteNodeColumns(temp, book, old);
                Phase("write ids, labels, masks");
                foreach (var plan in plans)
                {
                    if (plan.Table.Info.FeatureDim == 0) continue;
                    WriteFeatures(source, temp, plan.Table.Info, book, plan.NewIds);
                    plan.CopyRetiredFeatures(temp, book, old);
                }
                Phase("write features");

                var nodeTypes = previous.Manifest.NodeTypes.Select(n =>
                {
                    var info = source.NodeTypes.First(s => s.Type.Name == n.Name);
                    return new ManifestNodeType(n.Name, book.NodeCount(info.Type), n.FeatureDim, Math.Max(n.LabelCount, info.LabelCount), info.HasMasks);
                }).ToArray();
                return Manifest(previous.Manifest.Method, parts, previous.Manifest.Seed, nodeTypes, source.EdgeTypes, book, edgeCounts,
                    source.NodeTypes.Any(n => n.LabelCount > 0 && !n.HasMasks) ? split : previous.Manifest.DefaultSplit) with
                {
                    UpdatedFrom = previous.Lineage,
                };
            }
            finally
            {
                foreach (var p in old) p.Dispose();
            }
        });
        return (report, counts);
    }

    private static void CheckSchema(IPartitionSource source, PartitionStore previous)
    {
        var before = previous.Manifest.NodeTypes.ToDictionary(n => n.Name);
        var now = source.NodeTypes.ToDictionary(n => n.Type.Name);
        foreach (var name in before.Keys.Where(n => !now.ContainsKey(n)))
            throw new BadInputException($"--update {previous.Root}: node type '{name}' is in the previous store but not in the new graph; an update keeps every node type (partition in full to drop one).");
        foreach (var (name, info) in now)
        {
            if (!before.TryGetValue(name, out var was))
                throw new BadInputException($"--update {previous.Root}: node type '{name}' is new; an update keeps the node types of the previous store (partition in full to add one).");
            if (was.FeatureDim != info.FeatureDim)
                throw new BadInputException($"--update {previous.Root}: node type '{name}' has {info.FeatureDim} features per node, the previous store {was.FeatureDim}; partition in full when the features change shape.");
        }
        foreach (var e in source.EdgeTypes)
            if (!now.ContainsKey(e.Type.Src.Name) || !now.ContainsKey(e.Type.Dst.Name))
                throw new GraphInputException($"edge type {e.Type}", 0, null, "names a node type the source does not declare.");
    }

    /// <summary>
    /// Each source node matched to its id in the previous store, or marked new (−1) with its hash partition to go to.
    /// The match reads each previous partition's sorted business-id lookup where it is mapped (its hash owner first,
    /// where a hash store keeps it), so nothing per previous node is resident but one flag (present or retired).
    /// </summary>
    private static UpdatePlan Match(NodeTable table, NodeBook previous, LoadedPartition[] old)
    {
        var parts = previous.Parts;
        var owners = old.Select(p => p.Nodes(table.Type)).ToArray();
        var newIds = new int[table.Count];
        var present = new bool[previous.NodeCount];
        var target = new int[table.Count]; // the new nodes' partitions (−1 for kept nodes)
        var added = 0;
        for (var v = 0; v < table.Count; v++)
        {
            var business = table.Business[v];
            var hashed = HashPartitioner.PartitionOf(business, parts);
            var found = owners[hashed].TryGetId(business, out var id);
            for (var p = 0; !found && p < parts; p++)
                if (p != hashed) found = owners[p].TryGetId(business, out id);
            if (found)
            {
                newIds[v] = id;
                present[id] = true;
                target[v] = -1;
            }
            else
            {
                newIds[v] = -1;
                target[v] = hashed;
                added++;
            }
        }
        return new UpdatePlan(table, previous.NodeCount, present, newIds, target, added);
    }

    /// <summary>
    /// New nodes go to the partition owning most of their existing neighbours over every edge type, in and out (a tie
    /// goes to the lower partition; a node with no existing neighbour keeps its hash partition). One pass over the edges.
    /// </summary>
    private static void PlaceByNeighbours(IPartitionSource source, UpdatePlan[] plans, PartitionBook previous)
    {
        var byType = plans.ToDictionary(p => p.Table.Type);
        var parts = previous.Parts;
        var votes = plans.ToDictionary(p => p.Table.Type, p => new Dictionary<int, int[]>());
        // New node v (of `ids`) gets a vote for the owner of existing node u (of `otherIds`).
        void Vote(int[] ids, Dictionary<int, int[]> table, int v, NodeBook otherBook, int[] otherIds, int u)
        {
            if (ids[v] >= 0) return;
            var id = otherIds[u];
            if (id < 0) return; // another new node: not placed yet
            if (!table.TryGetValue(v, out var perPart)) table[v] = perPart = new int[parts];
            perPart[otherBook.LocateUnchecked(id, out _)]++;
        }
        foreach (var e in source.EdgeTypes)
        {
            var (srcIds, dstIds) = (byType[e.Type.Src].NewIds, byType[e.Type.Dst].NewIds);
            var (srcVotes, dstVotes) = (votes[e.Type.Src], votes[e.Type.Dst]);
            var (srcBook, dstBook) = (previous.For(e.Type.Src), previous.For(e.Type.Dst));
            foreach (var chunk in source.ReadEdges(e.Type))
            {
                var s = chunk.Src.Span;
                var d = chunk.Dst.Span;
                for (var i = 0; i < chunk.Length; i++)
                {
                    if ((uint)s[i] >= (uint)srcIds.Length || (uint)d[i] >= (uint)dstIds.Length)
                        throw new GraphInputException($"edge type {e.Type}", 0, null, $"edge ({s[i]}, {d[i]}) names a node outside the node tables.");
                    Vote(srcIds, srcVotes, s[i], dstBook, dstIds, d[i]);
                    Vote(dstIds, dstVotes, d[i], srcBook, srcIds, s[i]);
                }
            }
        }
        foreach (var plan in plans)
            foreach (var (v, perPart) in votes[plan.Table.Type])
            {
                var best = 0;
                for (var p = 1; p < parts; p++) if (perPart[p] > perPart[best]) best = p;
                plan.Target[v] = best;
            }
    }

    private sealed class UpdatePlan(NodeTable table, int oldCount, bool[] present, int[] newIds, int[] target, int added)
    {
        public NodeTable Table { get; } = table;
        /// <summary>Source dense id → store id (−1 for new nodes until <see cref="AssignNewIds"/>).</summary>
        public int[] NewIds { get; } = newIds;
        public int[] Target { get; } = target;
        public int Added { get; } = added;
        public int Kept => Table.Count - Added;
        public int Retired => oldCount - Kept;
        public int[] AddedPerPartition { get; private set; } = [];

        /// <summary>Ids for the new nodes after the existing ones, grouped by partition in source order; returns the generation's boundaries.</summary>
        public int[] AssignNewIds(int parts)
        {
            var b = new int[parts + 1];
            b[0] = oldCount;
            for (var v = 0; v < Target.Length; v++) if (NewIds[v] < 0) b[Target[v] + 1]++;
            AddedPerPartition = new int[parts];
            for (var p = 0; p < parts; p++) { AddedPerPartition[p] = b[p + 1]; b[p + 1] += b[p]; }
            var next = b[..parts];
            for (var v = 0; v < Target.Length; v++) if (NewIds[v] < 0) NewIds[v] = next[Target[v]]++;
            return b;
        }

        /// <summary>Business ids, labels and masks by store id: the new graph's for its nodes, the previous store's for retired ones (in no split).</summary>
        public void WriteNodeColumns(string temp, PartitionBook book, LoadedPartition[] old)
        {
            var n = book.NodeCount(Table.Type);
            var nodeBook = book.For(Table.Type);
            var business = new long[n];
            var labelled = Table.Labels.Length > 0 || old.Any(p => !p.Nodes(Table.Type).Labels.IsEmpty);
            var labels = labelled ? new int[n] : [];
            labels.AsSpan().Fill(-1);
            var split = new byte[n]; // retired nodes stay out of every split
            for (var v = 0; v < Table.Count; v++)
            {
                var id = NewIds[v];
                business[id] = Table.Business[v];
                split[id] = Table.Split[v];
                if (Table.Labels.Length > 0) labels[id] = Table.Labels[v];
            }
            // A retired node's row is where the previous store had it: generations only append rows.
            for (var id = 0; id < oldCount; id++)
            {
                if (present[id]) continue;
                var from = old[nodeBook.Locate(id, out var row)].Nodes(Table.Type);
                business[id] = from.BusinessIds.Span[row];
                if (labelled && !from.Labels.IsEmpty) labels[id] = from.Labels.Span[row];
            }
            for (var p = 0; p < book.Parts; p++)
                WritePartitionNodeColumns(StoreLayout.NodeDir(PartTemp(temp, p), Table.Type), Table.Type, nodeBook.Part(p), business, labels, split);
        }

        /// <summary>Retired nodes keep the features the previous store had for them (rows the new graph did not write).</summary>
        public void CopyRetiredFeatures(string temp, PartitionBook book, LoadedPartition[] old)
        {
            if (Retired == 0) return;
            var dim = Table.Info.FeatureDim;
            var nodeBook = book.For(Table.Type);
            var handles = new Microsoft.Win32.SafeHandles.SafeFileHandle?[book.Parts];
            try
            {
                for (var id = 0; id < oldCount; id++)
                {
                    if (present[id]) continue;
                    var p = nodeBook.Locate(id, out var row);
                    var from = old[p].Nodes(Table.Type);
                    handles[p] ??= File.OpenHandle(Path.Combine(StoreLayout.NodeDir(PartTemp(temp, p), Table.Type), StoreLayout.Features), FileMode.Open, FileAccess.Write);
                    RandomAccess.Write(handles[p]!, MemoryMarshal.AsBytes(from.Features.Row(from.LocalRow(id))), StoreFile.HeaderSize + (long)row * dim * sizeof(float));
                }
            }
            finally
            {
                foreach (var h in handles) h?.Dispose();
            }
        }
    }
}
