// What the benchmarks read from /proc: a process's stat fields and "Key: value kB" files (status, meminfo).
using System.Globalization;

namespace GraphActors.Cli.Bench;

internal static class ProcFiles
{
    /// <summary>
    /// The fields of /proc/<paramref name="pid"/>/stat after the command name (field 3, the state, is index 0), or
    /// null when the process is gone. The name is in parentheses and may hold spaces: fields count from its closing one.
    /// </summary>
    public static string[]? StatFields(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>
    /// A file of "Key:  value [kB]" lines (/proc/meminfo, /proc/PID/status) with numeric values, in bytes for kB
    /// values; null when it cannot be read (the process is gone). Lines whose value is not one number are left out.
    /// </summary>
    public static Dictionary<string, long>? Values(string path)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(path);
        }
        catch (IOException)
        {
            return null;
        }
        var d = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var line in lines)
        {
            var colon = line.IndexOf(':');
            if (colon <= 0) continue;
            var parts = line[(colon + 1)..].Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length is 0 or > 2 || !long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var v)) continue;
            d[line[..colon]] = parts.Length == 2 && parts[1] == "kB" ? v * 1024 : v;
        }
        return d;
    }
}
