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

    /// <summary>Most entries of <see cref="Models"/> (a session's streams, at most 64 by default, share a few models).</summary>
    public const int MaxModels = 64;

    /// <summary>Most characters of one entry of <see cref="Models"/>: a model name, '@' and its version.</summary>
    public const int MaxModelTagLength = 160;

    /// <summary>
    /// The models that produced the evidence of this session's results, as <c>name@version</c> (models.json
    /// <c>"version"</c>), one per distinct model of its streams in spec order: fixed when the session opens, one list
    /// shared by all its results. At most <see cref="MaxModels"/> entries of 1 to <see cref="MaxModelTagLength"/>
    /// characters; anything else is refused (from the wire too: the message does not deserialize).
    /// </summary>
    public IReadOnlyList<string> Models
    {
        get => _models;
        init
        {
            ArgumentNullException.ThrowIfNull(value, nameof(Models));
            if (value.Count > MaxModels)
                throw new ArgumentException($"{value.Count} models, more than {MaxModels}", nameof(Models));
            foreach (var m in value)
                if (m is null || m.Length == 0 || m.Length > MaxModelTagLength)
                    throw new ArgumentException($"a model must be 1 to {MaxModelTagLength} characters", nameof(Models));
            _models = value;
        }
    }
    private readonly IReadOnlyList<string> _models = [];

    /// <summary>Set on results to the session's own client: the seal of its incarnation (<see cref="SessionOpened.Seal"/>), which the client checks.</summary>
    public string? Seal { get; init; }
}
