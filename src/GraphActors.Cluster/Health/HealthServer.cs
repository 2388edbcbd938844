// A node's GET /alive and GET /ready (Kubernetes liveness and readiness probes), stopped with the node.
using Akka.Actor;
using Akka.Cluster;
using GraphActors.Cluster.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace GraphActors.Cluster.Health;

/// <summary>The liveness check: the ActorSystem has not terminated.</summary>
public sealed class ActorSystemRunningCheck(ActorSystem system) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(system.WhenTerminated.IsCompleted
            ? HealthCheckResult.Unhealthy($"the actor system {system.Name} has terminated")
            : HealthCheckResult.Healthy($"the actor system {system.Name} runs"));
}

/// <summary>The readiness check: this node is Up in the cluster (not still joining, leaving, downed or removed).</summary>
public sealed class ClusterMemberUpCheck(ActorSystem system) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var cluster = Akka.Cluster.Cluster.Get(system);
        var status = cluster.IsTerminated ? MemberStatus.Removed : cluster.SelfMember.Status;
        return Task.FromResult(status == MemberStatus.Up
            ? HealthCheckResult.Healthy($"{cluster.SelfAddress} is Up")
            : HealthCheckResult.Unhealthy($"{cluster.SelfAddress} is {status}, not Up"));
    }
}

/// <summary>Serves the two checks on <see cref="HealthSettings.Host"/>:<see cref="HealthSettings.Port"/> until the node stops.</summary>
public static class HealthServer
{
    public const string LivenessPath = "/alive", ReadinessPath = "/ready";
    private const string LiveTag = "live", ReadyTag = "ready";

    /// <summary>Starts the endpoint and returns its base address (the bound port when 0 was asked); stopped by CoordinatedShutdown.</summary>
    public static Task<Uri> StartAsync(ActorSystem system, HealthSettings settings) =>
        // Stopped after the cluster has left (the readiness check says so meanwhile), so a probe sees the node go unready first.
        NodeHttpEndpoint.StartAsync(system, "health", settings.Host, settings.Port,
            services => services.AddHealthChecks()
                .Add(new HealthCheckRegistration("actor-system", _ => new ActorSystemRunningCheck(system), HealthStatus.Unhealthy, [LiveTag]))
                .Add(new HealthCheckRegistration("cluster-member-up", _ => new ClusterMemberUpCheck(system), HealthStatus.Unhealthy, [ReadyTag]))
                .Add(new HealthCheckRegistration("role-parts-ready", _ => new NodePartsReadyCheck(system), HealthStatus.Unhealthy, [ReadyTag])),
            app =>
            {
                app.MapHealthChecks(LivenessPath, Options(LiveTag));
                app.MapHealthChecks(ReadinessPath, Options(ReadyTag));
            });

    // 200 when every check of the tag is healthy, else 503; the body says which check said what (plain text).
    private static HealthCheckOptions Options(string tag) => new()
    {
        Predicate = r => r.Tags.Contains(tag),
        ResultStatusCodes =
        {
            [HealthStatus.Healthy] = StatusCodes.Status200OK,
            [HealthStatus.Degraded] = StatusCodes.Status200OK,
            [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable,
        },
        ResponseWriter = (ctx, report) =>
        {
            ctx.Response.ContentType = "text/plain; charset=utf-8";
            var lines = report.Entries.Select(e => $"{e.Key}: {e.Value.Status} ({e.Value.Description})");
            return ctx.Response.WriteAsync($"{report.Status}\n{string.Join('\n', lines)}\n");
        },
    };
}
