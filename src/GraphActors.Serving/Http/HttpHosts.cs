// The one way a node builds its Kestrel hosts.
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;

namespace GraphActors.Serving;

public static class HttpHosts
{
    /// <summary>
    /// ASP.NET's slim builder, without its logging and without watching the working directory. Its defaults reload
    /// appsettings.json on change, which puts a recursive file watcher (an inotify watch on every folder below, and a
    /// thread) on the content root, the node's working directory, where data folders with thousands of partitions may
    /// live; a serving node has three hosts, so three such watchers. Nodes are configured by HOCON: nothing reloads.
    /// </summary>
    public static WebApplicationBuilder NewBuilder()
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = ["--hostBuilder:reloadConfigOnChange=false"] });
        builder.Logging.ClearProviders();
        return builder;
    }
}
