// Every node's Prometheus metrics: one registry per ActorSystem, the runtime's and the roles' collectors on it.
using Akka.Actor;
using Akka.Cluster;
using Prometheus;

namespace GraphActors.Cluster.Metrics;

/// <summary>
/// The metrics of one node (an Akka extension: <c>NodeMetrics.Get(system)</c>), in a registry of its own so that
/// several nodes in one process (tests, benchmarks) keep theirs apart. Holds the .NET runtime and process collectors,
/// the cluster as this node sees it (members by status, unreachable members, refreshed at each scrape) and the role
/// collectors the actors update: partitions, sampler, trainer and averaging. Names follow Prometheus' conventions
/// (base units, <c>_total</c> counters) so that <c>promtool check metrics</c> passes.
/// </summary>
public sealed class NodeMetrics : IExtension
{
    /// <summary>Request latency buckets (seconds): 0.1 ms … 10 s.</summary>
    private static readonly double[] LatencyBuckets = Histogram.ExponentialBuckets(0.0001, 2.5, 14);

    /// <summary>Training step and averaging round buckets (seconds): 1 ms … ~4 min.</summary>
    private static readonly double[] StepBuckets = Histogram.ExponentialBuckets(0.001, 2.5, 14);

    public NodeMetrics(ExtendedActorSystem system)
    {
        Registry = Prometheus.Metrics.NewCustomRegistry();
        DotNetStats.Register(Registry);
        var f = Prometheus.Metrics.WithCustomRegistry(Registry);

        ClusterMembers = f.CreateGauge("graphactors_cluster_members", "Cluster members as this node sees them, by status.", "status");
        ClusterUnreachable = f.CreateGauge("graphactors_cluster_unreachable_members", "Members this node's failure detector marks unreachable.");
        if (system.Provider is Akka.Cluster.ClusterActorRefProvider)
        {
            var cluster = Akka.Cluster.Cluster.Get(system);
            Registry.AddBeforeCollectCallback(() => ObserveCluster(cluster.State));
        }

        PartitionRequests = f.CreateCounter("graphactors_partition_requests_total",
            "Requests a partition of this node answered, by partition and kind (neighbors, features, degrees, ids, negatives, labels, info).", "partition", "kind");
        PartitionRequestSeconds = f.CreateHistogram("graphactors_partition_request_duration_seconds",
            "Time a partition took to answer one request, by kind.", new HistogramConfiguration { LabelNames = ["kind"], Buckets = LatencyBuckets });
        PartitionRows = f.CreateCounter("graphactors_partition_rows_served_total", "Rows (neighbours, feature rows, ids) partitions of this node served.", "partition");
        PartitionDropped = f.CreateCounter("graphactors_partition_requests_dropped_total", "Requests dropped because their deadline had passed.", "partition");
        PartitionsLoaded = f.CreateGauge("graphactors_partitions_loaded", "Partitions loaded and serving on this node.");
        PartitionLoadFailures = f.CreateCounter("graphactors_partition_load_failures_total", "Failed attempts to load a partition from the store (each is retried).", "partition");
        PartitionWireBytes = f.CreateCounter("graphactors_partition_wire_bytes_total",
            "Serialized bytes of the answers partitions of this node sent to other nodes (local requesters get objects).", "partition");

        SamplerBatches = f.CreateCounter("graphactors_sampler_batches_total", "Mini-batches this node's sampler built.");
        SamplerBatchSeconds = f.CreateHistogram("graphactors_sampler_batch_duration_seconds", "Time to sample one mini-batch (blocks, features, labels).",
            new HistogramConfiguration { Buckets = StepBuckets });
        SamplerPhaseSeconds = f.CreateHistogram("graphactors_sampler_phase_duration_seconds",
            "Time of one mini-batch's phases: structure (neighbour sampling and blocks, remote neighbour requests included) and features (gathering its input rows and labels from the partitions, remote fetches included).",
            new HistogramConfiguration { LabelNames = ["phase"], Buckets = StepBuckets });
        SamplerInFlight = f.CreateGauge("graphactors_sampler_batches_in_flight", "Mini-batches this node's sampler is sampling right now.");
        SamplerBatchBytes = f.CreateCounter("graphactors_sampler_batch_bytes_total", "Bytes of the mini-batches this node's sampler built (blocks, features, labels).");

        WireBytes = f.CreateCounter("graphactors_wire_bytes_total",
            "Serialized payload bytes this process sent and received through Akka.Remote (GraphActors' messages; Akka.Remote's envelopes come on top), by direction.", "direction");
        WireMessages = f.CreateCounter("graphactors_wire_messages_total", "Messages this process serialized to send and deserialized on receipt, by direction.", "direction");
        Registry.AddBeforeCollectCallback(() =>
        {
            var (written, sent, read, received) = GraphActors.Contracts.Serialization.WireTraffic.ProcessTotals;
            WireBytes.WithLabels("sent").IncTo(written);
            WireBytes.WithLabels("received").IncTo(read);
            WireMessages.WithLabels("sent").IncTo(sent);
            WireMessages.WithLabels("received").IncTo(received);
        });

        TrainerSteps = f.CreateCounter("graphactors_trainer_steps_total", "Training steps this node's trainer took.");
        TrainerSeeds = f.CreateCounter("graphactors_trainer_seeds_total", "Seed nodes (or edges) this node's trainer trained on.");
        TrainerStepSeconds = f.CreateHistogram("graphactors_trainer_step_duration_seconds",
            "Time of one training step by phase: wait (for its sampled batch once ready for it; 0 when it was there) and compute (forward, backward, a local optimizer step).",
            new HistogramConfiguration { LabelNames = ["phase"], Buckets = StepBuckets });
        TrainerLoss = f.CreateGauge("graphactors_trainer_loss", "The loss of this node's trainer's last step.");
        TrainerEpoch = f.CreateGauge("graphactors_trainer_epoch", "The epoch this node's trainer is in.");

        JobState = f.CreateGauge("graphactors_job_state", "1 for the state the training coordinator's job is in (Idle, Running, Finished, Failed, Stopped), 0 for the others; only on the coordinator's node.", "state");
        JobEpoch = f.CreateGauge("graphactors_job_last_completed_epoch", "The coordinator's job's last completed epoch (-1 before the first).");
        JobGlobalSteps = f.CreateGauge("graphactors_job_global_steps",
            "Global steps of the coordinator's job as of its last journaled change (an averaging round, an epoch): the planned steps of its completed epochs plus the steps of the epoch in flight.");
        JobBestMetric = f.CreateGauge("graphactors_job_best_metric", "The best value of the job's evaluation metric so far (NaN before the first evaluation).");
        JobBestEpoch = f.CreateGauge("graphactors_job_best_epoch", "The epoch of the job's best evaluation (-1 before the first).");
        JobLastMetrics = f.CreateGauge("graphactors_job_last_epoch_metric", "The last completed epoch's evaluation metrics, by name (val_accuracy, test_auc, …).", "metric");
        JobTrainers = f.CreateGauge("graphactors_job_trainers", "Trainers registered with the coordinator.");
        JobFailedEvaluations = f.CreateGauge("graphactors_job_failed_evaluations", "Evaluation epochs of the job that ended without metrics.");

        AveragingRounds = f.CreateCounter("graphactors_averaging_rounds_total", "Parameter averaging rounds this node took part in, by mode (ring, star).", "mode");
        AveragingRoundSeconds = f.CreateHistogram("graphactors_averaging_round_duration_seconds", "Time of one averaging round at this node, by mode.",
            new HistogramConfiguration { LabelNames = ["mode"], Buckets = StepBuckets });
    }

