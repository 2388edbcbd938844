// A node's GET /metrics: the NodeMetrics registry over HTTP, stopped with the node.
using System.Net;
using Akka.Actor;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace GraphActors.Cluster.Metrics;

/// <summary>Serves <see cref="NodeMetrics"/> on <see cref="MetricsSettings.Host"/>:<see cref="MetricsSettings.Port"/> until the node stops.</summary>
public static class MetricsServer
{
    /// <summary>Starts the endpoint and returns its address (the bound port when 0 was asked); stopped by CoordinatedShutdown.</summary>
    public static async Task<Uri> StartAsync(ActorSystem system, MetricsSettings settings)
    {
        var metrics = NodeMetrics.Get(system);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k =>
        {
            if (settings.Host == "localhost") k.ListenLocalhost(settings.Port);
            else if (IPAddress.TryParse(settings.Host, out var ip)) k.Listen(ip, settings.Port);
            else k.Listen(Dns.GetHostAddresses(settings.Host).First(), settings.Port);
        });
        var app = builder.Build();
        app.MapGet("/metrics", async ctx =>
        {
            ctx.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
            await metrics.WriteAsync(ctx.Response.Body, ctx.RequestAborted).ConfigureAwait(false);
        });
        await app.StartAsync().ConfigureAwait(false);
        CoordinatedShutdown.Get(system).AddTask(CoordinatedShutdown.PhaseActorSystemTerminate, "stop-metrics-endpoint", async () =>
        {
            await app.StopAsync().ConfigureAwait(false);
            await app.DisposeAsync().ConfigureAwait(false);
            return Akka.Done.Instance;
        });
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new Uri(new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal)), "metrics");
    }
}
