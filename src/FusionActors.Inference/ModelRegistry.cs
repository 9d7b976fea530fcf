namespace FusionActors.Inference;

/// <summary>
/// Node-level home of the encoders: one <see cref="OnnxEncoder"/> (one InferenceSession) per model name per
/// process, created on first use. Thread-safe; disposing it disposes every encoder it created.
/// </summary>
public sealed class ModelRegistry : IDisposable
{
    private readonly Dictionary<string, OnnxEncoder> _encoders = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private bool _disposed;

    public ModelRegistry(ModelCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        Catalog = catalog;
    }

    public ModelCatalog Catalog { get; }

    /// <summary>A registry over <see cref="ModelCatalog.FindDefault"/>.</summary>
    public static ModelRegistry FromDefaultCatalog() => new(ModelCatalog.FindDefault());

    /// <summary>
    /// The encoder of model <paramref name="name"/>, opened on first call and shared afterwards.
    /// <see cref="KeyNotFoundException"/> for a model not in the catalog; a failed open is not cached.
    /// </summary>
    public OnnxEncoder GetEncoder(string name)
    {
        var spec = Catalog.Get(name);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_encoders.TryGetValue(name, out var encoder))
            {
                // Opening under the lock keeps the one-session-per-model promise; it happens once per model.
                encoder = new OnnxEncoder(spec);
                _encoders.Add(name, encoder);
            }

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

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
                return;
            _disposed = true;
            foreach (var encoder in _encoders.Values)
                encoder.Dispose();
            _encoders.Clear();
        }
    }
}
