// graphactors node: start one cluster node from a HOCON file (GA_* environment variables override it).
using System.CommandLine;
using GraphActors.Cluster.Hosting;

namespace GraphActors.Cli.Commands;

public static class NodeCommand
{
    public static Command Create()
    {
        var config = new Option<string>("--config")
        {
            Description = "Node HOCON file (hocon/seed.hocon, worker.hocon, server.hocon, client.hocon, local.hocon); base.hocon is built in underneath",
            Required = true,
        };
        var store = new Option<string?>("--store") { Description = "Partition store directory (overrides graphactors.partitions.store-path; GA_STORE overrides this)" };
        var cmd = new Command("node", "Start a cluster node; SIGTERM or Ctrl-C leaves the cluster gracefully (exit code 0)");
        cmd.Options.Add(config);
        cmd.Options.Add(store);
        cmd.SetAction(pr =>
        {
            Akka.Configuration.Config hocon;
            try
            {
                hocon = NodeConfig.Load(pr.GetValue(config), NodeConfig.ProcessEnvironment(), pr.GetValue(store));
            }
            catch (Exception e) when (e is ArgumentException or FormatException)
            {
                // NodeConfig names the bad GA_* variable or key; Akka's HOCON parser throws FormatException (an unresolved
                // substitution, say) without the file's name. The rest (a missing file) CliErrors maps itself.
                return CliErrors.Report(new GraphActors.Graph.BadInputException(
                    e is FormatException ? $"{pr.GetValue(config)}: bad HOCON: {e.Message}" : e.Message, e));
            }
            catch (Exception e)
            {
                return CliErrors.Report(e);
            }
            var output = Console.Out;
            return NodeHost.RunAsync(hocon, output).GetAwaiter().GetResult();
        });
        return cmd;
    }
}
