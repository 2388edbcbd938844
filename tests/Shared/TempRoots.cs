// Scratch folders of test runs, named after the test process, so that a run removes what earlier runs left behind.
namespace GraphActors.TestSupport;

/// <summary>
/// Test data under the system temp folder that lives as long as the test process: <c>ProcessExit</c> handlers do not
/// run when the test host is stopped or killed (a run of the cluster tests left ~1 GB behind each time), so every
/// folder carries its process id and the first call of a process deletes the folders of processes that are gone.
/// </summary>
public static class TempRoots
{
    private static readonly HashSet<string> Swept = [];

    /// <summary>A new empty folder <c>{temp}/{parent}/{pid}-{guid}</c>.</summary>
    public static string New(string parent)
    {
        var root = Path.Combine(Path.GetTempPath(), parent);
        Sweep(root, "");
        var dir = Path.Combine(root, $"{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>The folder <c>{temp}/{prefix}-{pid}</c> (not created), after deleting <c>{prefix}-*</c> of processes that are gone.</summary>
    public static string ForProcess(string prefix)
    {
        Sweep(Path.GetTempPath(), prefix + "-");
        return Path.Combine(Path.GetTempPath(), $"{prefix}-{Environment.ProcessId}");
    }

    /// <summary>Deletes the folders under <paramref name="root"/> named <c>{prefix}{pid}…</c> whose process has ended (Linux: no /proc/pid).</summary>
    private static void Sweep(string root, string prefix)
    {
        lock (Swept)
        {
            if (!Swept.Add(Path.Combine(root, prefix)) || !OperatingSystem.IsLinux() || !Directory.Exists(root)) return;
        }
        foreach (var dir in Directory.EnumerateDirectories(root, prefix + "*"))
        {
            var rest = Path.GetFileName(dir)[prefix.Length..];
            var digits = rest.IndexOf('-') is var dash and >= 0 ? rest[..dash] : rest;
            if (!int.TryParse(digits, out var pid) || pid == Environment.ProcessId || Directory.Exists($"/proc/{pid}")) continue;
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}
