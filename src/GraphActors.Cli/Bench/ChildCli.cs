// Benchmarks that run the path as a user would: each step a child `graphactors` process, its output passed through.
using System.Diagnostics;
using System.Globalization;
using Spectre.Console;

namespace GraphActors.Cli.Bench;

internal static class ChildCli
{
    /// <summary>
    /// How to start `graphactors ARGS` with this process's own executable (under `dotnet x.dll`, the assembly again),
    /// output and errors redirected. With <paramref name="withoutGaVariables"/> the GA_* variables of this shell are
    /// left out: a node started so is configured by its file alone.
    /// </summary>
    public static ProcessStartInfo StartInfo(IEnumerable<string> args, bool withoutGaVariables = false)
    {
        var host = Environment.ProcessPath ?? throw new InvalidOperationException("Cannot tell which executable runs this process.");
        var psi = new ProcessStartInfo(host) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(host) == "dotnet") psi.ArgumentList.Add(typeof(ChildCli).Assembly.Location);
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (withoutGaVariables)
            foreach (var k in psi.Environment.Keys.Where(k => k.StartsWith("GA_", StringComparison.Ordinal)).ToArray()) psi.Environment.Remove(k);
        return psi;
    }

    /// <summary>
    /// Runs `graphactors ARGS` (this executable), its output lines prefixed with <paramref name="label"/> and handed to
    /// <paramref name="onLine"/>; <paramref name="watch"/> gets the child's pid every two seconds while it runs. Returns
    /// the seconds it took; throws when it exits non-zero, and kills it when <paramref name="ct"/> is cancelled.
    /// </summary>
    public static async Task<double> RunAsync(string label, IReadOnlyList<string> args, CancellationToken ct,
        Action<string>? onLine = null, Action<int>? watch = null)
    {
        var inv = CultureInfo.InvariantCulture;
        var psi = StartInfo(args);
        AnsiConsole.MarkupLineInterpolated(inv, $"[bold]{label}[/]: graphactors {string.Join(' ', args)}");
        var sw = Stopwatch.StartNew();
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"Could not start {psi.FileName}.");
        p.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not { } line) return;
            Console.WriteLine($"  {label} | {line}");
            onLine?.Invoke(line);
        };
        p.ErrorDataReceived += (_, e) => { if (e.Data is { } line) Console.Error.WriteLine($"  {label} ! {line}"); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        try
        {
            var exited = p.WaitForExitAsync(ct);
            while (!exited.IsCompleted)
            {
                watch?.Invoke(p.Id);
                await Task.WhenAny(exited, Task.Delay(2000, ct));
            }
            await exited;
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{label} did not finish in time: stopped after {sw.Elapsed.TotalSeconds:F0} s.");
        }
        if (p.ExitCode != 0) throw new InvalidOperationException($"{label} exited with code {p.ExitCode} after {sw.Elapsed.TotalSeconds:F0} s (its output is above).");
        AnsiConsole.MarkupLineInterpolated(inv, $"{label}: {sw.Elapsed.TotalSeconds:F1} s");
        return sw.Elapsed.TotalSeconds;
    }
}
