// The cluster roles a GraphActors node can have (DistDGL's server/client split, GraphLearn's deployment modes).
namespace GraphActors.Cluster;

public static class ClusterRoles
{
    /// <summary>Holds partitions: the PartitionActor shard region runs only here.</summary>
    public const string Partition = "partition";
    /// <summary>Samples mini-batches and trains a model replica.</summary>
    public const string Trainer = "trainer";
    /// <summary>Samples without training (optional split of the trainer role).</summary>
    public const string Sampler = "sampler";
    /// <summary>Serves the TorchServe-compatible HTTP API.</summary>
    public const string Inference = "inference";

    public static readonly IReadOnlyList<string> All = [Partition, Trainer, Sampler, Inference];
}
