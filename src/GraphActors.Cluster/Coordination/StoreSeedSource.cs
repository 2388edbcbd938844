// The default seed source: the training-mask nodes of the job's target type in its partition store (node
// classification), or the positions of the training edges of its edge split (link prediction), owned per the
// partition book.
using GraphActors.Cluster.Trainers;
using GraphActors.Contracts;
using GraphActors.Graph.Storage;
using GraphActors.Sampling;
using GraphActors.Training;
using Job = GraphActors.Contracts.Protocols.TrainingProtocol.TrainingConfig;

namespace GraphActors.Cluster.Coordination;

public sealed class StoreSeedSource : ISeedSource
{
    public SeedSet Load(Job config)
    {
        var store = PartitionStore.Open(config.StorePath);
        if (config.Task.Replace('-', '_') == "link_prediction") return LinkSeeds(store, config);
        // The train ids local mode trains on (the store's masks, or node_split = random's seeded split), in its order:
        // the coordinator's global batches are then local mode's batches.
        var training = TrainingHocon.FromJob(config, "seeds");
        var type = new NodeType(config.Target);
        using var graph = new PartitionedGraphStore(store);
        var splits = Trainer.NodeSplitsAsync(graph, training, type).GetAwaiter().GetResult();
        var book = store.Book;
        return new SeedSet(splits[SplitKind.Train], id => book.Owner(type, id));
    }

    /// <summary>
    /// Seed i is the i-th training edge of the split every trainer computes (same store, fractions and seed), owned by
    /// the partition of its source node: DistDGL's edge split, the trainer near the edge's source samples it.
    /// </summary>
    private static SeedSet LinkSeeds(PartitionStore store, Job config)
    {
        var training = TrainingHocon.FromJob(config, "seeds");
        using var graph = new PartitionedGraphStore(store);
        var type = training.TargetEdgeType(graph.Schema);
        var split = EdgeSplit.CreateAsync(graph, type, training.ValFraction, training.TestFraction, (ulong)training.Seed).AsTask().GetAwaiter().GetResult();
        var src = split.Train.Src;
        var seeds = new int[split.Train.Count];
        for (var i = 0; i < seeds.Length; i++) seeds[i] = i;
        var book = store.Book;
        return new SeedSet(seeds, i => book.Owner(type.Src, src[i]));
    }
}
