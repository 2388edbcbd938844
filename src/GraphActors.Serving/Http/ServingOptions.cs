// Where the three listeners bind and who may call them.
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;

namespace GraphActors.Serving;

/// <summary>
/// TorchServe's three APIs on three ports (inference 8080, management 8081, metrics 8082), loopback by default.
/// A port of 0 binds a free port (tests); <see cref="ServingHost"/> reports the bound addresses.
/// </summary>
public sealed record ServingOptions
{
    public string Host { get; init; } = "127.0.0.1";
    public int InferencePort { get; init; } = 8080;
    public int ManagementPort { get; init; } = 8081;
    public int MetricsPort { get; init; } = 8082;
    /// <summary>
    /// Bearer token the management API requires. <see cref="ServingHost"/> does not start without one unless
    /// <see cref="ManagementTokenDisabled"/> is set; a node without a configured token gets one from
    /// <see cref="ManagementAuth.Resolve"/> (generated once into its data directory).
    /// </summary>
    public string? ManagementToken { get; init; }
    /// <summary>True: the management API is open to anyone who reaches it (management-token = off; tests, loopback development).</summary>
    public bool ManagementTokenDisabled { get; init; }
    /// <summary>Bearer token the inference API requires, or null.</summary>
    public string? InferenceToken { get; init; }
    public long MaxRequestBodyBytes { get; init; } = 4 * 1024 * 1024;
    /// <summary>
    /// Extra routes on the management app (the cluster's status page), called before its token check is added: routes
    /// it maps are guarded by <see cref="ManagementToken"/> like the management API's own, middleware it adds runs
    /// before the check (so it may only serve what needs no token). Null: the management API only.
    /// </summary>
    public Action<WebApplication>? ConfigureManagement { get; init; }

    /// <summary>Reads the kebab-case keys of docs/SERVING.md from a configuration section ("serving").</summary>
    public static ServingOptions FromConfiguration(IConfiguration section)
    {
        var d = new ServingOptions();
        return new ServingOptions
        {
            Host = section["host"] ?? d.Host,
            InferencePort = Int(section, "inference-port", d.InferencePort),
            ManagementPort = Int(section, "management-port", d.ManagementPort),
            MetricsPort = Int(section, "metrics-port", d.MetricsPort),
            // "off" opens the management API; empty leaves the token to the caller (ManagementAuth.Resolve).
            ManagementToken = ManagementAuth.IsOff(section["management-token"]) || string.IsNullOrEmpty(section["management-token"]) ? null : section["management-token"],
            ManagementTokenDisabled = ManagementAuth.IsOff(section["management-token"]),
            InferenceToken = section["inference-token"],
            MaxRequestBodyBytes = Int(section, "max-request-body-bytes", (int)d.MaxRequestBodyBytes),
        };
    }

    internal static int Int(IConfiguration section, string key, int fallback) =>
        section[key] is { } v ? int.Parse(v, System.Globalization.CultureInfo.InvariantCulture) : fallback;
}

public static class InferenceOptionsConfig
{
    /// <summary>Reads max-ids-per-request, max-in-flight, workers, torch-threads and full-neighborhood from a configuration section.</summary>
    public static InferenceOptions FromConfiguration(IConfiguration section)
    {
        var d = new InferenceOptions();
        return d with
        {
            MaxIdsPerRequest = ServingOptions.Int(section, "max-ids-per-request", d.MaxIdsPerRequest),
            MaxInFlight = ServingOptions.Int(section, "max-in-flight", d.MaxInFlight),
            Workers = ServingOptions.Int(section, "workers", d.Workers),
            TorchThreads = ServingOptions.Int(section, "torch-threads", d.TorchThreads),
            FullNeighborhoodByDefault = section["full-neighborhood"] is { } f ? bool.Parse(f) : d.FullNeighborhoodByDefault,
        };
    }
}
