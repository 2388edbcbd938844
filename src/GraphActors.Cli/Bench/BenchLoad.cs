// The load average around every benchmark: figures taken on a busy machine are marked as not comparable.
using System.CommandLine;
using System.CommandLine.Invocation;
using System.Globalization;

namespace GraphActors.Cli.Bench;

/// <summary>
/// Every `graphactors bench …` run prints the load average (1, 5, 15 min) when it starts and when it ends, and a
/// WARNING line when either 1-minute figure is above <see cref="ComparableBelow"/>: two cores are easily saturated,
/// and a figure taken beside other work says nothing about this code. The end figure includes the benchmark's own
/// threads, so a benchmark that keeps both cores busy for a minute can warn about itself: re-run it alone.
/// </summary>
internal static class BenchLoad
{
    public const double ComparableBelow = 1.5;

    /// <summary>Set in the environment of a benchmark re-run under taskset (<see cref="CpuSplit.RunConfined"/>): its parent reports the load, once.</summary>
    public const string ConfinedChild = "GRAPHACTORS_BENCH_CONFINED";

    /// <summary>"/proc/loadavg"'s first three fields, or "unknown".</summary>
    public static string Read() => Fields() is { } f ? string.Join(" ", f) : "unknown";

    /// <summary>The 1-minute load average, or null where /proc/loadavg cannot be read.</summary>
    public static double? OneMinute() =>
        Fields() is { } f && double.TryParse(f[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : null;

    private static string[]? Fields()
    {
        try { return File.ReadAllText("/proc/loadavg").Split(' ').Take(3).ToArray(); }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    /// <summary>Wraps the action of <paramref name="cmd"/> and of its subcommands with the two load lines.</summary>
    public static Command Reported(Command cmd)
    {
        if (Environment.GetEnvironmentVariable(ConfinedChild) == "1") return cmd;
        switch (cmd.Action)
        {
            case SynchronousCommandLineAction sync:
                cmd.SetAction(pr =>
                {
                    var start = Begin(cmd.Name);
                    try { return sync.Invoke(pr); }
                    finally { End(cmd.Name, start); }
                });
                break;
            case AsynchronousCommandLineAction async:
                cmd.SetAction(async (pr, ct) =>
                {
                    var start = Begin(cmd.Name);
                    try { return await async.InvokeAsync(pr, ct).ConfigureAwait(false); }
                    finally { End(cmd.Name, start); }
                });
                break;
        }
        foreach (var sub in cmd.Subcommands) Reported(sub);
        return cmd;
    }

    private static double? Begin(string name)
    {
        Console.WriteLine($"bench {name}: load average at start {Read()} (1, 5, 15 min)");
        return OneMinute();
    }

    private static void End(string name, double? start)
    {
        var end = OneMinute();
        Console.WriteLine($"bench {name}: load average at end {Read()}");
        if (start > ComparableBelow || end > ComparableBelow)
            Console.WriteLine($"WARNING: bench {name}: the 1-minute load average was {start?.ToString("F2", CultureInfo.InvariantCulture) ?? "?"} at the start and " +
                $"{end?.ToString("F2", CultureInfo.InvariantCulture) ?? "?"} at the end, above {ComparableBelow}: these figures are not comparable. " +
                "Time only on an idle machine (the end figure includes this benchmark's own threads).");
    }
}
