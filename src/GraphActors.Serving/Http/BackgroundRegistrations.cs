// POST /models?synchronous=false: TorchServe answers 202 at once and registers in the background; here is that background.
namespace GraphActors.Serving;

/// <summary>
/// Registrations the management API answered with 202 before they finished. Each runs through the
/// <see cref="IInferenceDispatcher"/> like a synchronous one (in a cluster: the inference actor, with its
/// model-load-timeout). Until it ends, the model's name answers 404 with "being registered"; when it fails, the failure
/// is counted in graphactors_errors_total and kept for the name (404 with the reason on describe and predictions) until
/// the name is registered again: nothing fails unseen. Disposing cancels what still runs and waits for it (bounded).
/// </summary>
internal sealed class BackgroundRegistrations(InferenceEngine engine, IInferenceDispatcher dispatcher) : IAsyncDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly object _gate = new();
    private readonly Dictionary<string, string> _states = new(StringComparer.Ordinal); // name → "being registered…" or the failure
    private readonly HashSet<Task> _running = [];

    /// <summary>Starts loading <paramref name="url"/> as <paramref name="name"/>; <paramref name="workers"/> lanes once loaded (null: the default).</summary>
    public void Start(string name, string url, string? version, int? workers)
    {
        var label = version is null ? $"Model \"{name}\"" : $"Model \"{name}\" Version: {version}";
        lock (_gate) _states[name] = $"{label} is being registered in the background (POST /models with synchronous=false); retry when it is done.";
        var task = Task.Run(async () =>
        {
            try
            {
                await dispatcher.RegisterAsync(name, url, version, workers, _stopping.Token).ConfigureAwait(false);
                lock (_gate) _states.Remove(name);
            }
            catch (Exception e)
            {
                var failure = e as ServingException ?? new ServingException(500, "InternalServerException", e.GetBaseException().Message);
                if (!failure.Data.Contains(InferenceEngine.RecordedKey)) engine.Metrics.RecordError(failure.Code, failure.Type);
                lock (_gate)
                    _states[name] = $"{label} failed to register in the background from '{url}': {failure.Type} ({failure.Code}): {failure.Message}";
            }
        });
        lock (_gate) _running.Add(task);
        task.ContinueWith(t => { lock (_gate) _running.Remove(t); }, TaskScheduler.Default);
    }

    /// <summary>Clears what is kept for <paramref name="name"/> (a synchronous registration of it succeeded).</summary>
    public void Forget(string name)
    {
        lock (_gate) _states.Remove(name);
    }

    /// <summary>A 404 for a model that is not registered, saying so when it is being registered or failed to.</summary>
    public ServingException Explain(ServingException notFound, string name)
    {
        if (notFound.Code != 404 || notFound.Type != "ModelNotFoundException") return notFound;
        string? state;
        lock (_gate) state = _states.GetValueOrDefault(name);
        if (state is null) return notFound;
        var explained = new ServingException(404, notFound.Type, $"{notFound.Message}. {state}");
        foreach (var key in notFound.Data.Keys) explained.Data[key] = notFound.Data[key];
        return explained;
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        Task[] running;
        lock (_gate) running = [.. _running];
        try
        {
            await Task.WhenAll(running).WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // A loader that ignores cancellation: the host stops anyway; the registration's result is dropped with the engine.
        }
    }
}
