// Store versions: a running cluster switches to a newer partition store (a daily refresh) without stopping its partitions.
namespace GraphActors.Contracts.Protocols;

/// <summary>
/// A cluster serves one store version at a time, numbered from 0 (the store its nodes were started on,
/// <c>graphactors.partitions.store-path</c>). A reload loads version v+1 on every partition BESIDE version v (entity
/// <c>p@v+1</c> next to <c>p</c> or <c>p@v</c>, in the same shard, so on the same node), switches every node's view once
/// all partitions hold it, and retires version v after a drain. Requests for version v > 0 travel inside a
/// <see cref="VersionedRequest"/>; version 0's go bare, as before versions existed. Manifests start with "V".
/// </summary>
public static class StoreProtocol
{
    /// <summary>The sharded entity of partition <paramref name="Request"/>.Partition at store version <paramref name="Version"/> (> 0) answers <paramref name="Request"/>.</summary>
    public sealed record VersionedRequest(int Version, PartitionProtocol.IPartitionRequest Request) : PartitionProtocol.IPartitionRequest
    {
        public long RequestId => Request.RequestId;
        public int Partition => Request.Partition;
        public long DeadlineUnixMs => Request.DeadlineUnixMs;
    }

    /// <summary>Load version <paramref name="Version"/> of the partition from the store at <paramref name="Path"/> (sent inside a <see cref="VersionedRequest"/>).</summary>
    public sealed record LoadStoreVersion(long RequestId, int Partition, int Version, string Path, long DeadlineUnixMs) : PartitionProtocol.IPartitionRequest;

    /// <summary>The partition serves <paramref name="Version"/>; <paramref name="MappedBytes"/> are its files.</summary>
    public sealed record StoreVersionLoaded(long RequestId, int Partition, int Version, long MappedBytes) : PartitionProtocol.IPartitionResponse;

    /// <summary>Version <paramref name="Version"/> of the partition is no longer asked for: it stops (its files unmapped). Not answered.</summary>
    public sealed record RetireStoreVersion(long RequestId, int Partition, int Version, long DeadlineUnixMs) : PartitionProtocol.IPartitionRequest;

    /// <summary>
    /// The version every node reads from now (published to every node when it changes, and the answer to
    /// <see cref="GetStoreVersion"/>): <paramref name="Version"/> at <paramref name="Path"/>, after
    /// <paramref name="Previous"/> at <paramref name="PreviousPath"/> (−1 and "" for version 0).
    /// </summary>
    public sealed record StoreVersionChanged(int Version, string Path, int Previous, string PreviousPath) : IGraphActorsMessage;

    /// <summary>Asks the store-version singleton which version is current (answered with <see cref="StoreVersionChanged"/>).</summary>
    public sealed record GetStoreVersion : IGraphActorsMessage
    {
        public static readonly GetStoreVersion Instance = new();
    }

    /// <summary>
    /// `ctl store reload PATH`: switch the cluster to the store at <paramref name="Path"/> (a store brought up to date
    /// from the current one with <c>partition --update</c>). Refused while a training job runs or another reload does.
    /// </summary>
    public sealed record ReloadStore(string Path, long TimeoutMs) : IGraphActorsMessage;

    /// <summary>What a reload did: <paramref name="Ok"/> with the version now served, or why nothing changed.</summary>
    public sealed record StoreReloaded(bool Ok, int Version, string Path, string Message) : IGraphActorsMessage;

    /// <summary>The journal's event: version <paramref name="Version"/> at <paramref name="Path"/> is served from now on.</summary>
    public sealed record StoreVersionSwitched(int Version, string Path, int Previous, string PreviousPath) : IGraphActorsMessage;
}
