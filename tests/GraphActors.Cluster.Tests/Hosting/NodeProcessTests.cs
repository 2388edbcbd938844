using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using GraphActors.Cluster.Tests.Support;

namespace GraphActors.Cluster.Tests.Hosting;

/// <summary>Starts `graphactors node` as a real child process.</summary>
public class NodeProcessTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);

    private const int SigTerm = 15;

    private sealed class Node : IDisposable
    {
        private readonly Process _process;
        private readonly StringBuilder _output = new();
        private readonly object _gate = new();

        public Node(string configText, IDictionary<string, string> env)
        {
            var config = Path.Combine(Path.GetTempPath(), $"ga-node-{Guid.NewGuid():N}.hocon");
            File.WriteAllText(config, configText);
            var psi = new ProcessStartInfo("dotnet")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            psi.ArgumentList.Add(CliDll());
            psi.ArgumentList.Add("node");
            psi.ArgumentList.Add("--config");
            psi.ArgumentList.Add(config);
            foreach (var (k, v) in env) psi.Environment[k] = v;
            _process = Process.Start(psi)!;
            _process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_gate) _output.AppendLine(e.Data); };
            _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_gate) _output.AppendLine(e.Data); };
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
        }

        public string Output { get { lock (_gate) return _output.ToString(); } }

        public async Task WaitForLine(string text, TimeSpan timeout)
        {
            var deadline = DateTime.UtcNow + timeout;
            while (!Output.Contains(text))
            {
                if (_process.HasExited || DateTime.UtcNow > deadline)
                    throw new TimeoutException($"no line with '{text}' after {timeout} (exited: {_process.HasExited}). Output:\n{Output}");
                await Task.Delay(100);
            }
        }

        public async Task<int> Terminate(TimeSpan timeout)
        {
            Assert.Equal(0, kill(_process.Id, SigTerm));
            using var cts = new CancellationTokenSource(timeout);
            try
            {
                await _process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"the node did not exit within {timeout} of SIGTERM. Output:\n{Output}");
            }
            return _process.ExitCode;
        }

        public void Dispose()
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            _process.Dispose();
        }
    }

    /// <summary>The graphactors.dll built alongside these tests (same configuration).</summary>
    private static string CliDll()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}") ? "Release" : "Debug";
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "GraphActors.sln"))) dir = dir.Parent;
        Assert.True(dir is not null, $"no GraphActors.sln above {AppContext.BaseDirectory}");
        var dll = Path.Combine(dir!.FullName, "src", "GraphActors.Cli", "bin", configuration, "net10.0", "graphactors.dll");
        Assert.True(File.Exists(dll), $"{dll} is missing: build src/GraphActors.Cli first.");
        return dll;
    }

    [Fact]
    public async Task A_node_process_joins_comes_up_loads_its_partitions_and_exits_with_code_0_on_SIGTERM()
    {
        var port = TestNodes.FreePort();
        using var node = new Node("akka.loglevel = INFO\nakka.cluster.roles = [partition]\n", new Dictionary<string, string>
        {
            ["GA_HOST"] = "127.0.0.1",
            ["GA_PORT"] = port.ToString(),
            ["GA_SEEDS"] = TestNodes.Address(port),
            ["GA_STORE"] = TestStore.TwoParts,
        });
        await node.WaitForLine("is up: joined the cluster", Wait);
        // start-on-up: both partitions are mapped without any request.
        await node.WaitForLine("Partition 0 loaded", Wait);
        await node.WaitForLine("Partition 1 loaded", Wait);
        Assert.Contains($"127.0.0.1:{port}", node.Output);
        Assert.Equal(0, await node.Terminate(Wait));
        Assert.Contains("left the cluster", node.Output);
    }

    [Fact]
    public async Task A_node_whose_seeds_are_unreachable_says_it_is_still_trying_to_join_them()
    {
        var deadSeed = TestNodes.Address(TestNodes.FreePort());
        using var node = new Node("akka.loglevel = ERROR\ngraphactors.node.join-progress-interval = 1s\n", new Dictionary<string, string>
        {
            ["GA_PORT"] = TestNodes.FreePort().ToString(),
            ["GA_SEEDS"] = deadSeed,
        });
        await node.WaitForLine($"still trying to join seeds [{deadSeed}]: no answer after", Wait);
        Assert.Equal(0, await node.Terminate(Wait));
    }
}
