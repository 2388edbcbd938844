// Every cluster-wide name in one place: sharding type names, singleton names, persistence-id prefixes (kebab-case).
namespace GraphActors.Cluster;

public static class Names
{
    /// <summary>The ActorSystem name; every node of one cluster must use it (it is part of every address).</summary>
    public const string ActorSystem = "graphactors";

    /// <summary>Sharding type name of the PartitionActor entities (entity <c>partition-&lt;i&gt;</c> is shard and entity <c>i</c>).</summary>
    public const string PartitionShard = "partition";

    /// <summary>The actor that starts every partition when the node is up and re-homes a removed node's partitions (/user/partition-starter).</summary>
    public const string PartitionStarter = "partition-starter";

    /// <summary>The display name of partition <paramref name="i"/>, as logs and the CLI show it.</summary>
    public static string PartitionEntity(int i) => $"partition-{i}";

    /// <summary>Actor name of a node's SamplerActor (<c>/user/sampler</c>).</summary>
    public const string Sampler = "sampler";

    /// <summary>Name of the training coordinator's ClusterSingletonManager (<c>/user/training-coordinator</c>) on every trainer-role node.</summary>
    public const string TrainingCoordinatorSingleton = "training-coordinator";

    /// <summary>Name of the proxy every node uses to reach the coordinator singleton.</summary>
    public const string TrainingCoordinatorProxy = "training-coordinator-proxy";

    /// <summary>Persistence id of the training coordinator: one journal for the cluster's jobs (one job at a time).</summary>
    public const string TrainingCoordinatorPersistenceId = "training-coordinator";

    /// <summary>The store-version singleton's manager (<c>/user/store-versions</c>) on every partition-role node, its proxy, journal id and topic.</summary>
    public const string StoreVersionsSingleton = "store-versions";
    public const string StoreVersionsProxy = "store-versions-proxy";
    public const string StoreVersionsFollower = "store-versions-follower";
    public const string StoreVersionsPersistenceId = "store-versions";
    public const string StoreVersionsTopic = "graphactors-store-versions";

    /// <summary>Persistence-id prefix of training jobs (reserved for the persistence work).</summary>
    public const string TrainingJobPersistencePrefix = "training-job-";

    /// <summary>The CommandHandler's actor name on every node; the cluster client addresses it as <see cref="CommandHandlerPath"/>.</summary>
    public const string CommandHandler = "command-handler";

    /// <summary>The path `graphactors ctl` sends to through the ClusterClientReceptionist.</summary>
    public const string CommandHandlerPath = "/user/" + CommandHandler;

    /// <summary>The ActorSystem name of a `graphactors ctl` client (never a member: provider = remote).</summary>
    public const string CtlSystem = "graphactors-ctl";
}
