// Counters for the metrics API in the Prometheus text exposition format: TorchServe's counters written by hand, the
// latency distributions as prometheus-net histograms.
using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace GraphActors.Serving;

/// <summary>
/// TorchServe's metric names where TorchServe has one (ts_inference_requests_total, ts_inference_latency_microseconds,
/// ts_queue_latency_microseconds: counters, summed per model and version), ours (graphactors_…) for the rest. Gauges
/// are read when rendered. The distributions TorchServe's counters cannot give (percentiles) are histograms in
/// seconds: graphactors_inference_request_duration_seconds (a successful prediction, queue included), …_queue_… (the
/// wait for a torch worker) and …_model_… (the rest: lookup, sampling, features, forward pass).
/// </summary>
public sealed class ServingMetrics
{
    /// <summary>0.1 ms … ~6 s.</summary>
    private static readonly double[] Buckets = Prometheus.Histogram.ExponentialBuckets(0.0001, 2, 17);
    private readonly Prometheus.CollectorRegistry _registry = Prometheus.Metrics.NewCustomRegistry();
    private readonly Prometheus.Histogram _requestSeconds, _queueSeconds, _modelSeconds;

    public ServingMetrics()
    {
        var f = Prometheus.Metrics.WithCustomRegistry(_registry);
        Prometheus.Histogram Make(string name, string help) => f.CreateHistogram(name, help,
            new Prometheus.HistogramConfiguration { LabelNames = ["model_name", "model_version"], Buckets = Buckets });
        _requestSeconds = Make("graphactors_inference_request_duration_seconds", "Time to answer a successful prediction, queue included.");
        _queueSeconds = Make("graphactors_inference_queue_duration_seconds", "Time a successful prediction waited for a torch worker (and its model's lane).");
        _modelSeconds = Make("graphactors_inference_model_duration_seconds", "Time of a successful prediction outside the queue: id lookup, sampling, features, forward pass.");
    }

    private readonly ConcurrentDictionary<(string Model, string Version, int Code), long> _requests = new();
    private readonly ConcurrentDictionary<(string Model, string Version), double> _latency = new();
    private readonly ConcurrentDictionary<(string Model, string Version), double> _queue = new();
    private readonly ConcurrentDictionary<(int Code, string Type), long> _errors = new();
    private readonly ConcurrentDictionary<string, long> _cacheHits = new();
    private readonly ConcurrentDictionary<string, long> _cacheMisses = new();
    private readonly List<(string Name, string Help, Func<double> Read)> _gauges = [];
    private long _storeGathered;

    public void RecordRequest(string model, string version, int code) => _requests.AddOrUpdate((model, version, code), 1, (_, v) => v + 1);

    public void RecordLatency(string model, string version, double inferenceMicros, double queueMicros)
    {
        _latency.AddOrUpdate((model, version), inferenceMicros, (_, v) => v + inferenceMicros);
        _queue.AddOrUpdate((model, version), queueMicros, (_, v) => v + queueMicros);
        _requestSeconds.WithLabels(model, version).Observe(inferenceMicros / 1e6);
        _queueSeconds.WithLabels(model, version).Observe(queueMicros / 1e6);
        _modelSeconds.WithLabels(model, version).Observe(Math.Max(0, inferenceMicros - queueMicros) / 1e6);
    }

    public void RecordError(int code, string type) => _errors.AddOrUpdate((code, type), 1, (_, v) => v + 1);

    /// <summary>
    /// A prediction refused at admission (503): an error, and a request of the model when it is registered
    /// (<paramref name="version"/> non-null), so ts_inference_requests_total{code="503"} shows shed load per model.
    /// A name that is not registered stays out of the per-model counter: requests cannot grow its label set.
    /// </summary>
    public void RecordRejected(string? model, string? version)
    {
        RecordError(503, "ServiceUnavailableException");
        if (model is not null && version is not null) RecordRequest(model, version, 503);
    }

