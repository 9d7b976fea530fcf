using FusionActors.Inference;

namespace FusionActors.Runtime.Encoders;

/// <summary>
/// A stream's counted use of an encoder of the node's <see cref="ModelRegistry"/>: while a use holds a version a reload
/// replaced (retired), the registry keeps it open; the last use given back disposes it. It also tells a stream that
/// follows the model's current version (not pinned by <see cref="FusionActors.Protocol.Specs.StreamSpec.ModelVersion"/>)
/// that a reload gave the model another version, at the cost of one read until a reload happens.
/// </summary>
public sealed class ModelUse
{
    private readonly ModelRegistry _registry;
    private long _seen;
    private readonly long _resolvedAt;
    private int _taken;
    private int _released;

    /// <param name="registry">The registry that counted the use.</param>
    /// <param name="encoder">The encoder it counted a use of.</param>
    /// <param name="follows">Whether its holder follows the model's current version.</param>
    /// <param name="generation">The registry's <see cref="ModelRegistry.Generation"/> read before the use was counted.</param>
    internal ModelUse(ModelRegistry registry, OnnxEncoder encoder, bool follows, long generation)
    {
        _registry = registry;
        Encoder = encoder;
        Follows = follows;
        _seen = _resolvedAt = generation;
    }

    public OnnxEncoder Encoder { get; }

    /// <summary>Whether the holder moves to the model's new version after a reload (false: pinned to this one).</summary>
    public bool Follows { get; }

    /// <summary>
    /// The use for one stream. The first caller gets the use counted when the encoder was resolved; a later one (a
    /// stream rebuilt from the same resolution) counts another, or gets null when the encoder was freed meanwhile.
    /// </summary>
    public ModelUse? Take()
    {
        if (Interlocked.Exchange(ref _taken, 1) == 0) return this;
        // As of the resolution: a reload since then is seen at the stream's first batch, and the stream moves on.
        return _registry.TryUse(Encoder) ? new ModelUse(_registry, Encoder, Follows, _resolvedAt) { _taken = 1 } : null;
    }

    /// <summary>A reload happened since the holder last looked (one read); then ask <see cref="Replaced"/>.</summary>
    public bool MayBeReplaced => Follows && _registry.Generation != _seen;

    /// <summary>Whether the encoder is no longer its model's current one; remembers the reload it looked at, so it is asked once per reload.</summary>
    public bool Replaced()
    {
        _seen = _registry.Generation;
        return !_registry.IsCurrent(Encoder);
    }

    /// <summary>Gives the use back (once). True when it was the last use of a retired encoder, now disposed.</summary>
    public bool Release() => Interlocked.Exchange(ref _released, 1) == 0 && _registry.Release(Encoder);
}
