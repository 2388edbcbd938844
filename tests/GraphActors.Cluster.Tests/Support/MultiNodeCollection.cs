// Specs that start several ActorSystems forming a cluster run one at a time: on a 2-core machine, concurrent clusters
// slow each other's joins and shard allocation enough to move partitions off their home node mid-test.
namespace GraphActors.Cluster.Tests.Support;

[CollectionDefinition(Name)]
public sealed class MultiNodeCollection
{
    public const string Name = "multi-node clusters";
}
