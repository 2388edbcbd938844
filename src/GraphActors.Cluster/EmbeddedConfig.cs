// Reads the HOCON files embedded in this assembly.
using Akka.Configuration;

namespace GraphActors.Cluster;

internal static class EmbeddedConfig
{
    public static Config Load(string resource)
    {
        using var stream = typeof(EmbeddedConfig).Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"GraphActors.Cluster was built without its embedded {resource}.");
        using var reader = new StreamReader(stream);
        return ConfigurationFactory.ParseString(reader.ReadToEnd());
    }
}
