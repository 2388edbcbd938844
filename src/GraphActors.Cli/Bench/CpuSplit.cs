// A benchmark's CPUs split between the server (this process) and its load generator, as if the load came from another machine.
using System.Diagnostics;

namespace GraphActors.Cli.Bench;

/// <summary>
/// Which CPUs the server keeps and which the load generator gets (<c>taskset</c> lists). On a small machine a load
/// generator on the server's CPUs takes its CPU from the server, more of it the more requests it makes, so figures under
/// overload would measure the generator; confining each to its own CPUs measures the server alone.
/// </summary>
internal sealed record CpuSplit(string Server, string? Client, bool ServerIsCurrent, string? Taskset)
{
    /// <summary>
    /// <paramref name="client"/>: a taskset list, "none", or null for the default (the last allowed CPU when there are
    /// two or more). Null after writing the reason to stderr (bad input).
    /// </summary>
    public static CpuSplit? Resolve(string? client)
    {
        var allowed = Allowed();
        var current = Format(allowed);
        if (client == "none" || (client is null && allowed.Count < 2)) return new CpuSplit(current, null, true, null);
        SortedSet<int> clientSet;
        try
        {
            clientSet = client is null ? [allowed.Max] : Parse(client);
        }
        catch (FormatException e)
        {
            Console.Error.WriteLine($"error: --client-cpus {client}: {e.Message}");
            return null;
        }
        var taskset = ServeBenchmark.FindOnPath("taskset");
        if (taskset is null)
        {
            Console.Error.WriteLine("error: taskset (util-linux) is not on PATH; give --client-cpus none to share the CPUs.");
            return null;
        }
        var server = new SortedSet<int>(allowed);
        server.ExceptWith(clientSet);
        if (server.Count == 0)
        {
            Console.Error.WriteLine($"error: --client-cpus {Format(clientSet)} leaves the server none of this process's CPUs ({current}).");
            return null;
        }
        return new CpuSplit(Format(server), Format(clientSet), server.SetEquals(allowed), taskset);
    }

    /// <summary>Runs this same command again, confined to the server's CPUs, and returns its exit code.</summary>
    public static int RunConfined(CpuSplit split, IEnumerable<string> extraArgs)
    {
        var psi = new ProcessStartInfo(split.Taskset!) { UseShellExecute = false };
        psi.Environment[BenchLoad.ConfinedChild] = "1"; // this process reports the load around the whole run
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(split.Server);
        var host = Environment.ProcessPath ?? throw new InvalidOperationException("the path of this executable is unknown");
        psi.ArgumentList.Add(host);
        var args = Environment.GetCommandLineArgs();
        // Under `dotnet x.dll` the first argument is the assembly, which the host needs again; an apphost's is itself.
        var own = Path.GetFileNameWithoutExtension(host) == "dotnet" ? args : args.Skip(1);
        foreach (var a in own.Concat(extraArgs)) psi.ArgumentList.Add(a);
        Console.WriteLine($"confining the server to CPU(s) {split.Server} (taskset), wrk to {split.Client}");
        using var child = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {split.Taskset}");
        child.WaitForExit();
        return child.ExitCode;
    }

    /// <summary>The CPUs this process may run on (Cpus_allowed_list of /proc/self/status), or 0 … n−1 when unknown.</summary>
    private static SortedSet<int> Allowed()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith("Cpus_allowed_list:", StringComparison.Ordinal)) return Parse(line["Cpus_allowed_list:".Length..].Trim());
        }
        catch (IOException) { }
        return [.. Enumerable.Range(0, Environment.ProcessorCount)];
    }

    /// <summary>A taskset/cpuset list: "0", "0,2", "0-3,6".</summary>
    internal static SortedSet<int> Parse(string list)
    {
        var set = new SortedSet<int>();
        foreach (var part in list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var dash = part.IndexOf('-');
            if (dash < 0) set.Add(Cpu(part));
            else
            {
                var (from, to) = (Cpu(part[..dash]), Cpu(part[(dash + 1)..]));
                if (to < from) throw new FormatException($"'{part}' is a descending range");
                for (var c = from; c <= to; c++) set.Add(c);
            }
        }
        if (set.Count == 0) throw new FormatException("no CPU given");
        return set;

        static int Cpu(string s) => int.TryParse(s, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var c)
            ? c : throw new FormatException($"'{s}' is not a CPU number");
    }

    internal static string Format(IEnumerable<int> cpus) => string.Join(',', cpus);
}
