using FusionActors.Core.Alignment;
using FusionActors.Protocol.Specs;

namespace FusionActors.Core.Fusion.Policies;

/// <summary>
/// What a <see cref="IWeightingPolicy"/> may weigh a modality by in one window: the modality's streams and their
/// static weights, its pooled evidence and how fresh it is, and the streams' health.
/// </summary>
/// <param name="Policy">The session's current policy, with its argument.</param>
/// <param name="Modality">The modality being weighed.</param>
/// <param name="Streams">The modality's streams, in spec order (at least one).</param>
/// <param name="PriorWeight">Mean prior weight of <paramref name="Streams"/>.</param>
/// <param name="FreshnessTauUs">Mean freshness time constant τ of <paramref name="Streams"/>.</param>
/// <param name="LogP">Pooled calibrated log-posterior, or null when the evidence carries none (embeddings only).</param>
/// <param name="NewestEvidenceUs">Information time of the newest evidence (a frozen sensor's repeats keep their first time).</param>
/// <param name="Window">The window being decided.</param>
/// <param name="Snapshots">Health of the session's streams, by stream id.</param>
/// <param name="FixedWeights">The spec's static weights per modality.</param>
/// <param name="Learned">The node's learned head, for the <c>learned</c> policy; null when the node has none.</param>
public readonly ref struct ModalityEvidence(
    FusionPolicy Policy,
    string Modality,
    StreamSpec[] Streams,
    double PriorWeight,
    double FreshnessTauUs,
    double[]? LogP,
    long NewestEvidenceUs,
    AlignedWindow Window,
    IReadOnlyDictionary<string, StreamSnapshot> Snapshots,
    IReadOnlyDictionary<string, double> FixedWeights,
    ILearnedWeighting? Learned = null)
{
    public FusionPolicy Policy { get; } = Policy;
    public string Modality { get; } = Modality;
    public StreamSpec[] Streams { get; } = Streams;
    public double PriorWeight { get; } = PriorWeight;
    public double FreshnessTauUs { get; } = FreshnessTauUs;
    public double[]? LogP { get; } = LogP;
    public long NewestEvidenceUs { get; } = NewestEvidenceUs;
    public AlignedWindow Window { get; } = Window;
    public IReadOnlyDictionary<string, StreamSnapshot> Snapshots { get; } = Snapshots;
    public IReadOnlyDictionary<string, double> FixedWeights { get; } = FixedWeights;
    public ILearnedWeighting? Learned { get; } = Learned;

    /// <summary>
    /// Mean drift of the modality's evidence in the window (<see cref="FusionActors.Core.Streams.Evidence.Drift"/>: 0 = typical of
    /// training, larger = less typical), over the evidence that was scored; NaN when none was.
    /// </summary>
    public double Drift { get; init; } = double.NaN;

    /// <summary>
    /// Mean over the modality's streams of the reliability each had when it produced its evidence (0 for a stream
    /// with no snapshot).
    /// </summary>
    public double Reliability
    {
        get
        {
            var r = 0.0;
            foreach (var x in Streams) r += Snapshots.TryGetValue(x.StreamId, out var snap) ? snap.ReliabilityOfEvidence : 0.0;
            return r / Streams.Length;
        }
    }

    /// <summary>c = 1 − H/log K of the pooled posterior; 1 without one.</summary>
    public double Confidence => LogP is { Length: > 0 } ? Probabilities.ConfidenceOfLog(LogP) : 1.0;

    /// <summary>f = exp(−age/τ), age = window end − <see cref="NewestEvidenceUs"/> (never negative).</summary>
    public double Freshness
    {
        get
        {
            var age = Math.Max(0, Window.EndUs - NewestEvidenceUs);
            return Math.Exp(-age / FreshnessTauUs);
        }
    }
}
