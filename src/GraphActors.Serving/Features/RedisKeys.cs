// The Redis key scheme of the feature cache, in one place (docs/SERVING.md describes it).
using System.Globalization;
using System.Text;
using StackExchange.Redis;

namespace GraphActors.Serving;

/// <summary>
/// Keys: <c>{prefix}:{graph}:{version}:feat:{type}:{businessId}</c> → the row as little-endian float32 bytes;
/// <c>{prefix}:{graph}:{version}:feat:{type}:meta</c> → JSON (dim, count) written when a load is complete;
/// <c>{prefix}:{graph}:feat:{type}:current</c> → the version readers use, set only after a load completed.
/// </summary>
public sealed record RedisKeys(string Graph, string Prefix = "ga")
{
    public RedisKey Current(string type) => $"{Prefix}:{Graph}:feat:{type}:current";
    public RedisKey Pending(string type) => $"{Prefix}:{Graph}:feat:{type}:pending";
    public RedisKey Meta(string version, string type) => $"{Prefix}:{Graph}:{version}:feat:{type}:meta";

    public RedisKey Feature(string version, string type, long businessId) =>
        string.Create(CultureInfo.InvariantCulture, $"{Prefix}:{Graph}:{version}:feat:{type}:{businessId}");

    /// <summary>A SCAN pattern matching every key of one version of one type (glob characters in names escaped).</summary>
    public string VersionPattern(string version, string type) =>
        $"{Glob(Prefix)}:{Glob(Graph)}:{Glob(version)}:feat:{Glob(type)}:*";

    private static string Glob(string s)
    {
        var b = new StringBuilder(s.Length);
        foreach (var c in s)
        {
            if (c is '*' or '?' or '[' or ']' or '\\') b.Append('\\');
            b.Append(c);
        }
        return b.ToString();
    }
}

/// <summary>How to reach Redis. Timeouts are short on purpose: a slow cache is worse than a miss.</summary>
public sealed record RedisOptions
{
    /// <summary>host:port (or a StackExchange.Redis configuration string).</summary>
    public required string Endpoint { get; init; }
    public string? Password { get; init; }
    public string Graph { get; init; } = "default";
    public string Prefix { get; init; } = "ga";
    public int ConnectTimeoutMs { get; init; } = 1000;
    /// <summary>Per-command timeout on the read path.</summary>
    public int CommandTimeoutMs { get; init; } = 250;
    /// <summary>After a failure, requests skip Redis for this long instead of each paying a timeout.</summary>
    public int RetryAfterMs { get; init; } = 500;
    /// <summary>How long a reader trusts the <c>current</c> version it read.</summary>
    public int VersionCacheMs { get; init; } = 1000;

    public RedisKeys Keys => new(Graph, Prefix);

    internal ConfigurationOptions ToConfiguration(int? commandTimeoutMs = null)
    {
        var c = ConfigurationOptions.Parse(Endpoint);
        c.AbortOnConnectFail = false; // start and keep serving while Redis is down; reconnect in the background
        c.ConnectTimeout = ConnectTimeoutMs;
        c.SyncTimeout = commandTimeoutMs ?? CommandTimeoutMs;
        c.AsyncTimeout = commandTimeoutMs ?? CommandTimeoutMs;
        c.ConnectRetry = 1;
        c.ReconnectRetryPolicy = new LinearRetry(250);
        c.BacklogPolicy = BacklogPolicy.FailFast; // fail at once while disconnected rather than queueing until a timeout
        if (!string.IsNullOrEmpty(Password)) c.Password = Password;
        return c;
    }
}
