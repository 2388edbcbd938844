// Busy processes that saturate the machine's cores while a test runs: results must not depend on load.
using System.Diagnostics;

namespace GraphActors.Cluster.Tests.Support;

/// <summary>
/// Starts one <c>yes &gt; /dev/null</c> per core (at least <paramref name="count"/>) and kills them on dispose, so a test's
/// cluster runs on a saturated CPU: timing-dependent behaviour (a slow trainer dropped from a round, a draw that depends
/// on which thread came first) shows up as a different model.
/// </summary>
public sealed class CpuHogs : IDisposable
{
    private readonly List<Process> _hogs = [];

    public CpuHogs(int count = 0)
    {
        var n = Math.Max(count, Environment.ProcessorCount);
        for (var i = 0; i < n; i++)
        {
            var p = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", "exec yes > /dev/null"]) { UseShellExecute = false })
                ?? throw new InvalidOperationException("could not start a busy process (/bin/sh -c 'yes > /dev/null')");
            _hogs.Add(p);
        }
    }

    public int Count => _hogs.Count;

    public void Dispose()
    {
        foreach (var p in _hogs)
        {
            try { if (!p.HasExited) p.Kill(); p.WaitForExit(5000); }
            catch (InvalidOperationException) { }
            p.Dispose();
        }
        _hogs.Clear();
    }
}
