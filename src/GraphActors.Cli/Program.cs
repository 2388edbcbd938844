// The one `graphactors` executable: composes the verbs, each defined in its own file.
using System.CommandLine;
using GraphActors.Cli.Bench;
using GraphActors.Cli.Commands;

var root = new RootCommand("GraphActors: heterogeneous GNN training and serving on an Akka.NET cluster.");
var bench = new Command("bench", "Benchmarks; figures are recorded in docs/BENCHMARKS.md.");
foreach (var b in BenchCommands.All()) bench.Subcommands.Add(b);
foreach (var c in Verbs.All()) root.Subcommands.Add(c);
root.Subcommands.Add(bench);
return root.Parse(args).Invoke();
