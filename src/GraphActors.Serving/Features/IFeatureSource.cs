// The feature-cache seam: the engine asks a source first and falls back to the graph store for what it lacks.
using GraphActors.Contracts;

namespace GraphActors.Serving;

/// <summary>
/// Feature rows by business id, as a cache in front of the graph store. A source never throws for an unreachable
/// backend: it reports misses (and <see cref="IsHealthy"/> false) so that the caller falls back to the store.
/// </summary>
public interface IFeatureSource
{
    /// <summary>Short name for /ping and metrics ("redis").</summary>
    string Name { get; }

    /// <summary>False while the backend is unreachable; recovers by itself when it comes back.</summary>
    bool IsHealthy { get; }

    /// <summary>Why the source is unhealthy (the last error), or null.</summary>
    string? LastError { get; }

    /// <summary>
    /// Fills row i of <paramref name="destination"/> (row-major, <paramref name="dim"/> floats a row) and sets
    /// <paramref name="found"/>[i] for every business id the source holds; returns the number of hits. Rows whose
    /// <paramref name="found"/> entry is false are left untouched.
    /// </summary>
    ValueTask<int> GetAsync(NodeType type, int dim, ReadOnlyMemory<long> businessIds, Memory<float> destination, Memory<bool> found,
        CancellationToken cancellationToken = default);
}
