// The one `graphactors` executable: composes the verbs, each defined in its own file; exit codes are decided in CliErrors.
using System.CommandLine;
using GraphActors.Cli.Bench;
using GraphActors.Cli.Commands;
using Spectre.Console;

// Before any thread allocates: libtorch's batch tensors stay on glibc's heap between steps (NativeHeap explains).
GraphActors.Training.NativeHeap.Configure();

var root = new RootCommand("GraphActors: heterogeneous GNN training and serving on an Akka.NET cluster.");
var bench = new Command("bench", "Benchmarks; figures are recorded in docs/BENCHMARKS.md.");
foreach (var b in BenchCommands.All()) bench.Subcommands.Add(b);
foreach (var c in Verbs.All()) root.Subcommands.Add(c);
root.Subcommands.Add(bench);

// Redirected output (a log file, a pipe, CI) is 80 columns to Spectre: give tables and progress lines room instead of
// folding every cell and line.
if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = 220;

var parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    // A usage error is bad input: one line naming the command and what is wrong with its options.
    var names = new List<string>();
    for (var r = parsed.CommandResult as System.CommandLine.Parsing.SymbolResult; r is not null; r = r.Parent)
        if (r is System.CommandLine.Parsing.CommandResult cr && cr.Command != root) names.Insert(0, cr.Command.Name);
    var command = string.Join(' ', names.Prepend("graphactors"));
    Console.Error.WriteLine($"error: {command}: {string.Join(" ", parsed.Errors.Select(e => e.SymbolResult is System.CommandLine.Parsing.OptionResult o && !e.Message.Contains(o.Option.Name) ? $"{o.Option.Name}: {e.Message}" : e.Message)
        .SelectMany(m => m.Split((char[])['\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))} (see {command} --help)");
    return CliErrors.BadInput;
}
try
{
    return parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (Exception e) when (e is not OutOfMemoryException)
{
    return CliErrors.Report(e);
}
