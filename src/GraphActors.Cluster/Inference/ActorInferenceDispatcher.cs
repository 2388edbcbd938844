// The HTTP edge of the inference role: each request is Asked of the InferenceActor and answered from its reply.
using Akka.Actor;
using GraphActors.Serving;

namespace GraphActors.Cluster.Inference;

/// <summary>
/// <see cref="IInferenceDispatcher"/> over an <see cref="InferenceActor"/> (Ask at the edge, STYLE 7). A reply of
/// Akka.Actor.Status.Failure rethrows its <see cref="ServingException"/>; no reply within the timeout is a 504 naming the key,
/// and cancels the work the actor started for the request.
/// </summary>
public sealed class ActorInferenceDispatcher(IActorRef actor, TimeSpan askTimeout, TimeSpan modelLoadTimeout) : IInferenceDispatcher
{
    public async Task<PredictionResult> PredictAsync(PredictionRequest request, CancellationToken cancellationToken)
    {
        using var work = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        try
        {
            return await AskAsync<PredictionResult>(new InferenceActor.Predict(request, work.Token), askTimeout, "ask-timeout", cancellationToken)
                .ConfigureAwait(false);
        }
        finally
        {
            // After a timeout the engine may still be sampling for this request: nobody waits for it any more.
            work.Cancel();
        }
    }

    public async Task<ModelEntry> RegisterAsync(string name, string url, string? version, int? workers, CancellationToken cancellationToken)
    {
        using var work = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        try
        {
            return await AskAsync<ModelEntry>(new InferenceActor.RegisterModel(name, url, version, workers, work.Token), modelLoadTimeout, "model-load-timeout", cancellationToken)
                .ConfigureAwait(false);
        }
        finally
        {
            work.Cancel();
        }
    }

    public Task<ModelEntry> UnregisterAsync(string name, string? version, CancellationToken cancellationToken) =>
        AskAsync<ModelEntry>(new InferenceActor.UnregisterModel(name, version), askTimeout, "ask-timeout", cancellationToken);

    public Task SetDefaultAsync(string name, string version, CancellationToken cancellationToken) =>
        AskAsync<Akka.Done>(new InferenceActor.SetDefaultModel(name, version), askTimeout, "ask-timeout", cancellationToken);

    private async Task<T> AskAsync<T>(object message, TimeSpan timeout, string key, CancellationToken cancellationToken)
    {
        object reply;
        try
        {
            reply = await actor.Ask<object>(message, timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (AskTimeoutException)
        {
            throw new ServingException(504, "GatewayTimeoutException",
                $"The inference actor did not answer within {timeout.TotalSeconds:0.###} s (graphactors.inference.{key}); the request was cancelled.");
        }
        return reply switch
        {
            T answer => answer,
            Akka.Actor.Status.Failure { Cause: ServingException e } => throw e,
            Akka.Actor.Status.Failure f => throw new ServingException(500, "InternalServerException", $"The inference actor failed: {f.Cause.GetBaseException().Message}"),
            _ => throw new ServingException(500, "InternalServerException", $"The inference actor answered {reply.GetType().Name}, expected {typeof(T).Name}."),
        };
    }
}
