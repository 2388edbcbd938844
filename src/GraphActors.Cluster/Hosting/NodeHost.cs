// Runs one cluster node: starts the ActorSystem, joins (saying so while it waits), starts sharding per role, leaves on SIGTERM.
using System.Runtime.InteropServices;
using Akka.Actor;
using Akka.Configuration;
using GraphActors.Cluster.Commands;
using GraphActors.Cluster.Coordination;
using GraphActors.Cluster.Health;
using GraphActors.Cluster.Inference;
using GraphActors.Cluster.Metrics;
using GraphActors.Cluster.Partitions;
using GraphActors.Cluster.Sampling;
using GraphActors.Cluster.Trainers;

namespace GraphActors.Cluster.Hosting;

public static class NodeHost
{
    /// <summary>Exit codes of <see cref="RunAsync"/>.</summary>
    public const int ExitLeftGracefully = 0, ExitStoppedUnexpectedly = 1, ExitJoinTimedOut = 2;

    private sealed class SignalReason(string signal) : CoordinatedShutdown.Reason
    {
        public override int ExitCode => ExitLeftGracefully;
        public override string ToString() => signal;
    }

    /// <summary>
    /// Starts the ActorSystem from <paramref name="config"/>, joins the seeds (or itself when there are none) and
    /// starts the shard regions its roles call for. Returns at once; <paramref name="output"/> receives progress lines.
    /// </summary>
    public static ActorSystem Start(Config config, TextWriter output)
    {
        // Refuses a chunk size that would not fit the remote frame before anything starts.
        Wire.WireSettings.Create(config);
        // Read (and a missing token file created) before the system starts: a file that cannot be written stops the node here.
        var ctl = CtlSettings.Create(config);
        var system = RemoteTls.CreateSystem(Names.ActorSystem, config, ctl.QuietClientDisconnects ? [CtlClientLogFilter.Setup()] : null);
        var cluster = Akka.Cluster.Cluster.Get(system);
        var roles = cluster.SelfRoles;
        var host = config.GetString("akka.remote.dot-netty.tcp.hostname");
        if (host is "0.0.0.0" or "::" && string.IsNullOrEmpty(config.GetString("akka.remote.dot-netty.tcp.public-hostname")))
            output.WriteLine($"warning: bound to {host} without a public-hostname: other nodes cannot address this one reliably.");
        output.WriteLine($"node {cluster.SelfAddress} starting with roles [{string.Join(", ", roles)}]");
        var metrics = MetricsSettings.Create(config);
        if (metrics.Enabled)
        {
            // Printed when bound (port 0 picks one), without holding the start; a port in use is a warning, not a stop.
            _ = MetricsServer.StartAsync(system, metrics).ContinueWith(t => output.WriteLine(t.IsCompletedSuccessfully
                ? $"metrics: {t.Result} (Prometheus text format)"
                : $"warning: the metrics endpoint on {metrics.Host}:{metrics.Port} did not start: {t.Exception?.GetBaseException().Message}"), TaskScheduler.Default);
        }
        var health = HealthSettings.Create(config);
        if (health.Enabled)
        {
            // As the metrics endpoint: printed when bound, a failure is a warning (the probes then fail and say so).
            _ = HealthServer.StartAsync(system, health).ContinueWith(t => output.WriteLine(t.IsCompletedSuccessfully
                ? $"health: {new Uri(t.Result, HealthServer.ReadinessPath.TrimStart('/'))} (readiness: Up in the cluster, its role parts serving), {new Uri(t.Result, HealthServer.LivenessPath.TrimStart('/'))} (liveness)"
                : $"warning: the health endpoint on {health.Host}:{health.Port} did not start: {t.Exception?.GetBaseException().Message}"), TaskScheduler.Default);
        }

        var partitions = PartitionSettings.Create(config);
        if (roles.Contains(partitions.Role))
        {
            if (string.IsNullOrWhiteSpace(partitions.StorePath))
                output.WriteLine("warning: role 'partition' without graphactors.partitions.store-path (GA_STORE / --store): partitions will fail to load.");
            system.StartPartitionSharding(partitions);
            if (partitions.StartOnUp && !string.IsNullOrWhiteSpace(partitions.StorePath))
                cluster.RegisterOnMemberUp(() =>
                {
                    try
                    {
                        output.WriteLine($"starting the {system.StartAllPartitions(partitions)} partitions of [{partitions.StorePath}]");
                    }
                    catch (Exception e)
                    {
                        output.WriteLine($"warning: cannot read the partition store [{partitions.StorePath}] to start its partitions: {e.Message}");
                    }
                });
            // A removed partition node's partitions re-homed at once (from the oldest partition node).
            if (partitions.RehomeOnRemoval && !string.IsNullOrWhiteSpace(partitions.StorePath))
                system.StartPartitionStarter(partitions);
        }
        else system.StartPartitionShardingProxy(partitions);
        // The cluster's store version: the singleton that runs reloads (partition nodes), and every node's view of it.
        system.StartStoreVersions(partitions, CoordinatorSettings.Create(config));
        // Every node answers `graphactors ctl`, whatever its roles.
        system.StartCommandHandler(system.PartitionRegion(), ctl);
        output.WriteLine(ctl.Describe());

        var coordinator = CoordinatorSettings.Create(config);
        if (roles.Contains(coordinator.Role)) system.StartTrainingCoordinator(coordinator);
        var coordinatorProxy = system.StartTrainingCoordinatorProxy(coordinator);

        // The trainer role: a TrainerActor fed by a SamplerActor over the partitions (wherever they run). The sampler
        // role (graphactors.sampler.role, "trainer" by default): a SamplerActor. A trainer node without the sampler role
        // samples through the SamplerActors of the members that have it (DistDGL's separate sampler machines).
        var trainer = TrainerSettings.Create(config);
        var sampling = SamplerSettings.Create(config);
        var trains = roles.Contains(trainer.Role);
        var samples = roles.Contains(sampling.Role);
        if (trains || samples)
        {
            var role = trains ? trainer.Role : sampling.Role;
            if (string.IsNullOrWhiteSpace(partitions.StorePath))
                output.WriteLine($"warning: role '{role}' without graphactors.partitions.store-path (GA_STORE / --store): this node cannot {(trains ? "train" : "sample")}.");
            else
            {
                try
                {
                    var store = RemoteGraphStore.FromStore(system, partitions.StorePath);
                    var sampler = samples ? system.StartSampler(store, sampling) : null;
                    if (samples && !trains) output.WriteLine($"sampler: streaming mini-batches of the {store.Book.Parts} partition(s) of [{partitions.StorePath}] to the trainers of other nodes");
                    if (trains)
                    {
                        sampler ??= system.ActorOf(SamplerRouter.Props(sampling.Role, trainer.Role, trainer.SampleTimeout / 2), "sampler-router");
                        system.StartTrainer(trainer, store, sampler, coordinatorProxy, TrainerActorRegistration.HomePartitions(system, store.Book.Parts));
                        output.WriteLine($"trainer: training on the {store.Book.Parts} partition(s) of [{partitions.StorePath}] when the coordinator plans an epoch" +
                            (samples ? "" : $", sampled on the members with role '{sampling.Role}'"));
                    }
                }
                catch (Exception e)
                {
                    output.WriteLine($"warning: cannot read the partition store [{partitions.StorePath}] for the {(trains ? "trainer" : "sampler")}: {e.Message}");
                }
            }
        }

        // The inference role: the HTTP API over the engine and its models (Inference/reference.conf).
        var inference = InferenceSettings.Create(config);
        if (roles.Contains(inference.Role))
        {
            var actor = system.StartInference(inference);
            var serving = inference.Serving;
            string Port(int port) => port == 0 ? "any free port" : port.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var models = inference.Models.Count == 0 ? "no model yet (register one through the management API: POST /models?url=…)" : "models " + string.Join(", ", inference.Models.Select(m => m.Name));
            output.WriteLine($"inference: starting the HTTP API on {serving.Host} (predictions {Port(serving.InferencePort)}, management {Port(serving.ManagementPort)}, " +
                $"metrics {Port(serving.MetricsPort)}) with {models}; {(inference.LocalStore ? "local" : "remote")} graph store {inference.StorePath}");
            // The bound addresses (port 0 picks one) once the host is up: printed when known, without holding the start.
            _ = actor.Ask<object>(InferenceActor.GetAddresses.Instance, TimeSpan.FromMinutes(10)).ContinueWith(t => output.WriteLine(t switch
            {
                { IsCompletedSuccessfully: true, Result: InferenceActor.Started up } =>
                    $"inference: up — predictions {up.Inference}, management {up.Management}" +
                    $"{(serving.ManagementTokenDisabled ? " (no token: management-token = off)" : serving.ManagementToken is null ? $" (bearer token in {inference.ManagementTokenFile})" : " (the configured bearer token)")}, metrics {up.Metrics}",
                { IsCompletedSuccessfully: true, Result: InferenceActor.StartFailed failed } => $"inference: did not start: {failed.Reason}",
                _ => "inference: no answer from the HTTP API within 10 minutes (see the node's log)",
            }), TaskScheduler.Default);
        }

        var seeds = config.GetStringList("akka.cluster.seed-nodes");
        if (seeds.Count == 0) cluster.Join(cluster.SelfAddress);
        WatchJoin(system, config, seeds, output);
        return system;
    }

