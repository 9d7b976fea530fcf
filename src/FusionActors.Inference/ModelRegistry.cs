namespace FusionActors.Inference;

/// <summary>
/// Node-level home of the encoders: one <see cref="OnnxEncoder"/> (one InferenceSession) per model name per
/// process, created on first use. <see cref="Reload"/> re-reads models.json and swaps in the models whose version
/// changed; encoders it replaces (retired) keep serving whoever holds them. Holders that count their use
/// (<see cref="Use"/>, <see cref="TryUse"/>, <see cref="Release"/>: the node's streams) let a retired encoder be
/// disposed when its last use is released; one ever handed out by <see cref="GetEncoder(string)"/> (uncounted) stays
/// open until the registry is disposed. Thread-safe; disposing it disposes every encoder it created.
/// </summary>
public sealed class ModelRegistry : IDisposable
{
    private Dictionary<string, OnnxEncoder> _encoders = new(StringComparer.Ordinal);
    private readonly List<OnnxEncoder> _retired = [];
    private readonly Lock _gate = new();
    private readonly Lock _reloading = new();
    private volatile ModelCatalog _catalog;
    private bool _disposed;
    // Counted uses per encoder (current or retired); encoders handed out uncounted are never freed before the registry.
    private readonly Dictionary<OnnxEncoder, int> _uses = new(ReferenceEqualityComparer.Instance);
    private readonly HashSet<OnnxEncoder> _uncounted = new(ReferenceEqualityComparer.Instance);
    private long _generation;
    private long _freed;

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
            var encoder = Current(name);
            // Its holder does not say when it is done: once replaced it stays open until the registry is disposed.
            _uncounted.Add(encoder);
            return encoder;
        }
    }

    // Under _gate: the current encoder of the model, opened on first call.
    private OnnxEncoder Current(string name)
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

    /// <summary>
    /// Counts one use of model <paramref name="name"/>: its current encoder (opened on first call), or with
    /// <paramref name="version"/> other than the current one an encoder a reload replaced that is still open (null when
    /// none is). The caller gives the use back with <see cref="Release"/>. <see cref="KeyNotFoundException"/> for a
    /// model not in the current catalog.
    /// </summary>
    public OnnxEncoder? Use(string name, string? version = null)
    {
        lock (_gate)
        {
            var spec = _catalog.Get(name);
            var encoder = version is null || spec.Version == version ? Current(name) : Replaced(name, version);
            if (encoder is not null) _uses[encoder] = _uses.GetValueOrDefault(encoder) + 1;
            return encoder;
        }
    }

    /// <summary>Counts one more use of <paramref name="encoder"/>; false when the registry holds it no longer (a retired encoder already freed).</summary>
    public bool TryUse(OnnxEncoder encoder)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        lock (_gate)
        {
            if (_disposed || !Holds(encoder)) return false;
            _uses[encoder] = _uses.GetValueOrDefault(encoder) + 1;
            return true;
        }
    }

    /// <summary>
    /// Gives back one use of <paramref name="encoder"/>. Returns true when that was the last use of a retired encoder,
    /// which is then disposed (its InferenceSession released once a call still inside it has left).
    /// </summary>
    public bool Release(OnnxEncoder encoder)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        lock (_gate)
        {
            if (_disposed || !_uses.TryGetValue(encoder, out var n)) return false;
            if (n > 1)
            {
                _uses[encoder] = n - 1;
                return false;
            }
            _uses.Remove(encoder);
            if (!_retired.Contains(encoder) || _uncounted.Contains(encoder)) return false;
            _retired.Remove(encoder);
            _freed++;
        }
        encoder.Dispose();
        return true;
    }

    /// <summary>Whether <paramref name="encoder"/> is the current encoder of its model.</summary>
    public bool IsCurrent(OnnxEncoder encoder)
    {
        lock (_gate)
            return _encoders.TryGetValue(encoder.Name, out var current) && ReferenceEquals(current, encoder);
    }

    /// <summary>
    /// Counts the reloads that changed the catalog (a model loaded, added or removed): a holder that compares it with
    /// the one it saw learns cheaply that its model may have a new version.
    /// </summary>
    public long Generation => Interlocked.Read(ref _generation);

    /// <summary>Retired encoders disposed after their last use.</summary>
    public long FreedEncoders
    {
        get
        {
            lock (_gate)
                return _freed;
        }
    }

    /// <summary>Every open encoder, current and retired, with its counted uses (in catalog order, then retired oldest first).</summary>
    public IReadOnlyList<ModelEncoderUse> Encoders
    {
        get
        {
            lock (_gate)
            {
                var list = new List<ModelEncoderUse>();
                foreach (var spec in _catalog.Models)
                    if (_encoders.TryGetValue(spec.Name, out var e))
                        list.Add(new ModelEncoderUse(e.Name, e.Spec.Version, true, _uses.GetValueOrDefault(e), _uncounted.Contains(e)));
                foreach (var e in _retired)
                    list.Add(new ModelEncoderUse(e.Name, e.Spec.Version, false, _uses.GetValueOrDefault(e), _uncounted.Contains(e)));
                return list;
            }
        }
    }

    private bool Holds(OnnxEncoder encoder) =>
        (_encoders.TryGetValue(encoder.Name, out var current) && ReferenceEquals(current, encoder)) || _retired.Contains(encoder);

    // Under _gate: the newest replaced encoder of that version still open (a model may come back to a version).
    private OnnxEncoder? Replaced(string name, string version)
    {
        for (var i = _retired.Count - 1; i >= 0; i--)
            if (_retired[i].Spec.Name == name && _retired[i].Spec.Version == version) return _retired[i];
        return null;
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
            var encoder = _catalog.Get(name).Version == version ? Current(name) : Replaced(name, version);
            if (encoder is not null) _uncounted.Add(encoder);
            return encoder;
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
    /// replaced or removed stay open (retired) while a counted use or an uncounted holder has them, and are disposed at
    /// once otherwise; <see cref="Generation"/> moves when anything changed. Reloads run one at a time.
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
                // Whatever stops a model from opening is that model's failure: the others still reload.
                catch (Exception e) when (e is not (OutOfMemoryException or ObjectDisposedException))
                {
                    if (had) specs.Add(old);
                    report.Add(new ModelReloadEntry(spec.Name, had ? old.Version : null, spec.Version, ModelReloadOutcome.Failed, e.Message));
                }
            }
            foreach (var old in current.Models)
                if (!next.TryGet(old.Name, out _))
                    report.Add(new ModelReloadEntry(old.Name, old.Version, null, ModelReloadOutcome.Removed, null));

            var catalog = new ModelCatalog(current.Path, specs);
            var unused = new List<OnnxEncoder>();
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
                    // Nobody holds a replaced encoder nobody counted a use of: it is freed at once.
                    else if (!_uses.ContainsKey(encoder) && !_uncounted.Contains(encoder))
                    {
                        unused.Add(encoder);
                        _freed++;
                    }
                    else _retired.Add(encoder);
                }
                foreach (var (name, encoder) in opened) encoders[name] = encoder;
                _encoders = encoders;
                _catalog = catalog;
                if (report.Any(r => r.Outcome is ModelReloadOutcome.Loaded or ModelReloadOutcome.Added or ModelReloadOutcome.Removed))
                    Interlocked.Increment(ref _generation);
            }
            foreach (var e in unused) e.Dispose();
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
            _uses.Clear();
            _uncounted.Clear();
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

/// <summary>
/// One open encoder of the registry: its model and version, whether it is the current one (else retired by a reload),
/// how many counted uses hold it (streams), and whether an uncounted holder keeps it open until the registry is disposed.
/// </summary>
public sealed record ModelEncoderUse(string Name, string Version, bool Current, int Uses, bool HeldUncounted);

/// <summary>One model's line of a reload: its version before and after (null: not listed), and why it failed.</summary>
public sealed record ModelReloadEntry(string Name, string? OldVersion, string? NewVersion, ModelReloadOutcome Outcome, string? Error);
