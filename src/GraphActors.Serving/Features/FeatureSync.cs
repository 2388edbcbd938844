// Bulk-loads one node type's feature rows from CGDF into Redis under a fresh version, then switches readers to it.
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using GraphActors.Graph.Cgdf;
using StackExchange.Redis;

namespace GraphActors.Serving;

public sealed record FeatureSyncOptions
{
    /// <summary>Rows per MSET.</summary>
    public int BatchSize { get; init; } = 1000;
    /// <summary>MSETs in flight at once (pipelining).</summary>
    public int MaxInFlightBatches { get; init; } = 8;
    /// <summary>The version to write; default: a hash of the CGDF metadata and the type's part files, so the same input maps to the same keys.</summary>
    public string? Version { get; init; }
    /// <summary>Delete the previous version's keys after the switch.</summary>
    public bool DeleteOldVersion { get; init; } = true;
}

public sealed record FeatureSyncProgress(string NodeType, long Written, long Total, int Batches);

public sealed record FeatureSyncSummary(string NodeType, string Version, string? PreviousVersion, long Rows, int Dim, long DeletedKeys, double Seconds);

/// <summary>
/// Writes <c>feat</c> keys of a new version in pipelined MSET batches, then the version's meta key, then flips
/// <c>current</c> to it (one SET, so readers see either the old complete version or the new complete one, never a
/// half-written one), then deletes the old version's keys. Re-running with the same input rewrites the same keys and
/// leaves <c>current</c> where it was: the sync is idempotent. An interrupted sync leaves <c>current</c> untouched.
/// </summary>
public static class FeatureSync
{
    public static async Task<FeatureSyncSummary> RunAsync(RedisOptions redis, string cgdfDirectory, string nodeType,
        FeatureSyncOptions? options = null, Action<FeatureSyncProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        options ??= new FeatureSyncOptions();
        var reader = CgdfReader.Open(cgdfDirectory);
        var meta = reader.Metadata.Node(nodeType);
        // Bulk loading tolerates slower commands than serving does.
        await using var mux = await ConnectionMultiplexer.ConnectAsync(redis.ToConfiguration(commandTimeoutMs: 10_000)).ConfigureAwait(false);
        if (!mux.IsConnected)
            throw new InvalidOperationException($"Cannot reach Redis at {redis.Endpoint} within {redis.ConnectTimeoutMs} ms.");
        var db = mux.GetDatabase();
        var keys = redis.Keys;
        var version = options.Version ?? ContentVersion(cgdfDirectory, nodeType);
        var sw = Stopwatch.StartNew();
        var previous = (string?)await db.StringGetAsync(keys.Current(nodeType)).ConfigureAwait(false);
        await db.StringSetAsync(keys.Pending(nodeType), version).ConfigureAwait(false);

        var inFlight = new Queue<Task>();
        long written = 0;
        var batches = 0;
        var dim = meta.FeatureDim;
        foreach (var chunk in reader.ReadNodes(nodeType))
        {
            for (var start = 0; start < chunk.Count; start += options.BatchSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var n = Math.Min(options.BatchSize, chunk.Count - start);
                var pairs = new KeyValuePair<RedisKey, RedisValue>[n];
                for (var i = 0; i < n; i++)
                {
                    var row = start + i;
                    var bytes = MemoryMarshal.AsBytes(chunk.FeaturesOf(row)).ToArray();
                    pairs[i] = new(keys.Feature(version, nodeType, chunk.NodeIds[row]), bytes);
                }
                inFlight.Enqueue(db.StringSetAsync(pairs));
                if (inFlight.Count >= options.MaxInFlightBatches)
                {
                    await inFlight.Dequeue().ConfigureAwait(false);
                }
                written += n;
                batches++;
                progress?.Invoke(new FeatureSyncProgress(nodeType, written, meta.Count, batches));
            }
        }
        while (inFlight.Count > 0) await inFlight.Dequeue().ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();

        var metaJson = JsonSerializer.Serialize(new { dim, count = written, completed_at = DateTimeOffset.UtcNow });
        await db.StringSetAsync(keys.Meta(version, nodeType), metaJson).ConfigureAwait(false);
        await db.StringSetAsync(keys.Current(nodeType), version).ConfigureAwait(false);
        await db.KeyDeleteAsync(keys.Pending(nodeType)).ConfigureAwait(false);

        long deleted = 0;
        if (options.DeleteOldVersion && previous is not null && previous != version)
            deleted = await DeleteVersionAsync(mux, keys, previous, nodeType).ConfigureAwait(false);
        return new FeatureSyncSummary(nodeType, version, previous, written, dim, deleted, sw.Elapsed.TotalSeconds);
    }

    /// <summary>Deletes every key of one version of one type (SCAN, then DEL in batches).</summary>
    public static async Task<long> DeleteVersionAsync(IConnectionMultiplexer mux, RedisKeys keys, string version, string nodeType)
    {
        long deleted = 0;
        var db = mux.GetDatabase();
        foreach (var server in mux.GetServers())
        {
            if (server.IsReplica) continue;
            var batch = new List<RedisKey>(1000);
            await foreach (var key in server.KeysAsync(pattern: keys.VersionPattern(version, nodeType), pageSize: 1000).ConfigureAwait(false))
            {
                batch.Add(key);
                if (batch.Count == 1000) { deleted += await db.KeyDeleteAsync(batch.ToArray()).ConfigureAwait(false); batch.Clear(); }
            }
            if (batch.Count > 0) deleted += await db.KeyDeleteAsync(batch.ToArray()).ConfigureAwait(false);
        }
        return deleted;
    }

    /// <summary>A stable version for the input: the metadata and the names and sizes of the type's part files, hashed.</summary>
    public static string ContentVersion(string cgdfDirectory, string nodeType)
    {
        var sb = new StringBuilder();
        sb.Append(File.ReadAllText(Path.Combine(cgdfDirectory, "metadata.json"))).Append('\n').Append(nodeType).Append('\n');
        foreach (var part in Directory.GetFiles(CgdfLayout.NodeDirectory(cgdfDirectory, nodeType), "*.parquet").Order(StringComparer.Ordinal))
            sb.Append(Path.GetFileName(part)).Append(' ').Append(new FileInfo(part).Length).Append('\n');
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString()));
        return "v" + Convert.ToHexStringLower(hash.AsSpan(0, 6));
    }
}
