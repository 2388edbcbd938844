// graphactors ctl model list|register|unregister|scale: the inference nodes' models through one control plane.
using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using static GraphActors.Contracts.Protocols.CommandProtocol;

namespace GraphActors.Cli.Commands;

public static partial class CtlCommand
{
    /// <summary>
    /// The serving verbs. The answering node asks the inference actor of every Up inference member (or of --node) and
    /// answers per node: each node's status or error is the management API's (404 unknown model, 400 bad url or name,
    /// 409 version exists), and a node that does not answer in time is listed with 504. Exit 0 when every asked node
    /// answered 200, 1 otherwise (or when no inference node is up).
    /// </summary>
    private static IEnumerable<Command> ServingCommands(Globals g)
    {
        Option<string?> NodeOption(string what) => new("--node")
        {
            Description = $"Only this inference node (akka.tcp://graphactors@HOST:PORT or HOST:PORT; default: {what})",
        };

        var list = new Command("list", "Every inference node's models: name, version, default, workers min/max, status, by node; exit 1 if a node does not answer");
        list.SetAction((pr, ct) => Run(pr, g, ct, async (client, o) =>
            Models(await client.Request<ServedModelsResult>(new GetServedModels(NodeTimeoutMs(o)), o.Remaining, ct, o.Timeout), o, "list")));

        var url = new Option<string>("--url")
        {
            Description = "The model: a path in each node's model store (a .mar-style folder or a checkpoint directory), as POST /models?url=", Required = true,
        };
        var name = new Option<string?>("--name") { Description = "The model's name (default: the url's last segment)" };
        var version = new Option<string?>("--version") { Description = "The version (default: the checkpoint's, else 1.0)" };
        var workers = new Option<int?>("--initial-workers") { Description = "Workers of the new version (default: the engine's torch workers)" };
        var registerNode = NodeOption("every inference node");
        var register = new Command("register", "Load a model on every inference node (or one) and serve it, as POST /models; exit 1 unless every node registered it");
        foreach (var o in new Option[] { url, name, version, workers, registerNode }) register.Options.Add(o);
        register.SetAction((pr, ct) => Run(pr, g, ct, async (client, o) =>
        {
            var n = pr.GetValue(workers);
            if (n < 0) throw new ArgumentException($"--initial-workers {n}: must be 0 or more.");
            var ask = new RegisterServedModel(pr.GetValue(url)!.Trim(), Optional(pr.GetValue(name)), Optional(pr.GetValue(version)), n ?? -1,
                NodeAddress(client, pr.GetValue(registerNode)), NodeTimeoutMs(o));
            return Models(await client.Request<ServedModelsResult>(ask, o.Remaining, ct, o.Timeout), o, "register");
        }));

        var unregisterName = new Argument<string>("name") { Description = "The model" };
        var unregisterVersion = new Option<string?>("--version") { Description = "The version (default: the model's default version)" };
        var unregisterNode = NodeOption("every inference node");
        var unregister = new Command("unregister", "Stop serving a model version on every inference node (or one), as DELETE /models/{name}[/{version}]");
        unregister.Arguments.Add(unregisterName);
        unregister.Options.Add(unregisterVersion);
        unregister.Options.Add(unregisterNode);
        unregister.SetAction((pr, ct) => Run(pr, g, ct, async (client, o) =>
        {
            var ask = new UnregisterServedModel(pr.GetValue(unregisterName)!.Trim(), Optional(pr.GetValue(unregisterVersion)),
                NodeAddress(client, pr.GetValue(unregisterNode)), NodeTimeoutMs(o));
            return Models(await client.Request<ServedModelsResult>(ask, o.Remaining, ct, o.Timeout), o, "unregister");
        }));

        var scaleName = new Argument<string>("name") { Description = "The model" };
        var min = new Option<int>("--min-worker") { Description = "Workers of the version (0: none, predictions get 503)", Required = true };
        var max = new Option<int?>("--max-worker") { Description = "Kept and shown, as TorchServe does (default: --min-worker; not less)" };
        var scaleVersion = new Option<string?>("--version") { Description = "The version (default: the model's default version)" };
        var scaleNode = NodeOption("every inference node");
        var scale = new Command("scale", "Set a model version's workers on every inference node (or one), as PUT /models/{name}?min_worker&max_worker");
        scale.Arguments.Add(scaleName);
        foreach (var o in new Option[] { min, max, scaleVersion, scaleNode }) scale.Options.Add(o);
        scale.SetAction((pr, ct) => Run(pr, g, ct, async (client, o) =>
        {
            var lo = pr.GetValue(min);
            var hi = pr.GetValue(max) ?? lo;
            if (lo < 0) throw new ArgumentException($"--min-worker {lo}: must be 0 or more.");
            if (hi < lo) throw new ArgumentException($"--max-worker {hi} is less than --min-worker {lo}.");
            var ask = new ScaleServedModel(pr.GetValue(scaleName)!.Trim(), Optional(pr.GetValue(scaleVersion)), lo, hi,
                NodeAddress(client, pr.GetValue(scaleNode)), NodeTimeoutMs(o));
            return Models(await client.Request<ServedModelsResult>(ask, o.Remaining, ct, o.Timeout), o, "scale");
        }));

        return [list, register, unregister, scale];
    }

