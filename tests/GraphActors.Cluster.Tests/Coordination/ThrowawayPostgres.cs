// A PostgreSQL 15 server in a temp directory on a free port, for one test; skipped (with the reason) when the binaries are absent.
using System.Diagnostics;
using GraphActors.Cluster.Tests.Support;

namespace GraphActors.Cluster.Tests.Coordination;

public sealed class ThrowawayPostgres : IDisposable
{
    public const string BinDir = "/usr/lib/postgresql/15/bin";
    private readonly string _dir;
    private readonly string _ctl;

    private ThrowawayPostgres(string dir, int port)
    {
        _dir = dir;
        _ctl = Path.Combine(BinDir, "pg_ctl");
        ConnectionString = $"Host=127.0.0.1;Port={port};Username=test;Database=postgres;Pooling=false";
    }

    public string ConnectionString { get; }

    public static bool Available => File.Exists(Path.Combine(BinDir, "initdb")) && File.Exists(Path.Combine(BinDir, "pg_ctl"));

    public static ThrowawayPostgres Start()
    {
        var dir = Path.Combine(Path.GetTempPath(), "ga-pg-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        var port = TestNodes.FreePort();
        var pg = new ThrowawayPostgres(dir, port);
        // PostgreSQL refuses to run as root: run it as the 'postgres' system user (from the Debian package) when we are root.
        if (Environment.UserName == "root") Run("chown", $"-R postgres {dir}", TimeSpan.FromSeconds(10));
        pg.AsOwner(Path.Combine(BinDir, "initdb"), $"-D {dir}/data -U test --auth=trust -E UTF8", TimeSpan.FromSeconds(60));
        pg.AsOwner(pg._ctl, $"-D {dir}/data -l {dir}/log -w -t 30 -o \"-p {port} -k {dir} -c listen_addresses=127.0.0.1\" start", TimeSpan.FromSeconds(40));
        return pg;
    }

    private void AsOwner(string exe, string args, TimeSpan timeout)
    {
        if (Environment.UserName == "root") Run("runuser", $"-u postgres -- {exe} {args}", timeout);
        else Run(exe, args, timeout);
    }

    private static void Run(string exe, string args, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo("/bin/sh", ["-c", $"{exe} {args}"]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"'{exe} {args}' did not finish within {timeout}.");
        }
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"'{exe} {args}' exited with {p.ExitCode}: {error.Result}{output.Result}");
    }

    public void Dispose()
    {
        try { AsOwner(_ctl, $"-D {_dir}/data -m immediate -w -t 20 stop", TimeSpan.FromSeconds(30)); }
        finally
        {
            try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}

/// <summary>A fact that needs PostgreSQL 15's server binaries; reported skipped, with where they were looked for, when absent.</summary>
public sealed class PostgresFactAttribute : FactAttribute
{
    public PostgresFactAttribute()
    {
        if (!ThrowawayPostgres.Available)
            Skip = $"PostgreSQL server binaries not found in {ThrowawayPostgres.BinDir} (install the Debian package 'postgresql'): the PostgreSQL journal test did not run.";
    }
}
