// What a node's parts say about being ready to serve, for the readiness probe beside cluster membership.
using System.Collections.Concurrent;
using Akka.Actor;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace GraphActors.Cluster.Health;

/// <summary>
/// The parts of one node that must be up before it takes traffic (an Akka extension: <c>NodeReadiness.Get(system)</c>):
/// each says <see cref="Pending"/> when it starts, <see cref="Ready"/> once it serves and <see cref="Failed"/> when it
/// will not. The readiness probe answers 503 while any part is not ready, naming it and why. The inference role's HTTP
/// API is one: a pod whose node is Up but whose prediction port is not yet listening gets no requests.
/// </summary>
public sealed class NodeReadiness : IExtension
{
    private readonly ConcurrentDictionary<string, (bool Ready, string Detail)> _parts = new(StringComparer.Ordinal);

    public static NodeReadiness Get(ActorSystem system) => system.WithExtension<NodeReadiness, NodeReadinessProvider>();

    public void Pending(string part, string detail) => _parts[part] = (false, detail);

    public void Ready(string part, string detail) => _parts[part] = (true, detail);

    public void Failed(string part, string reason) => _parts[part] = (false, "failed: " + reason);

    /// <summary>Every part in name order with its state.</summary>
    public IReadOnlyList<(string Part, bool Ready, string Detail)> Parts =>
        _parts.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => (p.Key, p.Value.Ready, p.Value.Detail)).ToList();
}

public sealed class NodeReadinessProvider : ExtensionIdProvider<NodeReadiness>
{
    public override NodeReadiness CreateExtension(ExtendedActorSystem system) => new();
}

/// <summary>The readiness check over <see cref="NodeReadiness"/>: healthy when every registered part is ready (or none is registered).</summary>
public sealed class NodePartsReadyCheck(ActorSystem system) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var parts = NodeReadiness.Get(system).Parts;
        if (parts.Count == 0) return Task.FromResult(HealthCheckResult.Healthy("no role part to wait for"));
        var text = string.Join("; ", parts.Select(p => $"{p.Part} {(p.Ready ? "ready" : "not ready")}: {p.Detail}"));
        return Task.FromResult(parts.All(p => p.Ready) ? HealthCheckResult.Healthy(text) : HealthCheckResult.Unhealthy(text));
    }
}
