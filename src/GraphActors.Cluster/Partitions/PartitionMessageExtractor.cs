// Shard id = partition number: partitions are placed by number, never by hash. Entity id = the partition, or "p@v" for store version v > 0.
using System.Globalization;
using Akka.Cluster.Sharding;
using static GraphActors.Contracts.Protocols.PartitionProtocol;
using static GraphActors.Contracts.Protocols.StoreProtocol;

namespace GraphActors.Cluster.Partitions;

/// <summary>
/// Every store version of partition p lives in shard p, so a reload loads the new version on the node already serving
/// the old one, and both move together. Version 0 (the store the cluster started on) keeps the entity id "p"; version
/// v > 0 is "p@v", addressed by a <see cref="VersionedRequest"/> whose inner request the entity receives.
/// </summary>
public sealed class PartitionMessageExtractor : IMessageExtractor
{
    public static readonly PartitionMessageExtractor Instance = new();

    public static string IdOf(int partition) => partition.ToString(CultureInfo.InvariantCulture);

    public static string IdOf(int partition, int version) =>
        version == 0 ? IdOf(partition) : string.Create(CultureInfo.InvariantCulture, $"{partition}@{version}");

    /// <summary>The partition of an entity or shard id ("p" or "p@v").</summary>
    public static int PartitionOf(string entityOrShardId) => Parse(entityOrShardId).Partition;

    /// <summary>The store version of an entity id: 0 for "p", v for "p@v".</summary>
    public static int VersionOf(string entityId) => Parse(entityId).Version;

    private static (int Partition, int Version) Parse(string id)
    {
        var at = id.IndexOf('@');
        var (p, v) = at < 0 ? (id, "0") : (id[..at], id[(at + 1)..]);
        return int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out var partition) && partition >= 0 &&
               int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var version) && version >= 0
            ? (partition, version)
            : throw new ArgumentException($"'{id}' is not a partition number (or partition@version).", nameof(id));
    }

    // Shard.StartEntity is handled by Akka before it reaches an extractor (AK2001), so only our requests appear here.
    public string? EntityId(object message) => message switch
    {
        VersionedRequest v => IdOf(v.Partition, v.Version),
        IPartitionRequest r => IdOf(r.Partition),
        _ => null,
    };

    public object? EntityMessage(object message) => message is VersionedRequest v ? v.Request : message;

    public string? ShardId(object message) => message is IPartitionRequest r ? IdOf(r.Partition) : null;

    public string ShardId(string entityId, object? messageHint = null) => IdOf(PartitionOf(entityId));
}
