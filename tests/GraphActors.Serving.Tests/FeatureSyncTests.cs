using GraphActors.Contracts;
using StackExchange.Redis;

namespace GraphActors.Serving.Tests;

public sealed class FeatureSyncFixture : IDisposable
{
    public TestWorld World { get; } = new();
    public RedisServer? Redis { get; } = RedisServer.Executable is null ? null : new RedisServer(password: "s3cret");
    public void Dispose() { Redis?.Dispose(); World.Dispose(); }
}

public sealed class FeatureSyncTests(FeatureSyncFixture fx) : IClassFixture<FeatureSyncFixture>
{
    private RedisOptions Options(string graph) => new() { Endpoint = fx.Redis!.Endpoint, Password = fx.Redis.Password, Graph = graph };

    private async Task<(float[] Rows, bool[] Found, int Hits)> ReadUsers(RedisOptions o, long[] ids)
    {
        await using var source = await RedisFeatureSource.ConnectAsync(o);
        var rows = new float[ids.Length * 4];
        var found = new bool[ids.Length];
        var hits = await source.GetAsync(new NodeType("user"), 4, ids, rows, found);
        return (rows, found, hits);
    }

    [RedisFact]
    public async Task A_completed_sync_serves_every_row_back_bit_for_bit()
    {
        var o = Options("roundtrip");
        var progress = new List<FeatureSyncProgress>();
        var summary = await FeatureSync.RunAsync(o, fx.World.CgdfDir, "user", new FeatureSyncOptions { BatchSize = 7 }, progress.Add);
        Assert.Equal(TestWorld.Users, summary.Rows);
        Assert.Equal(TestWorld.Users, progress[^1].Written);
        Assert.True(progress.Count >= TestWorld.Users / 7);

        var ids = Enumerable.Range(0, TestWorld.Users).Select(i => 1000L + i).ToArray();
        var (rows, found, hits) = await ReadUsers(o, ids);
        Assert.Equal(TestWorld.Users, hits);
        Assert.All(found, Assert.True);
        Assert.Equal(fx.World.UserFeatures, rows);
    }

    [RedisFact]
    public async Task Running_the_same_sync_twice_changes_nothing()
    {
        var o = Options("idem");
        var first = await FeatureSync.RunAsync(o, fx.World.CgdfDir, "user");
        await using var mux = await ConnectionMultiplexer.ConnectAsync(o.ToConfiguration());
        var server = mux.GetServers()[0];
        var keysAfterFirst = server.Keys(pattern: "ga:idem:*").Select(k => k.ToString()).Order().ToList();
        var second = await FeatureSync.RunAsync(o, fx.World.CgdfDir, "user");
        var keysAfterSecond = server.Keys(pattern: "ga:idem:*").Select(k => k.ToString()).Order().ToList();
        Assert.Equal(first.Version, second.Version);
        Assert.Equal(first.Version, second.PreviousVersion);
        Assert.Equal(0, second.DeletedKeys); // the version it replaced is itself
        Assert.Equal(keysAfterFirst, keysAfterSecond);
        Assert.Equal(TestWorld.Users + 2, keysAfterSecond.Count); // rows + meta + current
        var (rows, _, hits) = await ReadUsers(o, [1000, 1059]);
        Assert.Equal(2, hits);
        Assert.Equal(fx.World.UserFeatures.AsSpan(0, 4).ToArray(), rows.AsSpan(0, 4).ToArray());
    }

    [RedisFact]
    public async Task An_interrupted_sync_is_never_read_as_complete()
    {
        var o = Options("interrupted");
        using var cts = new CancellationTokenSource();
        var batches = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => FeatureSync.RunAsync(o, fx.World.CgdfDir, "user",
            new FeatureSyncOptions { BatchSize = 5, MaxInFlightBatches = 1, Version = "v-new" }, _ => { if (++batches == 3) cts.Cancel(); }, cts.Token));
        await using var mux = await ConnectionMultiplexer.ConnectAsync(o.ToConfiguration());
        var db = mux.GetDatabase();
        Assert.True(await db.KeyExistsAsync("ga:interrupted:v-new:feat:user:1000")); // rows were written…
        Assert.False(await db.KeyExistsAsync("ga:interrupted:feat:user:current")); // …but never switched to
        var (_, found, hits) = await ReadUsers(o, [1000, 1001]);
        Assert.Equal(0, hits);
        Assert.All(found, Assert.False);

        // A complete load, then an interrupted newer one: readers stay on the complete one.
        var done = await FeatureSync.RunAsync(o, fx.World.CgdfDir, "user", new FeatureSyncOptions { Version = "v-old" });
        using var cts2 = new CancellationTokenSource();
        var b2 = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => FeatureSync.RunAsync(o, fx.World.CgdfDir, "user",
            new FeatureSyncOptions { BatchSize = 5, MaxInFlightBatches = 1, Version = "v-half" }, _ => { if (++b2 == 2) cts2.Cancel(); }, cts2.Token));
        Assert.Equal("v-old", (string?)await db.StringGetAsync("ga:interrupted:feat:user:current"));
        var (rows, _, hits2) = await ReadUsers(o, [1000]);
        Assert.Equal(1, hits2);
        Assert.Equal(fx.World.UserFeatures.AsSpan(0, 4).ToArray(), rows);

        // Finishing a newer version switches readers and deletes the old version's keys.
        var next = await FeatureSync.RunAsync(o, fx.World.CgdfDir, "user", new FeatureSyncOptions { Version = "v-next" });
        Assert.Equal("v-old", next.PreviousVersion);
        Assert.Equal(TestWorld.Users + 1, next.DeletedKeys);
        Assert.False(await db.KeyExistsAsync("ga:interrupted:v-old:feat:user:1000"));
        Assert.Equal(done.Rows, next.Rows);
    }

    [RedisFact]
    public async Task A_wrong_password_reads_as_misses_and_an_unhealthy_source()
    {
        var o = Options("auth") with { Password = "wrong" };
        await using var source = await RedisFeatureSource.ConnectAsync(o);
        var found = new bool[1];
        var hits = await source.GetAsync(new NodeType("user"), 4, new long[] { 1000 }, new float[4], found);
        Assert.Equal(0, hits);
        Assert.False(source.IsHealthy);
    }
}
