// The embedded serializer configuration, for every ActorSystem GraphActors starts.
using Akka.Configuration;

namespace GraphActors.Contracts.Serialization;

public static class GraphActorsSerialization
{
    private static readonly Lazy<Config> Embedded = new(() =>
    {
        using var stream = typeof(GraphActorsSerialization).Assembly.GetManifestResourceStream("GraphActors.Contracts.serialization.conf")
            ?? throw new InvalidOperationException("GraphActors.Contracts was built without its serialization.conf resource.");
        using var reader = new StreamReader(stream);
        // EpochStreamReady embeds a SourceRef, written by Akka.Streams' StreamRefSerializer: a node that receives one
        // must know that serializer before it ever materialises a stream (Akka only adds it on first Materializer()).
        return ConfigurationFactory.ParseString(reader.ReadToEnd()).WithFallback(Akka.Streams.ActorMaterializer.DefaultConfig());
    });

    /// <summary>The <c>akka.actor.serializers</c> and <c>serialization-bindings</c> entries for our messages.</summary>
    public static Config Config => Embedded.Value;
}
