namespace FusionActors.Protocol;

public enum FusedStatus
{
    Fused,
    /// <summary>No modality had weight: the posterior is the prior.</summary>
    NoEvidence,
}

/// <summary>
/// The decision for one window. Consumers drop repeats by (<see cref="WindowStartUs"/>, <see cref="Revision"/>).
/// </summary>
public sealed record FusedResult(
    string SessionId,
    long WindowStartUs,
    long WindowEndUs,
    int Revision,
    FusedStatus Status,
    double[] Posterior,
    int TopClass,
    string? TopLabel,
    double Confidence,
    double Entropy,
    IReadOnlyDictionary<string, double> Weights,
    IReadOnlyList<string> Missing,
    IReadOnlyList<string> Imputed,
    float[] FusedEmbedding,
    IReadOnlyDictionary<string, StreamState> States,
    long WatermarkLagUs,
    string Policy) : ProtocolMessage, IWithSessionId, ISealed
{
    /// <summary>
    /// Selective prediction: the result is <see cref="FusedStatus.Fused"/> but its <see cref="Confidence"/> is below the
    /// session's <see cref="Specs.SessionSpec.UncertainBelow"/>, so a consumer should not act on it alone. Always false
    /// when the spec's threshold is 0 (the default).
    /// </summary>
    public bool Uncertain { get; init; }

    /// <summary>Set on results to the session's own client: the seal of its incarnation (<see cref="SessionOpened.Seal"/>), which the client checks.</summary>
    public string? Seal { get; init; }
}
