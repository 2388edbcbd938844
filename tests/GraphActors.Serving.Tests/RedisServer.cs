// A real redis-server per test class, on a free loopback port, killed afterwards.
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace GraphActors.Serving.Tests;

/// <summary>Runs <c>redis-server --port P --save '' --appendonly no --bind 127.0.0.1</c> as a child process.</summary>
public sealed class RedisServer : IDisposable
{
    private Process? _process;

    public RedisServer(string? password = null)
    {
        Password = password;
        Port = FreePort();
        Start();
    }

    public int Port { get; }
    public string? Password { get; }
    public string Endpoint => $"127.0.0.1:{Port}";
    public bool IsRunning => _process is { HasExited: false };

    public static string? Executable =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, "redis-server")).FirstOrDefault(File.Exists);

    public void Start()
    {
        if (IsRunning) return;
        var exe = Executable ?? throw new InvalidOperationException("redis-server is not on PATH.");
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "--port", Port.ToString(), "--save", "", "--appendonly", "no", "--bind", "127.0.0.1" }) psi.ArgumentList.Add(a);
        if (Password is not null) { psi.ArgumentList.Add("--requirepass"); psi.ArgumentList.Add(Password); }
        _process = Process.Start(psi)!;
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var c = new TcpClient();
                c.Connect(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException)
            {
                if (_process.HasExited) throw new InvalidOperationException($"redis-server exited with {_process.ExitCode} on port {Port}.");
                Thread.Sleep(50);
            }
        }
        throw new TimeoutException($"redis-server did not accept connections on port {Port} within 10 s.");
    }

    public void Kill()
    {
        if (_process is null) return;
        if (!_process.HasExited) { _process.Kill(); _process.WaitForExit(5000); }
        _process.Dispose();
        _process = null;
    }

    public void Dispose() => Kill();

    private static int FreePort() => TestPorts.Free();
}

/// <summary>A fact that needs redis-server: reported as skipped, with the reason, when it is not installed.</summary>
public sealed class RedisFactAttribute : FactAttribute
{
    public RedisFactAttribute()
    {
        if (RedisServer.Executable is null)
            Skip = "redis-server is not on PATH: install the Debian package redis-server (.ci/run does) to run the Redis tests.";
    }
}
