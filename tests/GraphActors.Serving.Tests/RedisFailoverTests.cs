namespace GraphActors.Serving.Tests;

public sealed class RedisWorldFixture : IDisposable
{
    public TestWorld World { get; } = new();
    public RedisServer? Redis { get; } = RedisServer.Executable is null ? null : new RedisServer();
    public void Dispose() { Redis?.Dispose(); World.Dispose(); }
}

/// <summary>Features from Redis first: the answers do not change when Redis dies, and hits return when it is back.</summary>
public sealed class RedisFailoverTests(RedisWorldFixture fx) : IClassFixture<RedisWorldFixture>
{
    private async Task Sync()
    {
        var o = new RedisOptions { Endpoint = fx.Redis!.Endpoint, Graph = "test" };
        await FeatureSync.RunAsync(o, fx.World.CgdfDir, "user");
        await FeatureSync.RunAsync(o, fx.World.CgdfDir, "item");
    }

    private async Task AssertCorrect(Served s, float[][] offline, params long[] ids)
    {
        var (status, body) = await s.PostAsync("/predictions/sage", $$"""{"node_type":"user","ids":[{{string.Join(",", ids)}}],"full_neighborhood":true}""");
        Assert.Equal(200, status);
        for (var i = 0; i < ids.Length; i++)
        {
            var probs = Served.Floats(body.GetProperty("predictions")[i].GetProperty("probabilities"));
            for (var c = 0; c < 3; c++) Assert.Equal(offline[ids[i] - 1000][c], probs[c], 1e-5f);
        }
    }

    private static async Task<string> Metrics(Served s) => await s.Metrics.GetStringAsync("/metrics");

    [RedisFact]
    public async Task Answers_stay_correct_with_Redis_up_killed_mid_run_and_back()
    {
        await Sync();
        await using var s = await Served.StartAsync(fx.World, fx.Redis, models: ["sage=test://sage"]);
        var offline = fx.World.OfflineUserProbabilities();

        var changes = new System.Collections.Concurrent.ConcurrentQueue<FeatureCacheState>();
        s.Redis!.StateChanged += changes.Enqueue;
        await AssertCorrect(s, offline, 1000, 1011, 1033);
        Assert.True(s.Engine.Metrics.CacheHits > 0);
        Assert.Empty(changes);
        Assert.Equal(0, s.Engine.Metrics.CacheMisses); // every row was synced
        Assert.Contains("graphactors_redis_up 1\n", await Metrics(s));

        fx.Redis!.Kill();
        var hitsBefore = s.Engine.Metrics.CacheHits;
        await AssertCorrect(s, offline, 1000, 1011, 1033);
        await AssertCorrect(s, offline, 1020, 1021);
        Assert.Equal(hitsBefore, s.Engine.Metrics.CacheHits);
        Assert.True(s.Engine.Metrics.CacheMisses > 0);
        var down = await Metrics(s);
        Assert.Contains("graphactors_redis_up 0\n", down);
        Assert.Matches(@"graphactors_feature_cache_misses_total\{node_type=""user""\} [1-9]", down);
        using (var ping = await s.Inference.GetAsync("/ping"))
        {
            var json = await Served.Parse(ping);
            Assert.Equal("Healthy", json.GetProperty("status").GetString()); // degraded, not down: the store answers
            Assert.Equal("down", json.GetProperty("feature_cache").GetString());
        }
        // Going down is said once, with the reason, however many requests miss meanwhile.
        var wentDown = Assert.Single(changes);
        Assert.False(wentDown.Up);
        Assert.Contains(fx.Redis.Endpoint, wentDown.ToString());
        Assert.False(string.IsNullOrWhiteSpace(wentDown.Reason));

        fx.Redis.Start(); // empty: --save '' keeps nothing
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!s.Redis!.IsHealthy && DateTime.UtcNow < deadline)
        {
            await AssertCorrect(s, offline, 1001);
            await Task.Delay(100);
        }
        Assert.True(s.Redis.IsHealthy, $"the feature source did not recover: {s.Redis.LastError}");
        // … and coming back, with how long it was down and how many rows the store served instead.
        deadline = DateTime.UtcNow.AddSeconds(5);
        while (changes.Count < 2 && DateTime.UtcNow < deadline) await Task.Delay(50);
        var seen = changes.ToArray();
        Assert.True(seen.Length >= 2, $"no state change after the restart: [{string.Join("; ", seen.Select(c => c.ToString()))}]");
        for (var i = 0; i < seen.Length; i++) Assert.Equal(i % 2 == 1, seen[i].Up); // down, up (, down, up …): never twice the same
        var back = seen[1];
        Assert.True(back.DownFor > TimeSpan.Zero);
        Assert.True(back.MissedRows >= 6, $"the store served {back.MissedRows} rows while Redis was down; at least 6 were asked");
        Assert.Contains("is back", back.ToString());
        await Sync();
        await Task.Delay(1100); // the reader's cached version (none, after the restart) expires
        var hitsAfterRestart = s.Engine.Metrics.CacheHits;
        await AssertCorrect(s, offline, 1000, 1011, 1033);
        Assert.True(s.Engine.Metrics.CacheHits > hitsAfterRestart, "no cache hits after Redis came back");
        Assert.Contains("graphactors_redis_up 1\n", await Metrics(s));
    }
}
