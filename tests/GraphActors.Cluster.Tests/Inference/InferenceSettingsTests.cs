// graphactors.inference as HOCON: the limits, timeouts and the Redis block reach the engine, the host and the cache.
using Akka.Configuration;
using GraphActors.Cluster.Inference;

namespace GraphActors.Cluster.Tests.Inference;

public sealed class InferenceSettingsTests
{
    private static InferenceSettings Parse(string hocon) =>
        InferenceSettings.Create(ConfigurationFactory.ParseString("graphactors.inference.store-path = \"/data/store\"\n" + hocon));

    [Fact]
    public void Defaults_have_no_feature_cache_and_the_documented_limits()
    {
        var s = Parse("");
        Assert.Null(s.Redis);
        Assert.Equal(TimeSpan.FromSeconds(30), s.AskTimeout);
        Assert.Equal(TimeSpan.FromMinutes(2), s.ModelLoadTimeout);
        Assert.Equal(64, s.Engine.MaxInFlight);
        Assert.Equal(1024, s.Engine.MaxIdsPerRequest);
        Assert.Equal(4L * 1024 * 1024, s.Serving.MaxRequestBodyBytes);
    }

    [Fact]
    public void The_management_token_is_off_a_string_or_a_file_in_the_data_dir_beside_the_model_store()
    {
        InferenceSettings InDataDir(string hocon) => Parse("graphactors.node.data-dir = \"/var/lib/ga\"\n" + hocon);
        var defaults = InDataDir("");
        Assert.Equal((null, false), (defaults.Serving.ManagementToken, defaults.Serving.ManagementTokenDisabled));
        Assert.Equal("/var/lib/ga/management-token", defaults.ManagementTokenFile);
        Assert.Equal("/var/lib/ga/models", defaults.ModelStore);
        Assert.True(InDataDir("graphactors.inference.management-token = off").Serving.ManagementTokenDisabled);
        Assert.True(InDataDir("graphactors.inference.management-token = \"Disabled\"").Serving.ManagementTokenDisabled);
        var given = InDataDir("graphactors.inference.management-token = \"s3cret\"").Serving;
        Assert.Equal(("s3cret", false), (given.ManagementToken, given.ManagementTokenDisabled));
        var custom = InDataDir("graphactors.inference { model-store = \"/srv/models\", management-token-file = \"/run/ga/token\" }");
        Assert.Equal(("/srv/models", "/run/ga/token"), (custom.ModelStore, custom.ManagementTokenFile));
    }

    [Theory]
    [InlineData("../x", "graphactors.inference.models[0]: name '../x'")]
    [InlineData("a/b", "graphactors.inference.models[0]: name 'a/b'")]
    public void A_configured_model_name_outside_TorchServes_rule_is_refused_naming_the_entry(string name, string expected)
    {
        var e = Assert.Throws<ConfigurationException>(() => Parse($"graphactors.inference.models = [{{ name = \"{name}\", url = \"sage\" }}]"));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void The_redis_block_limits_and_timeouts_are_read()
    {
        var s = Parse("""
            graphactors.inference {
              ask-timeout = 750ms
              model-load-timeout = 45s
              max-in-flight = 8
              max-ids-per-request = 16
              max-request-body-bytes = 64k
              redis { endpoint = "10.0.0.5:6380", password = "s3cret", graph = "shop", command-timeout = 100ms }
            }
            """);
        Assert.Equal(TimeSpan.FromMilliseconds(750), s.AskTimeout);
        Assert.Equal(TimeSpan.FromSeconds(45), s.ModelLoadTimeout);
        Assert.Equal((8, 16), (s.Engine.MaxInFlight, s.Engine.MaxIdsPerRequest));
        Assert.Equal(64 * 1024, s.Serving.MaxRequestBodyBytes);
        var redis = Assert.IsType<GraphActors.Serving.RedisOptions>(s.Redis);
        Assert.Equal(("10.0.0.5:6380", "s3cret", "shop", "ga", 100), (redis.Endpoint, redis.Password, redis.Graph, redis.Prefix, redis.CommandTimeoutMs));
    }

    [Fact]
    public void A_redis_endpoint_without_a_graph_name_is_refused_naming_the_key()
    {
        var e = Assert.Throws<ConfigurationException>(() => Parse("graphactors.inference.redis.endpoint = \"127.0.0.1:6379\""));
        Assert.Contains("graphactors.inference.redis.graph", e.Message);
    }

    [Theory]
    [InlineData("max-in-flight = 0", "graphactors.inference.max-in-flight")]
    [InlineData("max-ids-per-request = -1", "graphactors.inference.max-ids-per-request")]
    [InlineData("ask-timeout = 0s", "graphactors.inference.ask-timeout")]
    public void A_limit_that_is_not_positive_is_refused_naming_the_key(string line, string key)
    {
        var e = Assert.Throws<ConfigurationException>(() => Parse("graphactors.inference." + line));
        Assert.Contains(key, e.Message);
    }
}
