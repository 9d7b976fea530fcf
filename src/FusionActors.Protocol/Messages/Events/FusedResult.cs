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
    /// The models that produced the evidence of this result, as <c>name@version</c> (models.json <c>"version"</c>), in
    /// the order of the session's streams: for each stream the versions of its evidence in the window (both, old first,
    /// in a window a model switch split), or the version it runs when it has none there; each entry once. Consecutive
    /// results with the same versions share one list. At most <see cref="MaxModels"/> entries of 1 to <see cref="MaxModelTagLength"/>
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

    /// <summary>Most entries of <see cref="Gates"/> (one per gated modality).</summary>
    public const int MaxGates = 64;

    /// <summary>Most characters of a modality named in <see cref="Gates"/>.</summary>
    public const int MaxModalityLength = 128;

    /// <summary>
    /// The gate factor applied to each gated modality's weight in this window (<see cref="Specs.SessionSpec.Gates"/>:
    /// <c>floor + (1 − floor) · p</c>, the mean over the modality's streams, 1 for a stream whose gate had no evidence):
    /// present for a modality with evidence whose gate had evidence in the window, absent otherwise (nothing gated it).
    /// Empty for a session without gates. At most <see cref="MaxGates"/> entries, a modality of 1 to
    /// <see cref="MaxModalityLength"/> characters, a factor in [0, 1]; anything else is refused (from the wire too).
    /// </summary>
    public IReadOnlyDictionary<string, double> Gates
    {
        get => _gates;
        init
        {
            ArgumentNullException.ThrowIfNull(value, nameof(Gates));
            if (value.Count > MaxGates)
                throw new ArgumentException($"{value.Count} gated modalities, more than {MaxGates}", nameof(Gates));
            foreach (var (modality, factor) in value)
            {
                if (modality is null || modality.Length == 0 || modality.Length > MaxModalityLength)
                    throw new ArgumentException($"a gated modality must be 1 to {MaxModalityLength} characters", nameof(Gates));
                if (!(factor >= 0 && factor <= 1))
                    throw new ArgumentException($"the gate factor of '{modality}' must be in [0, 1], got {factor}", nameof(Gates));
            }
            _gates = value;
        }
    }
    private readonly IReadOnlyDictionary<string, double> _gates = NoGates;

    private static readonly IReadOnlyDictionary<string, double> NoGates = new Dictionary<string, double>();

    /// <summary>Set on results to the session's own client: the seal of its incarnation (<see cref="SessionOpened.Seal"/>), which the client checks.</summary>
    public string? Seal { get; init; }
}
