// Who answers what the HTTP host receives: the cluster's InferenceActor, or the engine itself in a local process.
namespace GraphActors.Serving;

/// <summary>
/// The seam between <see cref="ServingHost"/> and the owner of the engine. Predictions and the management calls that
/// change the model registry go through it; reads that change nothing (ping, model listings, metrics) read the
/// engine directly. The host claims the in-flight slot (<see cref="InferenceEngine.TryAdmit"/>) before calling
/// <see cref="PredictAsync"/>, so an implementation executes with <see cref="InferenceEngine.ExecuteAsync"/>.
/// Failures are <see cref="ServingException"/>s (a timeout of the owner is one too: 504, naming the timeout).
/// </summary>
public interface IInferenceDispatcher
{
    Task<PredictionResult> PredictAsync(PredictionRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// Loads <paramref name="url"/> as <paramref name="name"/> (version: the given one, else the checkpoint's) with
    /// <paramref name="workers"/> lanes (null: the engine's default), set before the model becomes visible.
    /// </summary>
    Task<ModelEntry> RegisterAsync(string name, string url, string? version, int? workers, CancellationToken cancellationToken);

    Task<ModelEntry> UnregisterAsync(string name, string? version, CancellationToken cancellationToken);

    Task SetDefaultAsync(string name, string version, CancellationToken cancellationToken);
}

/// <summary>Runs everything on the engine in the caller's process: the quickstart, `bench serve`, tests without an actor.</summary>
public sealed class DirectInferenceDispatcher(InferenceEngine engine) : IInferenceDispatcher
{
    public Task<PredictionResult> PredictAsync(PredictionRequest request, CancellationToken cancellationToken) =>
        engine.ExecuteAsync(request, cancellationToken);

    public Task<ModelEntry> RegisterAsync(string name, string url, string? version, int? workers, CancellationToken cancellationToken) =>
        engine.Models.RegisterAsync(name, url, version, cancellationToken, workers);

    public Task<ModelEntry> UnregisterAsync(string name, string? version, CancellationToken cancellationToken) =>
        Task.FromResult(engine.Models.Unregister(name, version));

    public Task SetDefaultAsync(string name, string version, CancellationToken cancellationToken)
    {
        engine.Models.SetDefault(name, version);
        return Task.CompletedTask;
    }
}
