// Named models with versions and a default version, loaded through the IModelLoader seam on the torch workers.
using GraphActors.Sampling;

namespace GraphActors.Serving;

public enum ModelStatus { Ready, Unloading }

/// <summary>One registered version. Leases keep the model alive while requests use it after it was unregistered.</summary>
public sealed class ModelEntry
{
    private int _leases;
    private bool _removed;
    private bool _disposed;

    internal ModelEntry(string name, string version, string url, ServableModel model, ModelWorkers workers)
    {
        Name = name; Version = version; Url = url; Model = model; Workers = workers; LoadedAt = DateTimeOffset.UtcNow;
    }

    public string Name { get; }
    public string Version { get; }
    /// <summary>The checkpoint location the model came from.</summary>
    public string Url { get; }
    public ServableModel Model { get; }
    /// <summary>TorchServe's workers of this version: its lanes onto the shared torch workers (PUT /models/{name} scales them).</summary>
    public ModelWorkers Workers { get; }
    public DateTimeOffset LoadedAt { get; }
    public ModelStatus Status => Volatile.Read(ref _removed) ? ModelStatus.Unloading : ModelStatus.Ready;

    internal bool TryAcquire()
    {
        lock (this)
        {
            if (_removed) return false;
            _leases++;
            return true;
        }
    }

    /// <summary>Returns true when the caller must dispose the model (the last lease of a removed entry).</summary>
    internal bool Release()
    {
        lock (this)
        {
            _leases--;
            return ShouldDispose();
        }
    }

    internal bool MarkRemoved()
    {
        lock (this)
        {
            _removed = true;
            return ShouldDispose();
        }
    }

    private bool ShouldDispose()
    {
        if (!_removed || _leases > 0 || _disposed) return false;
        _disposed = true;
        return true;
    }
}

public sealed record ModelPage(IReadOnlyList<ModelEntry> Models, string? NextPageToken);

/// <summary>
/// The registry. Registration loads on a torch worker (the loader creates tensors) and checks the model against the
/// graph store's schema, so a model that cannot run on this graph is refused at registration, not at its first
/// request. The first version of a name becomes its default.
/// </summary>
public sealed class ModelRegistry
{
    private readonly object _gate = new();
    private readonly SortedDictionary<string, Dictionary<string, ModelEntry>> _models = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _defaults = new(StringComparer.Ordinal);
    private readonly HashSet<(string, string)> _loading = [];
    private readonly IModelLoader _loader;
    private readonly TorchWorkerPool _workers;
    private readonly GraphStoreSchema _schema;

    internal ModelRegistry(IModelLoader loader, TorchWorkerPool workers, GraphStoreSchema schema)
    {
        _loader = loader; _workers = workers; _schema = schema;
    }

    public int Count { get { lock (_gate) return _models.Values.Sum(v => v.Count); } }

