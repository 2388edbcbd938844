// The management API's register, scale and unregister rules, shared by the HTTP routes and the cluster's `ctl model` commands so both answer alike.
namespace GraphActors.Serving;

/// <summary>
/// What <c>POST /models</c>, <c>PUT /models/{name}</c> and <c>DELETE /models/{name}</c> decide besides the registry call:
/// the default model name, the worker bounds, and the status texts TorchServe gives. Refusals are
/// <see cref="ServingException"/>s with the HTTP status the management API answers.
/// </summary>
public static class ModelManagement
{
    /// <summary><paramref name="name"/>, or the url's last segment without its extension (TorchServe's default); checked.</summary>
    public static string NameFor(string url, string? name)
    {
        if (string.IsNullOrEmpty(url)) throw ServingException.BadRequest("Parameter url is required.");
        var resolved = string.IsNullOrEmpty(name) ? Path.GetFileNameWithoutExtension(url.TrimEnd('/')) : name;
        ModelNames.Check(resolved, "model_name");
        return resolved;
    }

    /// <summary>A worker count (null: not given): 0 … max-in-flight, else a 400 naming <paramref name="field"/>.</summary>
    public static int? CheckWorkers(InferenceEngine engine, string field, int? n)
    {
        if (n is not { } count) return null;
        if (count < 0) throw ServingException.BadRequest($"{field} must be 0 or more, got {count}.");
        if (count > engine.Options.MaxInFlight)
            throw ServingException.BadRequest($"{field} {count} is more than max-in-flight ({engine.Options.MaxInFlight}): workers beyond the predictions admitted at once would never run.");
        return count;
    }

    /// <summary>TorchServe's answer to a synchronous register.</summary>
    public static string Registered(ModelEntry entry)
    {
        var n = entry.Workers.MinWorkers;
        return n == 0
            ? $"Model \"{entry.Name}\" Version: {entry.Version} registered with 0 initial workers. Use scale workers API to add workers for the model."
            : $"Model \"{entry.Name}\" Version: {entry.Version} registered with {n} initial workers";
    }

    /// <summary>
    /// Scales a version (null: the default one) to <paramref name="min"/> lanes, keeping <paramref name="max"/> as TorchServe
    /// does; 400 when the bounds are wrong, 404 when the model or version is unknown. Returns the version scaled.
    /// </summary>
    public static ModelEntry Scale(InferenceEngine engine, string name, string? version, int min, int max)
    {
        CheckWorkers(engine, "min_worker", min);
        if (max < min) throw ServingException.BadRequest($"max_worker ({max}) cannot be less than min_worker ({min}).");
        var entry = engine.Models.Describe(name, version)[0];
        entry.Workers.Scale(min, max);
        return entry;
    }

    /// <summary>TorchServe's answer to a scale that named no version, or one that did.</summary>
    public static string Scaled(string name, string? version, ModelEntry entry, int min) => version is null
        ? $"Workers scaled to {min} for model: {name}"
        : $"Workers scaled to {min} for model: {name}, version: {entry.Version}";

    /// <summary>TorchServe's answer to an unregister.</summary>
    public static string Unregistered(ModelEntry entry) => $"Model \"{entry.Name}\" unregistered";

    /// <summary>The status the describe call shows.</summary>
    public static string Status(ModelEntry entry) => entry.Status == ModelStatus.Ready ? "READY" : "UNLOADING";
}
