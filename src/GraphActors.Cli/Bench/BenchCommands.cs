using System.CommandLine;

namespace GraphActors.Cli.Bench;

/// <summary>The `graphactors bench …` subcommands.</summary>
internal static class BenchCommands
{
    public static IEnumerable<Command> All() =>
    [
        SamplingBenchmark.Create(),
        BlocksBenchmark.Create(),
        EtlBenchmark.Create(),
        PartitionBenchmark.Create(),
        ServeBenchmark.Create(),
        TrainBenchmark.Create(),
        ClusterBenchmark.Create(),
        WireBenchmark.Create(),
    ];
}
