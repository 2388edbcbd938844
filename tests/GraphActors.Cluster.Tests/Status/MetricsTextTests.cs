// Reading back the metrics port's text: the serving numbers the status page shows are the ones /metrics reports.
using GraphActors.Cluster.Status;
using GraphActors.Serving;

namespace GraphActors.Cluster.Tests.Status;

public sealed class MetricsTextTests
{
    [Fact]
    public void What_ServingMetrics_renders_parses_back_to_its_counters()
    {
        var m = new ServingMetrics();
        m.RecordRequest("sage", "1.0", 200);
        m.RecordRequest("sage", "1.0", 200);
        m.RecordRequest("gat \"x\"", "2", 503);
        m.RecordLatency("sage", "1.0", 1500, 250.5);
        m.RecordError(413, "RequestTooLarge");
        m.RecordCache("user", 7, 3);
        m.RecordStoreGather(42);
        m.AddGauge("graphactors_models_loaded", "Models loaded.", () => 2);

        var samples = MetricsText.Parse(m.Render());

        var ok = Assert.Single(samples, s => s.Name == "ts_inference_requests_total" && s.Label("code") == "200");
        Assert.Equal(("sage", "1.0", 2.0), (ok.Label("model_name"), ok.Label("model_version"), ok.Value));
        var quoted = Assert.Single(samples, s => s.Name == "ts_inference_requests_total" && s.Label("code") == "503");
        Assert.Equal("gat \"x\"", quoted.Label("model_name"));
        Assert.Equal(1500, Assert.Single(samples, s => s.Name == "ts_inference_latency_microseconds").Value);
        Assert.Equal(250.5, Assert.Single(samples, s => s.Name == "ts_queue_latency_microseconds").Value);
        Assert.Equal("RequestTooLarge", Assert.Single(samples, s => s.Name == "graphactors_errors_total").Label("type"));
        Assert.Equal(7, Assert.Single(samples, s => s.Name == "graphactors_feature_cache_hits_total").Value);
        Assert.Equal(3, Assert.Single(samples, s => s.Name == "graphactors_feature_cache_misses_total").Value);
        Assert.Equal(42, Assert.Single(samples, s => s.Name == "graphactors_store_feature_rows_total").Value);
        Assert.Equal(2, Assert.Single(samples, s => s.Name == "graphactors_models_loaded").Value);
        Assert.Equal("", ok.Label("no_such_label"));
    }

    [Fact]
    public void Escapes_special_values_and_timestamps_are_read()
    {
        var samples = MetricsText.Parse("# HELP x y\na{l=\"back\\\\slash\\nnew\"} NaN\nb +Inf 1700000000000\nc -2.5e3\n");
        Assert.Equal("back\\slash\nnew", samples[0].Label("l"));
        Assert.True(double.IsNaN(samples[0].Value));
        Assert.Equal(double.PositiveInfinity, samples[1].Value);
        Assert.Equal(-2500, samples[2].Value);
    }

    [Theory]
    [InlineData("a{l=\"x", "unterminated")]
    [InlineData("a{l=x} 1", "key=\"value\"")]
    [InlineData("a twelve", "'twelve' is not a number")]
    public void A_malformed_line_is_refused_with_its_number_and_text(string line, string why)
    {
        var e = Assert.Throws<FormatException>(() => MetricsText.Parse("# TYPE a counter\n" + line + "\n"));
        Assert.Contains("line 2", e.Message);
        Assert.Contains(line, e.Message);
        Assert.Contains(why, e.Message);
    }
}
