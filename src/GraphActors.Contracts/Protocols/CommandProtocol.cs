// What `graphactors ctl` asks a node's CommandHandler (through the cluster client) and what it answers.
using static GraphActors.Contracts.Protocols.TrainingProtocol;

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

    /// <summary>Down every member the answering node sees as unreachable (and not already down), answered with <see cref="UnreachableDowned"/>.</summary>
    public sealed record DownUnreachable : IGraphActorsMessage
    {
        public static readonly DownUnreachable Instance = new();
    }

    /// <summary>
    /// The members <paramref name="ObservedBy"/> marked down, by address (empty: none was unreachable);
    /// <paramref name="AlreadyDown"/> were unreachable but already down, waiting for removal.
    /// </summary>
    public sealed record UnreachableDowned(string ObservedBy, string[] Downed, string[] AlreadyDown) : IGraphActorsMessage
    {
        public bool Equals(UnreachableDowned? other) =>
            other is not null && ObservedBy == other.ObservedBy && Downed.AsSpan().SequenceEqual(other.Downed) && AlreadyDown.AsSpan().SequenceEqual(other.AlreadyDown);

        public override int GetHashCode() => HashCode.Combine(ObservedBy, Downed.Length, AlreadyDown.Length);
    }

    /// <summary>
    /// The answering node joins the cluster of <paramref name="Address"/> (Akka's Cluster.Join). Akka ignores a join of a
    /// node that is already part of a cluster, so the node refuses it then, unless <paramref name="Address"/> is a member
    /// of its own cluster (nothing to do).
    /// </summary>
    public sealed record JoinCluster(string Address) : IGraphActorsMessage;

    /// <summary>The outcome of a command that changes something, in words.</summary>
    public sealed record CommandResult(bool Ok, string Message) : IGraphActorsMessage;

    // ---- credentials ----

    /// <summary>
    /// A command that changes the cluster (see <see cref="ChangesCluster"/>), with the cluster's ctl token. The node
    /// compares <paramref name="Token"/> with its <c>graphactors.ctl.token</c> before it does anything; sent bare, such a
    /// command is refused. Read-only commands travel without it.
    /// </summary>
    public sealed record WithToken(string Token, IGraphActorsMessage Command) : IGraphActorsMessage
    {
        // The token never reaches a log line through ToString.
        public override string ToString() => $"WithToken {{ Command = {Command} }}";
    }

    /// <summary>
    /// The answer to a changing command the node refused for its credential: <paramref name="Command"/> is the ctl verb
    /// (<c>cluster leave</c>), <paramref name="Reason"/> says what is missing or wrong and how to give it.
    /// </summary>
    public sealed record NotAuthorized(string Command, string Reason) : IGraphActorsMessage;

    /// <summary>Whether <paramref name="message"/> changes the cluster (and so needs the ctl token): the one list ctl and the node share.</summary>
    public static bool ChangesCluster(object message) => Verb(message) is not null;

    /// <summary>The ctl verb of a changing command, or null for a read-only one.</summary>
    public static string? Verb(object message) => message switch
    {
        LeaveMember => "cluster leave",
        DownMember => "cluster down",
        DownUnreachable => "cluster down-unreachable",
        JoinCluster => "cluster join",
        StartJob => "train start",
        StopJob => "train stop",
        ResumeJob => "train resume",
        // Writes a directory on the node, anywhere its user may write.
        ExportModel => "model export",
        RegisterServedModel => "model register",
        UnregisterServedModel => "model unregister",
        ScaleServedModel => "model scale",
        StoreProtocol.ReloadStore => "store reload",
        _ => null,
    };

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

    // ---- training jobs ----
    // `train start|status|stop|resume` send TrainingProtocol's StartJob, GetJobStatus, StopJob and ResumeJob; the
    // CommandHandler forwards them to the coordinator, whose JobCommandResult / JobStatus come back. When no node with
    // the coordinator's role is up, the CommandHandler answers a CommandResult that says so instead.

    /// <summary>The job the training coordinator holds (its current or last one), with the whole config it was started with.</summary>
    public sealed record GetJobConfig : IGraphActorsMessage
    {
        public static readonly GetJobConfig Instance = new();
    }

    /// <summary><paramref name="Config"/> is null while the coordinator has never had a job.</summary>
    public sealed record JobConfigResult(string JobId, JobState State, TrainingConfig? Config) : IGraphActorsMessage;

    // ---- checkpoints and model export ----

    /// <summary>
    /// The checkpoints of a job, read from the answering node's filesystem: <paramref name="Directory"/> when given
    /// (a job's checkpoint directory, <c>&lt;checkpoint_dir&gt;/&lt;job&gt;</c>), else the coordinator's job's. An empty
    /// <paramref name="JobId"/> means the coordinator's job. The node asks the coordinator within <paramref name="TimeoutMs"/>.
    /// </summary>
    public sealed record ListCheckpoints(string JobId, string Directory, long TimeoutMs) : IGraphActorsMessage;

    /// <summary>
    /// One <c>epoch-NNNN</c> checkpoint: its manifest's metrics (parallel arrays), whether every file's sha256 matches the
    /// manifest (<paramref name="Problem"/> says why not), its size in bytes and when it was written (Unix ms, 0: unknown).
    /// </summary>
    public sealed record CheckpointInfo(
        int Epoch,
        string Path,
        string[] MetricNames,
        double[] MetricValues,
        bool Verified,
        string Problem,
        long Bytes,
        long CreatedUnixMs)
    {
        // Arrays by content: two readings of the same checkpoint are equal.
        public bool Equals(CheckpointInfo? other) =>
            other is not null && Epoch == other.Epoch && Path == other.Path && MetricNames.AsSpan().SequenceEqual(other.MetricNames)
            && MetricValues.AsSpan().SequenceEqual(other.MetricValues) && Verified == other.Verified && Problem == other.Problem
            && Bytes == other.Bytes && CreatedUnixMs == other.CreatedUnixMs;

        public override int GetHashCode() => HashCode.Combine(Epoch, Path, Verified, Bytes, CreatedUnixMs);
    }

    /// <summary>
    /// The checkpoints by epoch, as <paramref name="Node"/> read them under <paramref name="Directory"/>.
    /// <paramref name="LastEpoch"/> is the newest verified one, <paramref name="BestEpoch"/> the verified one with the highest
    /// <paramref name="EvalMetric"/> (−1: none). <paramref name="Problem"/> is non-empty when the listing could not be made.
    /// </summary>
    public sealed record CheckpointsResult(
        string JobId,
        string Directory,
        string Node,
        string EvalMetric,
        int LastEpoch,
        int BestEpoch,
        CheckpointInfo[] Checkpoints,
        string Problem) : IGraphActorsMessage;

    /// <summary>Which checkpoint <see cref="ExportModel"/> takes.</summary>
    public enum ExportChoice : byte
    {
        /// <summary>The best by the job's evaluation metric (the last when none has it).</summary>
        Best = 0,
        Last = 1,
        /// <summary>The one of <see cref="ExportModel.Epoch"/>.</summary>
        Epoch = 2,
    }

    /// <summary>
    /// Copy a checkpoint of the job (chosen as in <see cref="ListCheckpoints"/>) into a self-contained model directory
    /// <paramref name="OutDir"/> on the answering node, which the inference role loads (<c>POST /models?url=OutDir</c>).
    /// </summary>
    public sealed record ExportModel(string JobId, string Directory, ExportChoice Choice, int Epoch, string OutDir, long TimeoutMs)
        : IGraphActorsMessage;

    /// <summary>The outcome of an export: on success the epoch exported, from where, and the model file's sha256 and size.</summary>
    public sealed record ModelExported(
        bool Ok,
        string Message,
        string JobId,
        int Epoch,
        string Source,
        string OutDir,
        string ModelSha256,
        long Bytes,
        string Node) : IGraphActorsMessage;

    // ---- serving: the models of the inference nodes ----
    // The CommandHandler sends these (bare: it has checked the token) to the InferenceActor of every inference member
    // (or of the one named by Node), which calls the same engine methods as the HTTP management API and answers an
    // InferenceNodeAnswer; the CommandHandler gathers them into one ServedModelsResult, a node that does not answer in
    // time named with code 504. TimeoutMs bounds the gathering.

    /// <summary>Every inference node's models (all versions).</summary>
    public sealed record GetServedModels(long TimeoutMs) : IGraphActorsMessage;

    /// <summary>
    /// Register the model at <paramref name="Url"/> (a path in each node's model store, as <c>POST /models?url=</c>) as
    /// <paramref name="Name"/> (empty: the url's last segment) and <paramref name="Version"/> (empty: the checkpoint's);
    /// <paramref name="InitialWorkers"/> −1: the engine's default. <paramref name="Node"/> empty: every inference node.
    /// </summary>
    public sealed record RegisterServedModel(string Url, string Name, string Version, int InitialWorkers, string Node, long TimeoutMs)
        : IGraphActorsMessage;

    /// <summary>Unregister a version of a model (empty: its default version) on every inference node, or on <paramref name="Node"/>.</summary>
    public sealed record UnregisterServedModel(string Name, string Version, string Node, long TimeoutMs) : IGraphActorsMessage;

    /// <summary>Scale the workers of a version of a model (empty: its default version), as <c>PUT /models/{name}?min_worker&amp;max_worker</c>.</summary>
    public sealed record ScaleServedModel(string Name, string Version, int MinWorkers, int MaxWorkers, string Node, long TimeoutMs)
        : IGraphActorsMessage;

    /// <summary>One registered version of a model on a node; <paramref name="Status"/> READY or UNLOADING, as the management API describes it.</summary>
    public sealed record ServedModel(string Name, string Version, bool IsDefault, int MinWorkers, int MaxWorkers, string Status, string Url);

    /// <summary>
    /// One inference node's answer: <paramref name="Code"/> is the HTTP status the management API would give (200; 400 bad
    /// url or name; 404 unknown model; 409 version exists; 503 not serving; 504 no answer in time), <paramref name="Message"/>
    /// its status or error text, <paramref name="Models"/> the node's models (list) or the version changed.
    /// </summary>
    public sealed record InferenceNodeAnswer(string Node, bool Ok, int Code, string Message, ServedModel[] Models) : IGraphActorsMessage
    {
        public bool Equals(InferenceNodeAnswer? other) =>
            other is not null && Node == other.Node && Ok == other.Ok && Code == other.Code && Message == other.Message
            && Models.AsSpan().SequenceEqual(other.Models);

        public override int GetHashCode() => HashCode.Combine(Node, Ok, Code, Message, Models.Length);
    }

    /// <summary>
    /// Every asked inference node's answer, by address. <paramref name="Problem"/> is non-empty when no node could be
    /// asked (no inference member up, or <c>--node</c> names none).
    /// </summary>
    public sealed record ServedModelsResult(InferenceNodeAnswer[] Nodes, string Problem) : IGraphActorsMessage
    {
        public bool Equals(ServedModelsResult? other) =>
            other is not null && Problem == other.Problem && Nodes.AsSpan().SequenceEqual(other.Nodes);

        public override int GetHashCode() => HashCode.Combine(Problem, Nodes.Length);
    }
}