    public void RecordCache(string nodeType, int hits, int misses)
    {
        if (hits > 0) _cacheHits.AddOrUpdate(nodeType, hits, (_, v) => v + hits);
        if (misses > 0) _cacheMisses.AddOrUpdate(nodeType, misses, (_, v) => v + misses);
    }

    public void RecordStoreGather(int rows) => Interlocked.Add(ref _storeGathered, rows);

    public void AddGauge(string name, string help, Func<double> read)
    {
        lock (_gauges) _gauges.Add((name, help, read));
    }

    public long CacheHits => _cacheHits.Values.Sum();
    public long CacheMisses => _cacheMisses.Values.Sum();
    public long Requests(int code) => _requests.Where(kv => kv.Key.Code == code).Sum(kv => kv.Value);

    /// <summary>The text exposition format, version 0.0.4.</summary>
    public string Render()
    {
        var b = new StringBuilder();
        Header(b, "ts_inference_requests_total", "counter", "Prediction requests, by model, version and HTTP status.");
        foreach (var ((m, v, c), n) in _requests.OrderBy(k => k.Key))
            Line(b, "ts_inference_requests_total", n, ("model_name", m), ("model_version", v), ("code", c.ToString(CultureInfo.InvariantCulture)));
        Header(b, "ts_inference_latency_microseconds", "counter", "Cumulative time spent answering successful predictions, queue included.");
        foreach (var ((m, v), us) in _latency.OrderBy(k => k.Key))
            Line(b, "ts_inference_latency_microseconds", us, ("model_name", m), ("model_version", v));
        Header(b, "ts_queue_latency_microseconds", "counter", "Cumulative time predictions waited for a torch worker.");
        foreach (var ((m, v), us) in _queue.OrderBy(k => k.Key))
            Line(b, "ts_queue_latency_microseconds", us, ("model_name", m), ("model_version", v));
        Header(b, "graphactors_errors_total", "counter", "Refused or failed requests, by HTTP status and error type.");
        foreach (var ((c, t), n) in _errors.OrderBy(k => k.Key))
            Line(b, "graphactors_errors_total", n, ("code", c.ToString(CultureInfo.InvariantCulture)), ("type", t));
        Header(b, "graphactors_feature_cache_hits_total", "counter", "Feature rows served by the feature cache (Redis).");
        foreach (var (t, n) in _cacheHits.OrderBy(k => k.Key)) Line(b, "graphactors_feature_cache_hits_total", n, ("node_type", t));
        Header(b, "graphactors_feature_cache_misses_total", "counter", "Feature rows the cache did not have (or could not serve: Redis down), read from the graph store instead.");
        foreach (var (t, n) in _cacheMisses.OrderBy(k => k.Key)) Line(b, "graphactors_feature_cache_misses_total", n, ("node_type", t));
        Header(b, "graphactors_store_feature_rows_total", "counter", "Feature rows gathered from the graph store.");
        Line(b, "graphactors_store_feature_rows_total", Interlocked.Read(ref _storeGathered));
        lock (_gauges)
        {
            foreach (var (name, help, read) in _gauges)
            {
                Header(b, name, "gauge", help);
                Line(b, name, read());
            }
        }
        using var histograms = new MemoryStream();
        _registry.CollectAndExportAsTextAsync(histograms).GetAwaiter().GetResult();
        b.Append(Encoding.UTF8.GetString(histograms.GetBuffer(), 0, (int)histograms.Length));
        return b.ToString();
    }

    private static void Header(StringBuilder b, string name, string type, string help) =>
        b.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n').Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');

    private static void Line(StringBuilder b, string name, double value, params (string Key, string Value)[] labels)
    {
        b.Append(name);
        if (labels.Length > 0)
        {
            b.Append('{');
            for (var i = 0; i < labels.Length; i++)
            {
                if (i > 0) b.Append(',');
                b.Append(labels[i].Key).Append("=\"").Append(Escape(labels[i].Value)).Append('"');
            }
            b.Append('}');
        }
        b.Append(' ').Append(value.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
    }

    private static string Escape(string s) => s.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n");
}
