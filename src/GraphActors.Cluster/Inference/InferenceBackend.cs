// What an InferenceActor serves with: the graph store, the optional Redis feature cache and the engine over them.
using Akka.Actor;
using Akka.Event;
using GraphActors.Cluster.Sampling;
using GraphActors.Graph.Storage;
using GraphActors.Sampling;
using GraphActors.Serving;

namespace GraphActors.Cluster.Inference;

/// <summary>
/// The engine plus the resources it reads from, released together (engine first, then the rest in reverse order of
/// opening). <see cref="OpenAsync"/> opens what <see cref="InferenceSettings"/> describes; a caller with its own
/// store and engine (`bench serve`) wraps them with the constructor.
/// </summary>
public sealed class InferenceBackend : IAsyncDisposable
{
    private readonly object[] _owned;

    /// <param name="owned">Disposed after the engine, last first (IAsyncDisposable or IDisposable).</param>
    public InferenceBackend(InferenceEngine engine, params object[] owned)
    {
        Engine = engine;
        _owned = owned;
    }

    public InferenceEngine Engine { get; }

    /// <summary>
    /// The store (remote over the partition region, or local memory-mapped), the Redis feature cache when
    /// <c>redis.endpoint</c> is set (connecting does not fail while Redis is down: the engine falls back to the store),
    /// and the engine with a <see cref="TrainingCheckpointLoader"/> confined to the model store.
    /// </summary>
    public static async Task<InferenceBackend> OpenAsync(ActorSystem system, InferenceSettings settings)
    {
        if (string.IsNullOrWhiteSpace(settings.StorePath))
            throw new InvalidOperationException("The inference role needs graphactors.inference.store-path (or graphactors.partitions.store-path).");
        IGraphStore store = settings.LocalStore
            ? new PartitionedGraphStore(PartitionStore.Open(settings.StorePath))
            : RemoteGraphStore.FromStore(system, settings.StorePath, settings.RequestTimeout);
        RedisFeatureSource? redis = null;
        try
        {
            if (settings.Redis is { } options)
            {
                var log = Logging.GetLogger(system, typeof(InferenceBackend));
                redis = await RedisFeatureSource.ConnectAsync(options, s =>
                {
                    if (s.Up) log.Info("{0}", s);
                    else log.Warning("{0}", s);
                }).ConfigureAwait(false);
            }
            // TorchServe's model store: made when missing, so a fresh node has the folder its docs point to.
            var modelStore = settings.ModelStore ?? throw new InvalidOperationException("The inference role needs graphactors.inference.model-store.");
            Directory.CreateDirectory(modelStore);
            var engine = new InferenceEngine(store, new TrainingCheckpointLoader(store, new ModelStore(modelStore)), redis, settings.Engine);
            return redis is null ? new InferenceBackend(engine, store) : new InferenceBackend(engine, store, redis);
        }
        catch
        {
            if (redis is not null) await redis.DisposeAsync().ConfigureAwait(false);
            (store as IDisposable)?.Dispose();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        Engine.Dispose();
        for (var i = _owned.Length - 1; i >= 0; i--)
        {
            if (_owned[i] is IAsyncDisposable a) await a.DisposeAsync().ConfigureAwait(false);
            else (_owned[i] as IDisposable)?.Dispose();
        }
    }
}