    private static string Optional(string? s) => string.IsNullOrWhiteSpace(s) ? "" : s.Trim();

    private static string NodeAddress(CtlClient client, string? node) => string.IsNullOrWhiteSpace(node) ? "" : client.Address(node);

    private static int Models(ServedModelsResult r, Options o, string verb)
    {
        var ok = r.Problem.Length == 0 && r.Nodes.Length > 0 && r.Nodes.All(n => n.Ok);
        if (o.Json) WriteJson(ToJson(r, ok));
        else if (verb == "list") RenderModels(r);
        else RenderModelChange(r);
        return ok ? ExitOk : ExitRefused;
    }

    private static object ToJson(ServedModelsResult r, bool ok) => new
    {
        ok,
        problem = r.Problem.Length > 0 ? r.Problem : null,
        nodes = r.Nodes.Select(n => new
        {
            node = n.Node,
            ok = n.Ok,
            code = n.Code,
            message = n.Message,
            models = n.Models.Select(m => new
            {
                name = m.Name,
                version = m.Version,
                isDefault = m.IsDefault,
                minWorkers = m.MinWorkers,
                maxWorkers = m.MaxWorkers,
                status = m.Status,
                url = m.Url,
            }).ToArray(),
        }).ToArray(),
    };

    private static void RenderModels(ServedModelsResult r)
    {
        if (r.Problem.Length > 0)
        {
            AnsiConsole.MarkupLine($"[red]{Markup.Escape(r.Problem)}[/]");
            return;
        }
        var inv = CultureInfo.InvariantCulture;
        var table = new Table().Title($"models on {r.Nodes.Length} inference node(s)");
        table.AddColumns("node", "model", "version", "default", "workers (min/max)", "status");
        foreach (var n in r.Nodes)
        {
            if (!n.Ok)
            {
                table.AddRow(Markup.Escape(Short(n.Node)), $"[red]{Markup.Escape($"{n.Code}: {n.Message}")}[/]", "", "", "", "");
                continue;
            }
            if (n.Models.Length == 0) table.AddRow(Markup.Escape(Short(n.Node)), "[grey]no model[/]", "", "", "", "");
            foreach (var m in n.Models)
                table.AddRow(Markup.Escape(Short(n.Node)), Markup.Escape(m.Name), Markup.Escape(m.Version), m.IsDefault ? "yes" : "",
                    $"{m.MinWorkers.ToString(inv)}/{m.MaxWorkers.ToString(inv)}", m.Status == "READY" ? "[green]READY[/]" : $"[yellow]{Markup.Escape(m.Status)}[/]");
        }
        AnsiConsole.Write(table);
    }

    private static void RenderModelChange(ServedModelsResult r)
    {
        if (r.Problem.Length > 0)
        {
            AnsiConsole.MarkupLine($"[red]{Markup.Escape(r.Problem)}[/]");
            return;
        }
        foreach (var n in r.Nodes)
            AnsiConsole.MarkupLine(n.Ok
                ? $"{Markup.Escape(Short(n.Node))}: [green]{Markup.Escape(n.Message)}[/]"
                : $"{Markup.Escape(Short(n.Node))}: [red]{n.Code.ToString(CultureInfo.InvariantCulture)} {Markup.Escape(n.Message)}[/]");
    }
}
