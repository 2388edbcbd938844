// graphactors ctl store version|reload: which store version the cluster serves, and the rolling reload to a refreshed one.
using System.CommandLine;
using Spectre.Console;
using static GraphActors.Contracts.Protocols.CommandProtocol;
using static GraphActors.Contracts.Protocols.StoreProtocol;

namespace GraphActors.Cli.Commands;

public static partial class CtlCommand
{
    /// <summary>
    /// `store version` prints the version every node reads; `store reload PATH` switches the cluster to the store at PATH
    /// (written by `partition --update CURRENT`): every partition loads it beside the current one, every node switches,
    /// the previous version retires after the drain. Exit 0 when the cluster serves PATH, 1 when it refused or failed
    /// (the answer says why; nothing changed), 3 when no answer came.
    /// </summary>
    private static Command StorePalette(Globals g)
    {
        var store = new Command("store", "The partition store the cluster serves: version, reload");

        var version = new Command("version", "The store version every node reads now, and the one before it");
        version.SetAction((pr, ct) => Run(pr, g, ct, async (client, o) =>
        {
            var answer = await client.Request<object>(GetStoreVersion.Instance, o.Remaining, ct, o.Timeout);
            switch (answer)
            {
                case StoreVersionChanged v:
                    if (o.Json) WriteJson(new { ok = true, version = v.Version, path = v.Path, previous = v.Previous, previousPath = v.PreviousPath });
                    else AnsiConsole.MarkupLine($"store version [bold]{v.Version}[/]: {Markup.Escape(v.Path)}" +
                                                (v.Previous >= 0 ? $" (after version {v.Previous}: {Markup.Escape(v.PreviousPath)})" : ""));
                    return ExitOk;
                case CommandResult r:
                    if (o.Json) WriteJson(new { ok = false, message = r.Message });
                    else AnsiConsole.MarkupLine($"[red]{Markup.Escape(r.Message)}[/]");
                    return ExitRefused;
                default:
                    throw new InvalidOperationException($"The cluster answered `store version` with {answer.GetType().Name}.");
            }
        }));

        var path = new Argument<string>("path") { Description = "The new store: written by `graphactors partition --update CURRENT --cgdf DAY --out PATH`, seen by every node" };
        var loadTimeout = new Option<string>("--load-timeout")
        {
            Description = "How long every partition has to load the new version (seconds or with a unit); ctl waits this plus --timeout",
            DefaultValueFactory = _ => "10m",
        };
        var reload = new Command("reload",
            "Switch the running cluster to the store at PATH without stopping serving: each partition loads it beside the current version, every node " +
            "switches once all have it (a prediction reads one version), the previous version unloads after graphactors.store-versions.drain. " +
            "Refused while a training job runs");
        reload.Arguments.Add(path);
        reload.Options.Add(loadTimeout);
        reload.SetAction((pr, ct) => Run(pr, g, ct, async (client, o) =>
        {
            TimeSpan load;
            try
            {
                load = ParseTimeout(pr.GetValue(loadTimeout)!);
            }
            catch (Exception e) when (e is ArgumentException or FormatException)
            {
                Console.Error.WriteLine($"graphactors ctl store reload: --load-timeout: {e.Message}");
                return ExitUsage;
            }
            var target = Path.GetFullPath(pr.GetValue(path)!);
            var answer = await client.Request<StoreReloaded>(new ReloadStore(target, (long)load.TotalMilliseconds), load + o.Remaining, ct, load + o.Timeout);
            if (o.Json) WriteJson(new { ok = answer.Ok, version = answer.Version, path = answer.Path, message = answer.Message });
            else AnsiConsole.MarkupLine(answer.Ok ? $"[green]{Markup.Escape(answer.Message)}[/]" : $"[red]store reload refused: {Markup.Escape(answer.Message)}[/]");
            return answer.Ok ? ExitOk : ExitRefused;
        }));

        store.Subcommands.Add(version);
        store.Subcommands.Add(reload);
        return store;
    }
}
