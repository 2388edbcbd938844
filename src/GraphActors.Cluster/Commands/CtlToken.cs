// The ctl token: read from a file or created there (0600), and compared in constant time.
using System.Security.Cryptography;
using System.Text;
using GraphActors.Graph;

namespace GraphActors.Cluster.Commands;

public static class CtlToken
{
    /// <summary>The token in <paramref name="path"/> (its first line, trimmed); a missing or empty file is an error that names it.</summary>
    public static string Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"ctl token file '{Path.GetFullPath(path)}' does not exist.", path);
        var token = File.ReadLines(path).FirstOrDefault()?.Trim() ?? "";
        return token.Length > 0 ? token : throw new InvalidDataException($"ctl token file '{Path.GetFullPath(path)}' is empty.");
    }

    /// <summary>
    /// The token in <paramref name="path"/>; when the file does not exist, a fresh random one written there first, mode
    /// 0600. Nodes starting together on one path agree (<see cref="AtomicFile.ReadOrCreateExclusive"/>).
    /// </summary>
    public static (string Token, bool Created) ReadOrCreate(string path)
    {
        var (text, created) = AtomicFile.ReadOrCreateExclusive(path, () => Base64Url(RandomNumberGenerator.GetBytes(32)) + "\n");
        return (created ? text.Trim() : Read(path), created);
    }

    /// <summary>Whether the file can be read by anyone but its owner (a token there is no secret).</summary>
    public static bool OthersMayRead(string path) =>
        !OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & (UnixFileMode.GroupRead | UnixFileMode.OtherRead)) != 0;

    /// <summary>Constant-time comparison: the time taken says nothing of how much of the token was right (nor its length).</summary>
    public static bool Matches(string expected, string given) =>
        expected.Length > 0 && CryptographicOperations.FixedTimeEquals(
            SHA256.HashData(Encoding.UTF8.GetBytes(expected)), SHA256.HashData(Encoding.UTF8.GetBytes(given)));

    /// <summary>Why `ctl <paramref name="verb"/>` is refused with <paramref name="given"/>, or null when it may go ahead.</summary>
    public static string? Refusal(string verb, string expected, string given)
    {
        if (expected.Length == 0)
            return $"`ctl {verb}` changes the cluster, and this node has no ctl token, so it refuses every such command: set the same " +
                   "graphactors.ctl.token-file (or graphactors.ctl.token, GA_CTL_TOKEN) on every node, then give ctl that token";
        if (given.Length == 0)
            return $"`ctl {verb}` changes the cluster and needs the cluster's ctl token, and none was given: pass --token-file PATH, " +
                   "GA_CTL_TOKEN, --token or --node-config NODE.hocon (the node's graphactors.ctl.token / token-file)";
        return Matches(expected, given) ? null
            : $"`ctl {verb}` was refused: the token given is not this node's graphactors.ctl.token (check --token-file, GA_CTL_TOKEN or --token)";
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
