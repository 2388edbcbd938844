// The default seed source: the training-mask nodes of the job's target type in its partition store, owned per the partition book.
using GraphActors.Contracts;
using GraphActors.Graph.Storage;
using static GraphActors.Contracts.Protocols.TrainingProtocol;

namespace GraphActors.Cluster.Coordination;

public sealed class StoreSeedSource : ISeedSource
{
    public SeedSet Load(TrainingConfig config)
    {
        var store = PartitionStore.Open(config.StorePath);
        var type = new NodeType(config.Target);
        var seeds = new List<int>();
        for (var p = 0; p < store.Parts; p++)
        {
            // Masks only: a partition's mapping is released as soon as its train ids are read.
            using var part = store.LoadPartition(p);
            var nodes = part.Nodes(type);
            var mask = nodes.TrainMask.Span;
            for (var i = 0; i < mask.Length; i++)
                if (mask[i] != 0) seeds.Add(nodes.Start + i);
        }
        var book = store.Book;
        return new SeedSet(seeds.ToArray(), id => book.Owner(type, id));
    }
}
