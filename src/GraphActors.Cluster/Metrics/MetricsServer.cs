// A node's GET /metrics: the NodeMetrics registry over HTTP, stopped with the node.
using Akka.Actor;
using GraphActors.Cluster.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace GraphActors.Cluster.Metrics;

/// <summary>Serves <see cref="NodeMetrics"/> on <see cref="MetricsSettings.Host"/>:<see cref="MetricsSettings.Port"/> until the node stops.</summary>
public static class MetricsServer
{
    /// <summary>Starts the endpoint and returns its address (the bound port when 0 was asked); stopped by CoordinatedShutdown.</summary>
    public static async Task<Uri> StartAsync(ActorSystem system, MetricsSettings settings)
    {
        var metrics = NodeMetrics.Get(system);
        var root = await NodeHttpEndpoint.StartAsync(system, "metrics", settings.Host, settings.Port, null, app =>
            app.MapGet("/metrics", async ctx =>
            {
                ctx.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
                await metrics.WriteAsync(ctx.Response.Body, ctx.RequestAborted).ConfigureAwait(false);
            })).ConfigureAwait(false);
        return new Uri(root, "metrics");
    }
}
