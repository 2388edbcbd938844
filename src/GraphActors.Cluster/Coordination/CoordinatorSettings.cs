// Immutable settings of the training coordinator, read from graphactors.training-coordinator (reference.conf holds the defaults).
using Akka.Actor;
using Akka.Configuration;

namespace GraphActors.Cluster.Coordination;

/// <summary>
/// How a round's contributions are averaged: among the trainers over a ring (reduce-scatter + all-gather, each trainer
/// sends and receives 2(N−1)/N of the vector) or through the coordinator (each trainer sends its vector to it and
/// receives the mean: the coordinator's node moves 2(N−1) vectors a round).
/// </summary>
public enum AveragingMode { Ring, Star }

public sealed class CoordinatorSettings
{
    private static readonly Lazy<Config> Reference = new(() => EmbeddedConfig.Load("GraphActors.Cluster.Coordination.reference.conf"));

    /// <summary>The embedded, commented defaults (<c>Coordination/reference.conf</c>).</summary>
    public static Config DefaultConfig => Reference.Value;

    private CoordinatorSettings(string role, int minTrainers, TimeSpan planDelay, TimeSpan roundTimeout, TimeSpan progressTimeout,
        TimeSpan checkpointTimeout, int snapshotEvery, TimeSpan waitingLogInterval, string journalPlugin, string snapshotPlugin, AveragingMode averaging)
    {
        if (minTrainers < 1) throw new ArgumentOutOfRangeException(nameof(minTrainers), "min-trainers must be at least 1.");
        if (snapshotEvery < 1) throw new ArgumentOutOfRangeException(nameof(snapshotEvery), "snapshot-every must be at least 1.");
        if (roundTimeout <= TimeSpan.Zero || progressTimeout <= TimeSpan.Zero || checkpointTimeout <= TimeSpan.Zero)
            throw new ArgumentException("round-timeout, progress-timeout and checkpoint-timeout must be positive: every wait has a bound.");
        Role = role; MinTrainers = minTrainers; PlanDelay = planDelay; RoundTimeout = roundTimeout; ProgressTimeout = progressTimeout;
        CheckpointTimeout = checkpointTimeout; SnapshotEvery = snapshotEvery; WaitingLogInterval = waitingLogInterval;
        JournalPlugin = journalPlugin; SnapshotPlugin = snapshotPlugin; Averaging = averaging;
    }

    public string Role { get; }
    public int MinTrainers { get; }
    public TimeSpan PlanDelay { get; }
    public TimeSpan RoundTimeout { get; }
    public TimeSpan ProgressTimeout { get; }
    public TimeSpan CheckpointTimeout { get; }
    public int SnapshotEvery { get; }
    public TimeSpan WaitingLogInterval { get; }
    public string JournalPlugin { get; }
    public string SnapshotPlugin { get; }
    public AveragingMode Averaging { get; }

    public static CoordinatorSettings Create(Config config)
    {
        var c = config.WithFallback(DefaultConfig).GetConfig("graphactors.training-coordinator");
        return new CoordinatorSettings(
            c.GetString("role", ClusterRoles.Trainer),
            c.GetInt("min-trainers"),
            c.GetTimeSpan("plan-delay"),
            c.GetTimeSpan("round-timeout"),
            c.GetTimeSpan("progress-timeout"),
            c.GetTimeSpan("checkpoint-timeout"),
            c.GetInt("snapshot-every"),
            c.GetTimeSpan("waiting-log-interval"),
            c.GetString("journal-plugin"),
            c.GetString("snapshot-plugin"),
            ParseAveraging(c.GetString("averaging")));
    }

    private static AveragingMode ParseAveraging(string value) => value.Trim().ToLowerInvariant() switch
    {
        "ring" => AveragingMode.Ring,
        "star" => AveragingMode.Star,
        _ => throw new ArgumentException($"graphactors.training-coordinator.averaging = '{value}': use ring or star."),
    };

    public static CoordinatorSettings Create(ActorSystem system) => Create(system.Settings.Config);

    public CoordinatorSettings WithRole(string role) => Copy(role: role);
    public CoordinatorSettings WithMinTrainers(int n) => Copy(minTrainers: n);
    public CoordinatorSettings WithPlanDelay(TimeSpan t) => Copy(planDelay: t);
    public CoordinatorSettings WithRoundTimeout(TimeSpan t) => Copy(roundTimeout: t);
    public CoordinatorSettings WithProgressTimeout(TimeSpan t) => Copy(progressTimeout: t);
    public CoordinatorSettings WithCheckpointTimeout(TimeSpan t) => Copy(checkpointTimeout: t);
    public CoordinatorSettings WithSnapshotEvery(int n) => Copy(snapshotEvery: n);
    public CoordinatorSettings WithAveraging(AveragingMode mode) => Copy(averaging: mode);

    /// <summary>The wait bound of a <see cref="WaitKind"/>.</summary>
    public TimeSpan TimeoutOf(WaitKind kind) => kind switch
    {
        WaitKind.FirstParameters => ProgressTimeout,
        WaitKind.Checkpoint => CheckpointTimeout,
        _ => RoundTimeout,
    };

    private CoordinatorSettings Copy(string? role = null, int? minTrainers = null, TimeSpan? planDelay = null, TimeSpan? roundTimeout = null,
        TimeSpan? progressTimeout = null, TimeSpan? checkpointTimeout = null, int? snapshotEvery = null, AveragingMode? averaging = null) =>
        new(role ?? Role, minTrainers ?? MinTrainers, planDelay ?? PlanDelay, roundTimeout ?? RoundTimeout, progressTimeout ?? ProgressTimeout,
            checkpointTimeout ?? CheckpointTimeout, snapshotEvery ?? SnapshotEvery, WaitingLogInterval, JournalPlugin, SnapshotPlugin,
            averaging ?? Averaging);
}
