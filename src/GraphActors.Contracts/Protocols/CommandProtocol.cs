// What `graphactors ctl` asks a node's CommandHandler (through the cluster client) and what it answers.
namespace GraphActors.Contracts.Protocols;

/// <summary>
/// The control protocol. Addresses travel as strings (<c>akka.tcp://graphactors@host:port</c>) so that the CLI
/// needs nothing of a cluster to print them; times are Unix milliseconds (0: unknown).
/// </summary>
public static class CommandProtocol
{
    // ---- cluster membership ----

    /// <summary>The membership as the answering node sees it.</summary>
    public sealed record GetClusterState : IGraphActorsMessage
    {
        public static readonly GetClusterState Instance = new();
    }

    /// <summary>
    /// One member: its status (Joining, WeaklyUp, Up, Leaving, Exiting, Down, Removed), whether the answering node
    /// can reach it, and when the answering node saw it become Up (0 when it was already up before that node looked).
    /// </summary>
    public sealed record MemberInfo(string Address, string[] Roles, string Status, bool Reachable, long UpSinceUnixMs)
    {
        // Roles by content: two snapshots of the same member are equal.
        public bool Equals(MemberInfo? other) =>
            other is not null && Address == other.Address && Roles.AsSpan().SequenceEqual(other.Roles) && Status == other.Status
            && Reachable == other.Reachable && UpSinceUnixMs == other.UpSinceUnixMs;

        public override int GetHashCode() => HashCode.Combine(Address, Status, Reachable, UpSinceUnixMs);
    }

    /// <summary>Every member ordered by address; <paramref name="Leader"/> is empty while there is none.</summary>
    public sealed record ClusterStateResult(string SelfAddress, string Leader, MemberInfo[] Members) : IGraphActorsMessage;

    /// <summary>Ask <paramref name="Address"/> to leave gracefully (its partitions move first).</summary>
    public sealed record LeaveMember(string Address) : IGraphActorsMessage;

    /// <summary>Mark <paramref name="Address"/> as down (for a member that is gone and will not come back by itself).</summary>
    public sealed record DownMember(string Address) : IGraphActorsMessage;

    /// <summary>The outcome of a command that changes something, in words.</summary>
    public sealed record CommandResult(bool Ok, string Message) : IGraphActorsMessage;

    /// <summary>
    /// Stream membership and reachability events to the sender until it unsubscribes or goes away. Sending it again
    /// renews the subscription (the cluster client's response tunnel lives only as long as the client keeps talking).
    /// </summary>
    public sealed record SubscribeMembership : IGraphActorsMessage
    {
        public static readonly SubscribeMembership Instance = new();
    }

    /// <summary>The subscription is in place; <paramref name="Node"/> is the address of the node streaming the events.</summary>
    public sealed record MembershipSubscribed(string Node) : IGraphActorsMessage;

    public sealed record UnsubscribeMembership : IGraphActorsMessage
    {
        public static readonly UnsubscribeMembership Instance = new();
    }

    /// <summary>
    /// A membership or reachability change as <paramref name="ObservedBy"/> saw it. <paramref name="Kind"/> is one of
    /// joined, weakly-up, up, left, exited, downed, removed, unreachable, reachable.
    /// </summary>
    public sealed record MembershipEvent(string Kind, MemberInfo Member, string ObservedBy, long AtUnixMs) : IGraphActorsMessage;

    // ---- partitions ----

    /// <summary>Where every partition runs and how busy it is; partitions that do not answer within <paramref name="TimeoutMs"/> are reported as such.</summary>
    public sealed record GetPartitions(long TimeoutMs) : IGraphActorsMessage;

    /// <summary>What a partition reports of itself.</summary>
    public enum PartitionState : byte
    {
        /// <summary>Loaded and answering.</summary>
        Serving = 0,
        /// <summary>Answered with an error (not loaded, store unreadable): see the problem.</summary>
        Failed = 1,
        /// <summary>Allocated to a node but gave no answer in time.</summary>
        NoAnswer = 2,
        /// <summary>Known from the partition count but not allocated to any node.</summary>
        NotAllocated = 3,
    }

    /// <summary>
    /// One partition. <paramref name="RequestsPerSecond"/> is the rate since the answering node's previous
    /// <see cref="GetPartitions"/> (negative: unknown, on the first query or after the partition moved or reloaded).
    /// </summary>
    public sealed record PartitionStatus(
        int Partition,
        PartitionState State,
        string Node,
        long MappedBytes,
        long Requests,
        double RequestsPerSecond,
        string Problem);

    /// <summary>Every partition by number; <paramref name="Problem"/> is non-empty when the shard coordinator itself did not answer.</summary>
    public sealed record PartitionsResult(int Parts, PartitionStatus[] Partitions, string Problem) : IGraphActorsMessage;
}
