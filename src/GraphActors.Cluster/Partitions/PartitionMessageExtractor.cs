// Shard id = entity id = partition number: partitions are placed by number, never by hash.
using System.Globalization;
using Akka.Cluster.Sharding;
using static GraphActors.Contracts.Protocols.PartitionProtocol;

namespace GraphActors.Cluster.Partitions;

public sealed class PartitionMessageExtractor : IMessageExtractor
{
    public static readonly PartitionMessageExtractor Instance = new();

    public static string IdOf(int partition) => partition.ToString(CultureInfo.InvariantCulture);

    public static int PartitionOf(string entityOrShardId) =>
        int.TryParse(entityOrShardId, NumberStyles.None, CultureInfo.InvariantCulture, out var p) && p >= 0 ? p
            : throw new ArgumentException($"'{entityOrShardId}' is not a partition number.", nameof(entityOrShardId));

    // Shard.StartEntity is handled by Akka before it reaches an extractor (AK2001), so only our requests appear here.
    public string? EntityId(object message) => message switch
    {
        IPartitionRequest r => IdOf(r.Partition),
        _ => null,
    };

    public object? EntityMessage(object message) => message;

    public string? ShardId(object message) => EntityId(message);

    public string ShardId(string entityId, object? messageHint = null) => entityId;
}
