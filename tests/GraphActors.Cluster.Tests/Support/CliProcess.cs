// The real `graphactors` executable as a child process: output captured, every wait bounded, killed on Dispose.
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using GraphActors.Cluster.Tests.Support;

namespace GraphActors.Cluster.Tests.Support;

internal sealed class CliProcess : IDisposable
{
    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);

    private const int SigTerm = 15, SigKill = 9;

    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly object _gate = new();

    private CliProcess(IEnumerable<string> args, IDictionary<string, string>? env, string? dll = null)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(dll ?? Dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        // Only what the test says: a GA_* variable of the test runner must not steer the child.
        foreach (var k in psi.Environment.Keys.Where(k => k.StartsWith("GA_", StringComparison.Ordinal)).ToArray()) psi.Environment.Remove(k);
        if (env is not null) foreach (var (k, v) in env) psi.Environment[k] = v;
        _process = Process.Start(psi)!;
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_gate) _stdout.AppendLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_gate) _stderr.AppendLine(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public static CliProcess Start(IEnumerable<string> args, IDictionary<string, string>? env = null) => new(args, env);

    /// <summary>Another program of this repository (<paramref name="dll"/>, run by dotnet), watched the same way.</summary>
    public static CliProcess StartProgram(string dll, IEnumerable<string> args) => new(args, null, dll);

    /// <summary>A cluster node from <paramref name="hocon"/> (written to a temp file).</summary>
    public static CliProcess Node(string hocon, string? store = null, IDictionary<string, string>? env = null)
    {
        var config = Path.Combine(Path.GetTempPath(), $"ga-ctl-node-{Guid.NewGuid():N}.hocon");
        File.WriteAllText(config, hocon);
        var args = new List<string> { "node", "--config", config };
        if (store is not null) args.AddRange(["--store", store]);
        return new CliProcess(args, env);
    }

    /// <summary>
    /// The HOCON of a test node on 127.0.0.1, rebalancing home quickly. No serialize-messages here: the ctl messages
    /// cross real sockets anyway, and with it on in these processes the seed's singleton manager took the joining
    /// node for the oldest (the log showed members with upNumber 0) and the shard coordinator hand-over got stuck.
    /// </summary>
    public static string NodeHocon(int port, int seedPort, string roles) => $$"""
        akka.loglevel = INFO
        akka.remote.dot-netty.tcp.hostname = "127.0.0.1"
        akka.remote.dot-netty.tcp.port = {{port}}
        akka.cluster.seed-nodes = ["{{TestNodes.Address(seedPort)}}"]
        akka.cluster.roles = [{{roles}}]
        akka.cluster.sharding.rebalance-interval = 1s
        graphactors.node.shutdown-timeout = 20s
        """;

    public string Stdout { get { lock (_gate) return _stdout.ToString(); } }
    public string Stderr { get { lock (_gate) return _stderr.ToString(); } }
    public string Output => $"--- stdout ---\n{Stdout}--- stderr ---\n{Stderr}";
    public bool HasExited => _process.HasExited;

    public async Task WaitForLine(string text, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!Stdout.Contains(text) && !Stderr.Contains(text))
        {
            if (_process.HasExited || DateTime.UtcNow > deadline)
                throw new TimeoutException($"no line with '{text}' after {timeout} (exited: {_process.HasExited}).\n{Output}");
            await Task.Delay(100);
        }
    }

    public async Task<int> WaitForExit(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"`graphactors` did not exit within {timeout}.\n{Output}");
        }
        return _process.ExitCode;
    }

    public Task<int> Terminate(TimeSpan timeout)
    {
        if (!_process.HasExited) kill(_process.Id, SigTerm);
        return WaitForExit(timeout);
    }

    /// <summary>
    /// <c>kill -9</c>: SIGKILL to the node's process (dotnet runs graphactors.dll in-process, so this is the node itself).
    /// No CoordinatedShutdown, no leave, nothing flushed: the cluster learns of it only through its failure detector.
    /// </summary>
    public Task<int> Kill(TimeSpan timeout)
    {
        if (!_process.HasExited && kill(_process.Id, SigKill) != 0)
            throw new InvalidOperationException($"kill -9 {_process.Id} failed with errno {Marshal.GetLastWin32Error()}.\n{Output}");
        return WaitForExit(timeout);
    }

    public int Pid => _process.Id;

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Exited meanwhile.
        }
        _process.Dispose();
    }

    /// <summary>The graphactors.dll built alongside these tests (same configuration).</summary>
    public static string Dll => RepoFiles.CliDll;
}
