using System.CommandLine;

namespace GraphActors.Cli.Commands;

/// <summary>The top-level verbs, in the order `graphactors --help` lists them.</summary>
internal static class Verbs
{
    public static IEnumerable<Command> All() =>
    [
        QuickstartCommand.Create(),
        GenerateCommand.Create(),
        ImportCommand.Create(),
        EtlCommand.Create(),
        PartitionCommand.Create(),
        TrainCommand.Create(),
        EvalCommand.Create(),
        NodeCommand.Create(),
        CtlCommand.Create(),
        DeployCommand.Create(),
        FeatureSyncCommand.Create(),
    ];
}