    /// <summary>
    /// Loads <paramref name="url"/> as <paramref name="name"/>; the entry is published with <paramref name="workers"/> lanes
    /// (null: as many as the pool has threads), so nobody sees it with another count first.
    /// </summary>
    public async Task<ModelEntry> RegisterAsync(string name, string url, string? version = null, CancellationToken cancellationToken = default, int? workers = null)
    {
        if (workers is < 0) throw ServingException.BadRequest($"workers must be 0 or more (got {workers}).");
        ModelNames.Check(name, "model_name");
        if (version is not null) ModelNames.Check(version, "model_version");
        if (string.IsNullOrWhiteSpace(url)) throw ServingException.BadRequest("url is empty.");
        if (version is not null) Reserve(name, version);
        ServableModel model;
        try
        {
            (model, _) = await _workers.RunAsync(() =>
            {
                var m = _loader.Load(url, cancellationToken);
                try { Check(m); } catch { m.Dispose(); throw; }
                return m;
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (ModelLoadException e)
        {
            if (version is not null) Unreserve(name, version);
            throw ServingException.BadRequest(e.Message);
        }
        catch
        {
            if (version is not null) Unreserve(name, version);
            throw;
        }
        var resolved = version ?? model.Info.Version ?? "1.0";
        lock (_gate)
        {
            if (version is not null) _loading.Remove((name, version));
            if (!_models.TryGetValue(name, out var versions)) _models[name] = versions = new Dictionary<string, ModelEntry>(StringComparer.Ordinal);
            if (versions.ContainsKey(resolved))
            {
                _workers.Post(model.Dispose);
                throw ServingException.Conflict($"Model version {resolved} is already registered for model {name}");
            }
            // By default as many lanes as the pool has threads: the model may use all of them until it is scaled.
            var entry = new ModelEntry(name, resolved, url, model, _workers.NewLanes(name, resolved, workers));
            versions[resolved] = entry;
            _defaults.TryAdd(name, resolved);
            return entry;
        }
    }

    private void Reserve(string name, string version)
    {
        lock (_gate)
        {
            if ((_models.TryGetValue(name, out var v) && v.ContainsKey(version)) || !_loading.Add((name, version)))
                throw ServingException.Conflict($"Model version {version} is already registered for model {name}");
        }
    }

    private void Unreserve(string name, string version)
    {
        lock (_gate) _loading.Remove((name, version));
    }

    /// <summary>Refuses a model whose node types, feature sizes or relations the graph store does not have.</summary>
    private void Check(ServableModel model)
    {
        foreach (var type in model.Config.InDims.Keys)
        {
            var node = _schema.NodeTypes.FirstOrDefault(n => n.Type.Name == type)
                ?? throw new ModelLoadException($"The model has node type '{type}', which the graph does not have.");
            var dim = model.FeatureWidth(type); // the store's share of the input (an embedding may add to it or replace it)
            if (dim > 0 && node.FeatureDim != dim)
                throw new ModelLoadException($"The model expects {dim} input features for '{type}'; the graph has {node.FeatureDim}.");
        }
        foreach (var r in model.Config.Relations)
        {
            if (_schema.EdgeTypes.Any(e => e.Type.Src.Name == r.Src && e.Type.Relation == r.Relation && e.Type.Dst.Name == r.Dst)) continue;
            // A virtual reverse (T, rel_reverse, S) the sampler derives from a stored (S, rel, T) under add_reverse/bidirected.
            var suffix = GraphActors.Contracts.CanonicalEdgeType.ReverseSuffix;
            if (model.Info.ReverseEdges != GraphActors.Sampling.ReverseEdges.None && r.Relation.EndsWith(suffix, StringComparison.Ordinal)
                && _schema.EdgeTypes.Any(e => e.Type.Src.Name == r.Dst && e.Type.Relation == r.Relation[..^suffix.Length] && e.Type.Dst.Name == r.Src))
                continue;
            throw new ModelLoadException($"The model convolves over {r}, which the graph does not have.");
        }
    }

    /// <summary>The named version, or the default one; leased: dispose the lease when the request is done.</summary>
    public ModelLease Acquire(string name, string? version)
    {
        ModelEntry entry;
        lock (_gate)
        {
            if (!_models.TryGetValue(name, out var versions))
                throw ServingException.ModelNotFound($"Model not found: {name}");
            var v = version ?? _defaults[name];
            if (!versions.TryGetValue(v, out entry!))
                throw ServingException.ModelNotFound($"Model version: {v} does not exist for model: {name}");
        }
        if (!entry.TryAcquire()) throw ServingException.ModelNotFound($"Model not found: {name} (being unregistered)");
        return new ModelLease(entry, this);
    }

    internal void Release(ModelEntry entry)
    {
        if (entry.Release()) DisposeLater(entry);
    }

    public ModelEntry Unregister(string name, string? version)
    {
        ModelEntry entry;
        lock (_gate)
        {
            if (!_models.TryGetValue(name, out var versions))
                throw ServingException.ModelNotFound($"Model not found: {name}");
            var v = version ?? _defaults[name];
            if (!versions.TryGetValue(v, out entry!))
                throw ServingException.ModelNotFound($"Model version: {v} does not exist for model: {name}");
            if (_defaults[name] == v && versions.Count > 1)
                throw ServingException.BadRequest($"Version {v} is the default of model {name}; set another default first.");
            versions.Remove(v);
            if (versions.Count == 0) { _models.Remove(name); _defaults.Remove(name); }
        }
        if (entry.MarkRemoved()) DisposeLater(entry);
        return entry;
    }

    public void SetDefault(string name, string version)
    {
        lock (_gate)
        {
            if (!_models.TryGetValue(name, out var versions))
                throw ServingException.ModelNotFound($"Model not found: {name}");
            if (!versions.ContainsKey(version))
                throw ServingException.ModelNotFound($"Model version: {version} does not exist for model: {name}");
            _defaults[name] = version;
        }
    }

    public string? DefaultVersion(string name)
    {
        lock (_gate) return _defaults.GetValueOrDefault(name);
    }

    /// <summary>The default versions of the models, by name, from <paramref name="pageToken"/> (an offset).</summary>
    public ModelPage List(int limit, string? pageToken)
    {
        if (limit < 1) throw ServingException.BadRequest($"limit must be positive, got {limit}.");
        var start = 0;
        if (!string.IsNullOrEmpty(pageToken) && (!int.TryParse(pageToken, out start) || start < 0))
            throw ServingException.BadRequest($"Invalid next_page_token '{pageToken}'.");
        lock (_gate)
        {
            var names = _models.Keys.ToList();
            var page = names.Skip(start).Take(limit).Select(n => _models[n][_defaults[n]]).ToList();
            var next = start + limit < names.Count ? (start + limit).ToString(System.Globalization.CultureInfo.InvariantCulture) : null;
            return new ModelPage(page, next);
        }
    }

    /// <summary>Every version of <paramref name="name"/> (version "all"), one version, or the default one.</summary>
    public IReadOnlyList<ModelEntry> Describe(string name, string? version)
    {
        lock (_gate)
        {
            if (!_models.TryGetValue(name, out var versions))
                throw ServingException.ModelNotFound($"Model not found: {name}");
            if (version == "all") return versions.Values.OrderBy(e => e.Version, StringComparer.Ordinal).ToList();
            var v = version ?? _defaults[name];
            return versions.TryGetValue(v, out var e) ? [e] : throw ServingException.ModelNotFound($"Model version: {v} does not exist for model: {name}");
        }
    }

    public IReadOnlyList<ModelEntry> All()
    {
        lock (_gate) return _models.Values.SelectMany(v => v.Values).ToList();
    }

    /// <summary>Unregisters everything (shutdown).</summary>
    internal void Clear()
    {
        List<ModelEntry> all;
        lock (_gate)
        {
            all = _models.Values.SelectMany(v => v.Values).ToList();
            _models.Clear();
            _defaults.Clear();
        }
        foreach (var e in all) if (e.MarkRemoved()) DisposeLater(e);
    }

    private void DisposeLater(ModelEntry entry) =>
        _workers.Post(entry.Model.Dispose);
}

/// <summary>A model in use by one request.</summary>
public readonly struct ModelLease(ModelEntry entry, ModelRegistry registry) : IDisposable
{
    public ModelEntry Entry => entry;
    public void Dispose() => registry.Release(entry);
}
