// Compiled into every test project (see Directory.Build.props): ports for the listeners tests start on 127.0.0.1.
using System.Net;
using System.Net.Sockets;

namespace GraphActors.TestSupport;

/// <summary>
/// Ports a test may bind. Asking the OS for port 0 and binding the number later loses races: the kernel hands the same
/// ephemeral ports to outgoing connections (every Akka association, Redis client and HTTP call of a test run), and one
/// of them can take the number between the probe and the bind ("Address already in use"). These ports come from below
/// the kernel's ephemeral range, so only another listener can take them; each process walks its own sequence (offset
/// by its id) and every candidate is probed before it is handed out.
/// </summary>
public static class TestPorts
{
    private static readonly (int First, int Count) Range = Outside(EphemeralRange());
    private static int _next = Environment.ProcessId * 7919 % Range.Count;

    /// <summary>A port on 127.0.0.1 that no listener holds now and no outgoing connection is given.</summary>
    public static int Free()
    {
        for (var attempt = 0; attempt < Range.Count; attempt++)
        {
            var port = Range.First + (int)((uint)Interlocked.Increment(ref _next) % (uint)Range.Count);
            try
            {
                using var probe = new TcpListener(IPAddress.Loopback, port);
                probe.Start();
                return port;
            }
            catch (SocketException)
            {
                // Held by a listener: try the next one.
            }
        }
        throw new InvalidOperationException($"No free port on 127.0.0.1 in {Range.First}–{Range.First + Range.Count - 1}.");
    }

    private static (int Low, int High) EphemeralRange()
    {
        const string file = "/proc/sys/net/ipv4/ip_local_port_range";
        if (!File.Exists(file)) return (32768, 60999);
        var parts = File.ReadAllText(file).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        return (int.Parse(parts[0]), int.Parse(parts[1]));
    }

    // 12,000 ports below the ephemeral range when it leaves room (Linux's default 32768–60999 does), else above it.
    private static (int First, int Count) Outside((int Low, int High) ephemeral) =>
        ephemeral.Low - 12000 >= 1024 ? (ephemeral.Low - 12000, 12000) : (ephemeral.High + 1, 65535 - ephemeral.High);
}