    /// <summary>
    /// Runs a node until SIGTERM, Ctrl-C or <paramref name="cancel"/>: then leaves through CoordinatedShutdown and
    /// returns 0 (also when another node asked it to leave). Returns 2 when the join timed out, 1 when the system stopped for another reason (downed, crashed).
    /// </summary>
    public static async Task<int> RunAsync(Config config, TextWriter output, CancellationToken cancel = default)
    {
        var system = Start(config, output);
        var shutdown = CoordinatedShutdown.Get(system);
        var shutdownTimeout = config.GetTimeSpan("graphactors.node.shutdown-timeout", TimeSpan.FromSeconds(60));
        CoordinatedShutdown.Reason? requested = null;

        void Leave(string signal)
        {
            if (requested is not null) return;
            requested = new SignalReason(signal);
            output.WriteLine($"{signal}: leaving the cluster");
            _ = shutdown.Run(requested);
        }

        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx => { ctx.Cancel = true; Leave("SIGTERM"); });
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, ctx => { ctx.Cancel = true; Leave("SIGINT"); });
        using var quit = PosixSignalRegistration.Create(PosixSignal.SIGQUIT, ctx => { ctx.Cancel = true; Leave("SIGQUIT"); });
        await using var onCancel = cancel.Register(() => Leave("cancelled"));

        await system.WhenTerminated;
        var reason = shutdown.ShutdownReason;
        if (requested is not null && ReferenceEquals(reason, requested))
        {
            output.WriteLine("node left the cluster and stopped");
            return ExitLeftGracefully;
        }
        if (reason is JoinTimedOut) return ExitJoinTimedOut;
        // Asked to leave from elsewhere (`graphactors ctl cluster leave`): as graceful as a SIGTERM.
        if (reason is CoordinatedShutdown.ClusterLeavingReason)
        {
            output.WriteLine("node was asked to leave: left the cluster and stopped");
            return ExitLeftGracefully;
        }
        output.WriteLine($"node stopped: {reason?.ToString() ?? "the actor system terminated"}");
        return ExitStoppedUnexpectedly;
    }

    private sealed class JoinTimedOut : CoordinatedShutdown.Reason
    {
        public override int ExitCode => ExitJoinTimedOut;
        public override string ToString() => "join timed out";
    }

    // Prints the first up line, and every few seconds until then which seeds the node is still waiting for.
    private static void WatchJoin(ActorSystem system, Config config, IList<string> seeds, TextWriter output)
    {
        var cluster = Akka.Cluster.Cluster.Get(system);
        var interval = config.GetTimeSpan("graphactors.node.join-progress-interval", TimeSpan.FromSeconds(5));
        var timeout = config.GetTimeSpan("graphactors.node.join-timeout", TimeSpan.FromMinutes(5));
        var up = new CancellationTokenSource();
        var started = DateTime.UtcNow;
        cluster.RegisterOnMemberUp(() =>
        {
            up.Cancel();
            output.WriteLine($"node {cluster.SelfAddress} is up: joined the cluster with roles [{string.Join(", ", cluster.SelfRoles)}]");
        });
        var seedList = seeds.Count == 0 ? "itself" : string.Join(", ", seeds);
        _ = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(interval);
            try
            {
                while (await timer.WaitForNextTickAsync(up.Token))
                {
                    var waited = DateTime.UtcNow - started;
                    if (timeout > TimeSpan.Zero && waited >= timeout)
                    {
                        output.WriteLine($"giving up: could not join seeds [{seedList}] within {timeout.TotalSeconds:0}s");
                        await CoordinatedShutdown.Get(system).Run(new JoinTimedOut());
                        return;
                    }
                    output.WriteLine($"still trying to join seeds [{seedList}]: no answer after {waited.TotalSeconds:0}s");
                }
            }
            catch (OperationCanceledException)
            {
                // Up (or terminated): nothing more to say.
            }
        });
        system.WhenTerminated.ContinueWith(_ => up.Cancel(), TaskScheduler.Default);
    }
}
