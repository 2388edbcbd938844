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
/// with the first successful call. A row whose byte length does not match the dimension counts as a miss. Each change
/// between up and down is raised once as <see cref="StateChanged"/> (the inference role logs it): down with the
/// reason, up with how long it was down and how many rows were read from the graph store meanwhile.
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
    // 0 up, 1 down; the time and miss count when it went down, for the message when it comes back.
    private int _down;
    private long _downSince, _missesAtDown;

    private RedisFeatureSource(RedisOptions options, ConnectionMultiplexer mux)
    {
        _options = options;
        _mux = mux;
        _keys = options.Keys;
        _mux.ConnectionFailed += (_, e) =>
        {
            _lastError = $"connection failed: {e.FailureType}";
            GoDown(_lastError);
        };
        _mux.ConnectionRestored += (_, _) => GoUp("reconnected");
    }

    /// <summary>
    /// Connects without failing when Redis is down (the source starts unhealthy and recovers). <paramref name="stateChanged"/>
    /// is subscribed before anything can change, so a source that starts down says so.
    /// </summary>
    public static async Task<RedisFeatureSource> ConnectAsync(RedisOptions options, Action<FeatureCacheState>? stateChanged = null)
    {
        var mux = await ConnectionMultiplexer.ConnectAsync(options.ToConfiguration()).ConfigureAwait(false);
        var source = new RedisFeatureSource(options, mux);
        if (stateChanged is not null) source.StateChanged += stateChanged;
        if (!mux.IsConnected)
        {
            source._lastError = $"not connected to {options.Endpoint}";
            source.GoDown(source._lastError);
        }
        return source;
    }

    /// <summary>Raised once per change between up and down (from a Redis or a request thread: keep handlers short).</summary>
    public event Action<FeatureCacheState>? StateChanged;

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
        if (Volatile.Read(ref _down) != 0) GoUp("answered again");
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
        GoDown(e.Message);
    }

    private void GoDown(string reason)
    {
        if (Interlocked.CompareExchange(ref _down, 1, 0) != 0) return;
        Interlocked.Exchange(ref _downSince, Stopwatch.GetTimestamp());
        Interlocked.Exchange(ref _missesAtDown, Interlocked.Read(ref _misses));
        StateChanged?.Invoke(new FeatureCacheState(false, Endpoint, reason, TimeSpan.Zero, 0));
    }

    private void GoUp(string how)
    {
        if (Interlocked.CompareExchange(ref _down, 0, 1) != 1) return;
        var downFor = Stopwatch.GetElapsedTime(Interlocked.Read(ref _downSince));
        StateChanged?.Invoke(new FeatureCacheState(true, Endpoint, how, downFor, Interlocked.Read(ref _misses) - Interlocked.Read(ref _missesAtDown)));
    }

    public async ValueTask DisposeAsync() => await _mux.DisposeAsync().ConfigureAwait(false);
}

/// <summary>
/// The feature cache went down (<see cref="Up"/> false; <see cref="Reason"/> says why) or came back (true: how, after
/// <see cref="DownFor"/>, with <see cref="MissedRows"/> rows read from the graph store instead meanwhile).
/// </summary>
public sealed record FeatureCacheState(bool Up, string Endpoint, string Reason, TimeSpan DownFor, long MissedRows)
{
    public override string ToString() => Up
        ? $"Feature cache (Redis at {Endpoint}) is back ({Reason}) after {DownFor.TotalSeconds:F1} s down; {MissedRows:N0} feature rows were read from the graph store meanwhile"
        : $"Feature cache (Redis at {Endpoint}) is down: {Reason}. Features come from the graph store until it answers again (retried every few hundred ms)";
}
