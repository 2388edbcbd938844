// Who may use the management API: its bearer token, Jupyter-style: configured, or generated once into the node's folder, or off on purpose.
using System.Security.Cryptography;
using GraphActors.Graph;

namespace GraphActors.Serving;

public enum ManagementTokenOrigin
{
    /// <summary>Given in the configuration (or the environment behind it).</summary>
    Configured,

    /// <summary>Generated at this start and written to <see cref="ManagementAuth.File"/>.</summary>
    Generated,

    /// <summary>Read from <see cref="ManagementAuth.File"/>, written by an earlier start.</summary>
    Reused,

    /// <summary>Opted out (<c>management-token = off</c>): the management API is open.</summary>
    Disabled,
}

/// <summary>
/// Where the management token came from. A node without a configured token generates one at its first start (32 random
/// bytes, hex) into a file only its user can read, and reads it back at every later start, so scripts on the node read
/// the file and a restart does not lock them out.
/// </summary>
public sealed record ManagementAuth(string? Token, ManagementTokenOrigin Origin, string? File)
{
    /// <summary>The token file's name in the node's data directory.</summary>
    public const string FileName = "management-token";

    /// <summary>Configured values that switch the token off (case-insensitive).</summary>
    public static readonly IReadOnlyList<string> OffValues = ["off", "disabled"];

    /// <summary>A problem with the file that did not stop the start (it is readable by others), or null.</summary>
    public string? Warning { get; init; }

    public static bool IsOff(string? configured) =>
        configured is not null && OffValues.Contains(configured.Trim(), StringComparer.OrdinalIgnoreCase);

    /// <summary>A fresh token: 32 bytes from the OS's CSPRNG as 64 lowercase hex digits (safe in a header, a URL fragment, a shell).</summary>
    public static string NewToken() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));

    /// <summary>
    /// The token for <paramref name="configured"/>: off (<see cref="OffValues"/>), the configured string, or — empty or
    /// null — the content of <paramref name="file"/>, which is created (mode 0600, exclusively: see
    /// <see cref="AtomicFile.ReadOrCreateExclusive"/>) when it does not exist yet.
    /// </summary>
    /// <exception cref="InvalidOperationException">A token is needed from a file, and there is none to use or the file is empty.</exception>
    public static ManagementAuth Resolve(string? configured, string? file)
    {
        if (IsOff(configured)) return new ManagementAuth(null, ManagementTokenOrigin.Disabled, null);
        if (!string.IsNullOrWhiteSpace(configured)) return new ManagementAuth(configured.Trim(), ManagementTokenOrigin.Configured, null);
        if (string.IsNullOrWhiteSpace(file))
            throw new InvalidOperationException("No management token is configured and no file to keep a generated one in (management-token-file).");
        file = Path.GetFullPath(file);
        // Created with 0600 from the start (there is no moment at which another user could open it), exclusively: when
        // two processes start on one folder at once, one creates it and the other reads that token.
        var (_, created) = AtomicFile.ReadOrCreateExclusive(file, () => NewToken() + "\n");
        var auth = TryRead(file) ?? throw new InvalidOperationException($"The management token file {file} disappeared while it was read.");
        return created ? auth with { Origin = ManagementTokenOrigin.Generated, Warning = null } : auth;
    }

    private static ManagementAuth? TryRead(string file)
    {
        if (!System.IO.File.Exists(file)) return null;
        var value = System.IO.File.ReadAllText(file).Trim();
        if (value.Length == 0)
            throw new InvalidOperationException($"The management token file {file} is empty: delete it (a new token is generated at the next start) or write a token into it.");
        string? warning = null;
        if (!OperatingSystem.IsWindows())
        {
            var mode = System.IO.File.GetUnixFileMode(file);
            if ((mode & (UnixFileMode.GroupRead | UnixFileMode.OtherRead | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)) != 0)
                warning = $"the management token file {file} can be read or written by other users (mode {Convert.ToString((int)mode, 8)}): chmod 600 {file}";
        }
        return new ManagementAuth(value, ManagementTokenOrigin.Reused, file) { Warning = warning };
    }

    /// <summary>
    /// The start-up line: where a generated or reused token is and the status page's address with it (the token in
    /// the fragment, which browsers never send); for a configured token only that one is required; for an opt-out,
    /// the warning.
    /// </summary>
    public string Describe(Uri management, string configKey) => Origin switch
    {
        ManagementTokenOrigin.Generated =>
            $"management API token generated into {File} (mode 0600; `cat {File}`): {Token} — send `Authorization: Bearer <token>`; status page {new Uri(management, "status")}#token={Token}",
        ManagementTokenOrigin.Reused =>
            $"management API token read from {File}: {Token} — send `Authorization: Bearer <token>`; status page {new Uri(management, "status")}#token={Token}",
        ManagementTokenOrigin.Configured => $"management API token: the one {configKey} configures",
        _ => $"WARNING: the management API on {management} requires no token ({configKey} = off): anyone who reaches it can register, replace and delete models. " +
             "Keep it for tests and loopback development.",
    };
}
