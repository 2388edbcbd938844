// A node's Kestrel hosts: configured by HOCON, so none of them watches the working directory for appsettings.json.
using Microsoft.Extensions.Configuration;

namespace GraphActors.Serving.Tests;

public sealed class HostingTests(WorldFixture fx) : IClassFixture<WorldFixture>
{
    [Fact]
    public async Task No_host_of_a_serving_node_reloads_configuration_files_so_none_watches_the_working_directory()
    {
        await using var s = await Served.StartAsync(fx.World, models: ["sage=test://sage"]);
        Assert.Equal(3, s.Host.Apps.Count);
        foreach (var app in s.Host.Apps)
        {
            var files = ((IConfigurationRoot)app.Configuration).Providers.OfType<FileConfigurationProvider>().ToList();
            // ASP.NET's defaults add appsettings.json (and its environment's) with reload on change: a recursive file
            // watcher on the content root, the node's working directory, per host.
            Assert.NotEmpty(files);
            Assert.All(files, f => Assert.False(f.Source.ReloadOnChange, $"{f.Source.Path} is reloaded on change"));
        }
    }
}
