namespace FusionActors.Inference;

/// <summary>
/// Node-level home of the encoders: one <see cref="OnnxEncoder"/> (one InferenceSession) per model name per
/// process, created on first use. <see cref="Reload"/> re-reads models.json and swaps in the models whose version
/// changed; encoders it replaces keep serving whoever holds them (running sessions) and are disposed with the
/// registry. Thread-safe; disposing it disposes every encoder it created.
/// </summary>
public sealed class ModelRegistry : IDisposable
{
    private Dictionary<string, OnnxEncoder> _encoders = new(StringComparer.Ordinal);
    private readonly List<OnnxEncoder> _retired = [];
    private readonly Lock _gate = new();
    private readonly Lock _reloading = new();
    private volatile ModelCatalog _catalog;
    private bool _disposed;

    public ModelRegistry(ModelCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        _catalog = catalog;
    }

    /// <summary>The current catalog (the last one <see cref="Reload"/> swapped in).</summary>
    public ModelCatalog Catalog => _catalog;

    /// <summary>A registry over <see cref="ModelCatalog.FindDefault"/>.</summary>
    public static ModelRegistry FromDefaultCatalog() => new(ModelCatalog.FindDefault());

    /// <summary>
    /// The encoder of model <paramref name="name"/> in the current catalog, opened on first call and shared afterwards.
    /// <see cref="KeyNotFoundException"/> for a model not in the catalog; a failed open is not cached.
    /// </summary>
    public OnnxEncoder GetEncoder(string name)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var spec = _catalog.Get(name);
            if (!_encoders.TryGetValue(name, out var encoder))
            {
                // Opening under the lock keeps the one-session-per-model promise; it happens once per model.
                encoder = new OnnxEncoder(spec);
                _encoders.Add(name, encoder);
            }

            return encoder;
        }
    }

    /// <summary>
    /// The encoder of model <paramref name="name"/> at <paramref name="version"/>: the current one when its version
    /// matches (opened on first call), otherwise one a reload replaced that is still open; null when neither is.
    /// <see cref="KeyNotFoundException"/> for a model not in the current catalog.
    /// </summary>
    public OnnxEncoder? GetEncoder(string name, string version)
    {
        ArgumentNullException.ThrowIfNull(version);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var spec = _catalog.Get(name);
            if (spec.Version == version)
            {
                if (!_encoders.TryGetValue(name, out var current))
                {
                    current = new OnnxEncoder(spec);
                    _encoders.Add(name, current);
                }
                return current;
            }
            // The newest replaced encoder of that version (a model may come back to a version).
            for (var i = _retired.Count - 1; i >= 0; i--)
                if (_retired[i].Spec.Name == name && _retired[i].Spec.Version == version) return _retired[i];
            return null;
        }
    }

    /// <summary>Names of the models whose encoders are open.</summary>
    public IReadOnlyList<string> OpenModels
    {
        get
        {
            lock (_gate)
                return _encoders.Keys.Order(StringComparer.Ordinal).ToArray();
        }
    }

    /// <summary>Encoders replaced or removed by reloads, still open for the sessions that hold them.</summary>
    public int RetiredEncoders
    {
        get
        {
            lock (_gate)
                return _retired.Count;
        }
    }

    /// <summary>
    /// Re-reads the catalog's models.json. The whole file is validated first: a file that does not parse changes
    /// nothing (<see cref="InvalidDataException"/> or <see cref="FileNotFoundException"/>). Then each model whose
    /// version changed, or that is new, is opened; one that fails to open keeps its old version serving (a new one
    /// stays absent) and is reported <see cref="ModelReloadOutcome.Failed"/>. A model with its version unchanged keeps
    /// its spec and encoder (bump the version to swap a file). Models no longer listed leave the catalog. Encoders
    /// replaced or removed stay open for the sessions that hold them. Reloads run one at a time.
    /// </summary>
    public IReadOnlyList<ModelReloadEntry> Reload()
    {
        lock (_reloading)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var current = _catalog;
            var next = ModelCatalog.Load(current.Path);
            var report = new List<ModelReloadEntry>();
            var specs = new List<ModelSpec>();
            var opened = new Dictionary<string, OnnxEncoder>(StringComparer.Ordinal);
            foreach (var spec in next.Models)
            {
                var had = current.TryGet(spec.Name, out var old);
                if (had && old.Version == spec.Version)
                {
                    specs.Add(old);
                    report.Add(new ModelReloadEntry(spec.Name, old.Version, old.Version, ModelReloadOutcome.Unchanged, null));
                    continue;
                }
                try
                {
                    opened.Add(spec.Name, new OnnxEncoder(spec));
                    specs.Add(spec);
                    report.Add(new ModelReloadEntry(spec.Name, had ? old.Version : null, spec.Version,
                        had ? ModelReloadOutcome.Loaded : ModelReloadOutcome.Added, null));
                }
                catch (Exception e) when (e is InvalidDataException or FileNotFoundException or IOException or Microsoft.ML.OnnxRuntime.OnnxRuntimeException)
                {
                    if (had) specs.Add(old);
                    report.Add(new ModelReloadEntry(spec.Name, had ? old.Version : null, spec.Version, ModelReloadOutcome.Failed, e.Message));
                }
            }
            foreach (var old in current.Models)
                if (!next.TryGet(old.Name, out _))
                    report.Add(new ModelReloadEntry(old.Name, old.Version, null, ModelReloadOutcome.Removed, null));

            var catalog = new ModelCatalog(current.Path, specs);
            lock (_gate)
            {
                if (_disposed)
                {
                    foreach (var e in opened.Values) e.Dispose();
                    throw new ObjectDisposedException(nameof(ModelRegistry));
                }
                var encoders = new Dictionary<string, OnnxEncoder>(StringComparer.Ordinal);
                foreach (var (name, encoder) in _encoders)
                {
                    if (catalog.TryGet(name, out var kept) && ReferenceEquals(kept, encoder.Spec)) encoders.Add(name, encoder);
                    else _retired.Add(encoder);
                }
                foreach (var (name, encoder) in opened) encoders[name] = encoder;
                _encoders = encoders;
                _catalog = catalog;
            }
            return report;
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
                return;
            _disposed = true;
            foreach (var encoder in _encoders.Values)
                encoder.Dispose();
            foreach (var encoder in _retired)
                encoder.Dispose();
            _encoders.Clear();
            _retired.Clear();
        }
    }
}

/// <summary>What <see cref="ModelRegistry.Reload"/> did with one model.</summary>
public enum ModelReloadOutcome
{
    /// <summary>Same version: spec and encoder kept.</summary>
    Unchanged,
    /// <summary>A new version opened and swapped in.</summary>
    Loaded,
    /// <summary>A model not listed before, opened and added.</summary>
    Added,
    /// <summary>No longer listed: new sessions cannot use it.</summary>
    Removed,
    /// <summary>The new version did not open: the old one (if any) keeps serving.</summary>
    Failed,
}

/// <summary>One model's line of a reload: its version before and after (null: not listed), and why it failed.</summary>
public sealed record ModelReloadEntry(string Name, string? OldVersion, string? NewVersion, ModelReloadOutcome Outcome, string? Error);
