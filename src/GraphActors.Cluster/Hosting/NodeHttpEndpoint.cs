// A small HTTP endpoint beside a node (its metrics, its health), started with the node and stopped with it.
using System.Net;
using Akka.Actor;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace GraphActors.Cluster.Hosting;

public static class NodeHttpEndpoint
{
    /// <summary>
    /// Starts Kestrel on <paramref name="host"/>:<paramref name="port"/> (0: any free port) with the routes
    /// <paramref name="map"/> adds, and stops it in CoordinatedShutdown's last phase, after the node has left the cluster.
    /// Returns the base address with the bound port, a wildcard host reported as 127.0.0.1.
    /// </summary>
    public static async Task<Uri> StartAsync(ActorSystem system, string name, string host, int port,
        Action<IServiceCollection>? services, Action<WebApplication> map)
    {
        var builder = GraphActors.Serving.HttpHosts.NewBuilder();
        builder.WebHost.UseKestrel(k =>
        {
            if (host == "localhost") k.ListenLocalhost(port);
            else if (IPAddress.TryParse(host, out var ip)) k.Listen(ip, port);
            else k.Listen(Dns.GetHostAddresses(host).First(), port);
        });
        services?.Invoke(builder.Services);
        var app = builder.Build();
        map(app);
        await app.StartAsync().ConfigureAwait(false);
        CoordinatedShutdown.Get(system).AddTask(CoordinatedShutdown.PhaseActorSystemTerminate, $"stop-{name}-endpoint", async () =>
        {
            await app.StopAsync().ConfigureAwait(false);
            await app.DisposeAsync().ConfigureAwait(false);
            return Akka.Done.Instance;
        });
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal).Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal) + "/");
    }
}
