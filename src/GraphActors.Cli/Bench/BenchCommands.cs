using System.CommandLine;
using GraphActors.Cli.Commands;

namespace GraphActors.Cli.Bench;

/// <summary>The `graphactors bench …` subcommands.</summary>
internal static class BenchCommands
{
    public static IEnumerable<Command> All() => new[]
    {
        SamplingBenchmark.Create(),
        BlocksBenchmark.Create(),
        EtlBenchmark.Create(),
        PartitionBenchmark.Create(),
        RefreshBenchmark.Create(),
        ServeBenchmark.Create(),
        OverloadBenchmark.Create(),
        TrainBenchmark.Create(),
        ClusterBenchmark.Create(),
        WireBenchmark.Create(),
        AllReduceBenchmark.Create(),
        IdleBenchmark.Create(),
        ScaleBenchmark.Create(),
        OutOfCoreBenchmark.Create(),
    }.Select(RequireSizes).Select(BenchLoad.Reported);

    /// <summary>
    /// Every count of a benchmark (nodes, edges, batches, rounds, parts, …) must be positive and --warmup not negative:
    /// a zero or negative size is refused as a usage error (exit 2) before anything is built.
    /// </summary>
    private static Command RequireSizes(Command cmd)
    {
        foreach (var o in cmd.Options)
        {
            switch (o)
            {
                case Option<int> { Name: "--seed" }: break;
                case Option<int> { Name: "--warmup" } w: w.AtLeast(0); break;
                case Option<int> i: i.AtLeast(1); break;
                case Option<long> l: l.AtLeast(1L); break;
            }
        }
        foreach (var sub in cmd.Subcommands) RequireSizes(sub);
        return cmd;
    }
}
