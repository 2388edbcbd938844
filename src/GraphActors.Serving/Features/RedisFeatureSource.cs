// Reads feature rows from the Redis cache with one MGET per call; Redis being down reads as misses.
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using GraphActors.Contracts;
using StackExchange.Redis;

namespace GraphActors.Serving;

/// <summary>
/// The Redis side of the feature cache. Each call reads the type's <c>current</c> version (cached for
/// <see cref="RedisOptions.VersionCacheMs"/>) and then every row with one MGET. Any Redis failure (down, timeout,
/// wrong password) turns into misses, marks the source unhealthy and makes calls skip Redis for
/// <see cref="RedisOptions.RetryAfterMs"/>; the multiplexer reconnects in the background and the flag recovers
/// with the first successful call. A row whose byte length does not match the dimension counts as a miss.
/// </summary>
public sealed class RedisFeatureSource : IFeatureSource, IAsyncDisposable
{
    private readonly RedisOptions _options;
    private readonly ConnectionMultiplexer _mux;
    private readonly RedisKeys _keys;
    private readonly ConcurrentDictionary<string, (string? Version, long Expires)> _versions = new();
    private long _retryAfter;
    private volatile string? _lastError;
    private long _hits, _misses, _failures;

    private RedisFeatureSource(RedisOptions options, ConnectionMultiplexer mux)
    {
        _options = options;
        _mux = mux;
        _keys = options.Keys;
        _mux.ConnectionFailed += (_, e) => _lastError = $"connection failed: {e.FailureType}";
    }

    /// <summary>Connects without failing when Redis is down (the source starts unhealthy and recovers).</summary>
    public static async Task<RedisFeatureSource> ConnectAsync(RedisOptions options)
    {
        var mux = await ConnectionMultiplexer.ConnectAsync(options.ToConfiguration()).ConfigureAwait(false);
        var source = new RedisFeatureSource(options, mux);
        if (!mux.IsConnected) source._lastError = $"not connected to {options.Endpoint}";
        return source;
    }

    public string Name => "redis";
    public string Endpoint => _options.Endpoint;
    public bool IsHealthy => _mux.IsConnected && Stopwatch.GetTimestamp() >= Interlocked.Read(ref _retryAfter);
    public string? LastError => IsHealthy ? null : _lastError ?? $"not connected to {_options.Endpoint}";
    public long Hits => Interlocked.Read(ref _hits);
    public long Misses => Interlocked.Read(ref _misses);
    public long Failures => Interlocked.Read(ref _failures);

    public async ValueTask<int> GetAsync(NodeType type, int dim, ReadOnlyMemory<long> businessIds, Memory<float> destination, Memory<bool> found,
        CancellationToken cancellationToken = default)
    {
        var n = businessIds.Length;
        found.Span[..n].Clear();
        if (n == 0) return 0;
        if (!IsHealthy) { Interlocked.Add(ref _misses, n); return 0; }
        RedisValue[] values;
        try
        {
            var version = await CurrentVersionAsync(type.Name).ConfigureAwait(false);
            if (version is null) { Interlocked.Add(ref _misses, n); return 0; } // no complete load of this type
            var keys = new RedisKey[n];
            var ids = businessIds.Span;
            for (var i = 0; i < n; i++) keys[i] = _keys.Feature(version, type.Name, ids[i]);
            values = await _mux.GetDatabase().StringGetAsync(keys).WaitAsync(TimeSpan.FromMilliseconds(_options.CommandTimeoutMs * 2), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RedisException or TimeoutException or ObjectDisposedException)
        {
            MarkDown(e);
            Interlocked.Add(ref _misses, n);
            return 0;
        }
        var hits = 0;
        var dst = destination.Span;
        var flags = found.Span;
        var rowBytes = dim * sizeof(float);
        for (var i = 0; i < n; i++)
        {
            if (values[i].IsNull) continue;
            ReadOnlyMemory<byte> bytes = values[i];
            if (bytes.Length != rowBytes) continue;
            MemoryMarshal.Cast<byte, float>(bytes.Span).CopyTo(dst.Slice(i * dim, dim));
            flags[i] = true;
            hits++;
        }
        Interlocked.Add(ref _hits, hits);
        Interlocked.Add(ref _misses, n - hits);
        return hits;
    }

    private async ValueTask<string?> CurrentVersionAsync(string type)
    {
        var now = Stopwatch.GetTimestamp();
        if (_versions.TryGetValue(type, out var cached) && now < cached.Expires) return cached.Version;
        var version = (string?)await _mux.GetDatabase().StringGetAsync(_keys.Current(type)).ConfigureAwait(false);
        _versions[type] = (version, now + Stopwatch.Frequency * _options.VersionCacheMs / 1000);
        return version;
    }

    private void MarkDown(Exception e)
    {
        Interlocked.Increment(ref _failures);
        _lastError = e.Message;
        Interlocked.Exchange(ref _retryAfter, Stopwatch.GetTimestamp() + Stopwatch.Frequency * _options.RetryAfterMs / 1000);
        _versions.Clear(); // a restarted Redis may hold another version, or none
    }

    public async ValueTask DisposeAsync() => await _mux.DisposeAsync().ConfigureAwait(false);
}