    public static NodeMetrics Get(ActorSystem system) => system.WithExtension<NodeMetrics, NodeMetricsProvider>();

    public CollectorRegistry Registry { get; }

    public Gauge ClusterMembers { get; }
    public Gauge ClusterUnreachable { get; }
    public Counter PartitionRequests { get; }
    public Histogram PartitionRequestSeconds { get; }
    public Counter PartitionRows { get; }
    public Counter PartitionDropped { get; }
    public Gauge PartitionsLoaded { get; }
    public Counter PartitionLoadFailures { get; }
    public Counter PartitionWireBytes { get; }
    public Counter SamplerBatches { get; }
    public Histogram SamplerBatchSeconds { get; }
    public Counter SamplerBatchBytes { get; }
    public Histogram SamplerPhaseSeconds { get; }
    public Gauge SamplerInFlight { get; }
    public Counter WireBytes { get; }
    public Counter WireMessages { get; }
    public Counter TrainerSteps { get; }
    public Counter TrainerSeeds { get; }
    public Histogram TrainerStepSeconds { get; }
    public Gauge TrainerLoss { get; }
    public Gauge TrainerEpoch { get; }
    public Gauge JobState { get; }
    public Gauge JobEpoch { get; }
    public Gauge JobGlobalSteps { get; }
    public Gauge JobBestMetric { get; }
    public Gauge JobBestEpoch { get; }
    public Gauge JobLastMetrics { get; }
    public Gauge JobTrainers { get; }
    public Gauge JobFailedEvaluations { get; }

    /// <summary>The coordinator's job as its status says, set by the coordinator after each change it journals.</summary>
    public void ObserveJob(GraphActors.Contracts.Protocols.TrainingProtocol.JobStatus s)
    {
        foreach (var state in Enum.GetValues<GraphActors.Contracts.Protocols.JobState>())
            JobState.WithLabels(state.ToString()).Set(state == s.State ? 1 : 0);
        JobEpoch.Set(s.LastCompletedEpoch);
        JobGlobalSteps.Set(s.GlobalStep);
        JobBestMetric.Set(s.BestMetric);
        JobBestEpoch.Set(s.BestEpoch);
        for (var i = 0; i < s.MetricNames.Length && i < s.MetricValues.Length; i++) JobLastMetrics.WithLabels(s.MetricNames[i]).Set(s.MetricValues[i]);
        JobTrainers.Set(s.Trainers.Length);
        JobFailedEvaluations.Set(s.FailedEvaluations);
    }

    public Counter AveragingRounds { get; }
    public Histogram AveragingRoundSeconds { get; }

    private static readonly string[] Statuses = ["joining", "weaklyup", "up", "leaving", "exiting", "down", "removed"];

    private void ObserveCluster(ClusterEvent.CurrentClusterState state)
    {
        Span<int> counts = stackalloc int[Statuses.Length];
        foreach (var m in state.Members)
        {
            var i = Array.IndexOf(Statuses, m.Status.ToString().ToLowerInvariant());
            if (i >= 0) counts[i]++;
        }
        for (var i = 0; i < Statuses.Length; i++) ClusterMembers.WithLabels(Statuses[i]).Set(counts[i]);
        ClusterUnreachable.Set(state.Unreachable.Count);
    }

    /// <summary>The Prometheus text exposition of every collector.</summary>
    public Task WriteAsync(Stream output, CancellationToken cancellationToken) => Registry.CollectAndExportAsTextAsync(output, cancellationToken);
}

public sealed class NodeMetricsProvider : ExtensionIdProvider<NodeMetrics>
{
    public override NodeMetrics CreateExtension(ExtendedActorSystem system) => new(system);
}
