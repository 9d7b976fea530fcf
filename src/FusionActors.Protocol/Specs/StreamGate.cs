namespace FusionActors.Protocol.Specs;

/// <summary>How a gate's outputs in a window are pooled into one probability.</summary>
public enum GatePooling
{
    /// <summary>The highest output in the window: speech anywhere in it opens the gate.</summary>
    Max,

    /// <summary>The mean output: the fraction of the window the gate sees as open.</summary>
    Mean,
}

/// <summary>
/// A stream that gates another one's reliability (docs/design.md, "Gates"): in each window the gated stream's weight
/// is multiplied by <c>Floor + (1 − Floor) · p</c>, where p is the gate's outputs in that window pooled by
/// <see cref="Pooling"/> (the first value of each of the gate's evidence embeddings, e.g. Silero VAD's speech
/// probability, clamped to [0, 1]). No gate evidence in a window: no gating. The gate's own modality has no weight in
/// the posterior.
/// </summary>
public sealed record StreamGate
{
    /// <summary>The default <see cref="Floor"/>: a silent gate leaves a tenth of the gated stream's weight.</summary>
    public const double DefaultFloor = 0.1;

    /// <summary>The gate stream's id (e.g. "voice").</summary>
    public required string Gate { get; init; }

    /// <summary>The gated stream's id (e.g. "audio").</summary>
    public required string Gated { get; init; }

    /// <summary>The least the gate leaves of the gated stream's weight, in [0, 1]: 0 lets a closed gate silence the stream. Default 0.1.</summary>
    public double Floor { get; init; } = DefaultFloor;

    /// <summary>How the gate's outputs in a window are pooled. Default <see cref="GatePooling.Max"/>.</summary>
    public GatePooling Pooling { get; init; } = GatePooling.Max;

    /// <summary>The factor on the gated stream's weight for a pooled gate probability <paramref name="p"/> (clamped to [0, 1]).</summary>
    public double Factor(double p) => Floor + (1 - Floor) * Math.Clamp(p, 0, 1);
}
