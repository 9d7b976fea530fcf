
namespace FusionActors.Protocol;

/// <summary>Counters of one stream; every way a frame can be refused or lost has its own.</summary>
public sealed record StreamCounters
{
    public long FramesIn { get; init; }
    public long FramesAccepted { get; init; }
    public IReadOnlyDictionary<RejectReason, long> Rejected { get; init; } = new Dictionary<RejectReason, long>();
    /// <summary>Frames that arrived behind the stream watermark (out of order beyond the bound).</summary>
    public long FramesLate { get; init; }
    /// <summary>Late frames whose inputs were final: sent to the late-data side output.</summary>
    public long FramesTooLate { get; init; }
    public long InputsEncoded { get; init; }
    /// <summary>Inputs dropped by the pending buffer's overflow policy or while the stream was Failed.</summary>
    public long InputsShed { get; init; }
    public long EncoderFailures { get; init; }
    public long EncoderRestarts { get; init; }
    public long Quarantined { get; init; }
    public double EncodeMillisTotal { get; init; }
    public long Batches { get; init; }

    /// <summary>
    /// Frames shed for time under a latency-constrained delivery: taken (their seqs are used, their windows close and
    /// commit without them) but already over the stream's latency budget, so never framed.
    /// </summary>
    public long FramesShedOverBudget { get; init; }

    /// <summary>Encoder inputs shed for time under a latency-constrained delivery: over the stream's budget when their turn to be encoded came.</summary>
    public long InputsShedOverBudget { get; init; }

    /// <summary>Seqs given up as lost: gaps a whole dedupe window of later seqs went past.</summary>
    public long SeqsSkipped { get; init; }

    /// <summary>
    /// Inputs that repeated an encoded input exactly and got their evidence from the stream's repeat cache, without the
    /// model (counted in <see cref="InputsEncoded"/> too). A count from the wire is refused when negative.
    /// </summary>
    public long CacheHits { get; init => field = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(CacheHits), "a count is >= 0"); }

    /// <summary>Inputs sent to the model while the stream's repeat cache was on (a retried input is not counted again).</summary>
    public long CacheMisses { get; init => field = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(CacheMisses), "a count is >= 0"); }

    public long RejectedTotal => Rejected.Values.Sum();
}

public sealed record StreamStatus(
    string SessionId,
    string StreamId,
    string Modality,
    StreamState State,
    double Reliability,
    long WatermarkUs,
    long CompleteThroughUs,
    int PendingInputs,
    StreamCounters Counters) : ProtocolMessage, IWithSessionId
{
    /// <summary>The stream's input drift; null when its model has no drift parameters (its inputs are not scored).</summary>
    public StreamDrift? Drift { get; init; }
}

/// <summary>
/// How unlike the model's training data a stream's inputs are (drift: 0 = typical, 1 = the validation split's 95th
/// percentile, larger = less typical).
/// </summary>
/// <param name="Last">Drift of the newest scored input; NaN before the first.</param>
/// <param name="Mean">Mean drift of the scored inputs in the window ("input drift"); NaN when none.</param>
/// <param name="Window">Scored inputs in the window now (at most the configured window).</param>
/// <param name="Threshold">The configured alert threshold of the window's mean.</param>
/// <param name="Alerting">The mean went over the threshold and has not fallen back since.</param>
/// <param name="Alerts">Alerts raised since the stream started.</param>
/// <param name="Scored">Inputs scored since the stream started.</param>
public sealed record StreamDrift(double Last, double Mean, int Window, double Threshold, bool Alerting, long Alerts, long Scored)
{
    /// <summary>The largest window a node may configure (Fusion:Drift:Window).</summary>
    public const int MaxWindow = 100_000;

    // A status may come from the wire: refuse values no node could have sent.
    public double Last { get; init; } = double.IsNaN(Last) || Last is >= 0 and < double.PositiveInfinity ? Last : throw new ArgumentOutOfRangeException(nameof(Last), "a drift is NaN or a finite number >= 0");
    public double Mean { get; init; } = double.IsNaN(Mean) || Mean is >= 0 and < double.PositiveInfinity ? Mean : throw new ArgumentOutOfRangeException(nameof(Mean), "a drift is NaN or a finite number >= 0");
    public int Window { get; init; } = Window is >= 0 and <= MaxWindow ? Window : throw new ArgumentOutOfRangeException(nameof(Window), $"a drift window holds 0..{MaxWindow} inputs");
    public double Threshold { get; init; } = Threshold is > 0 and < double.PositiveInfinity ? Threshold : throw new ArgumentOutOfRangeException(nameof(Threshold), "a drift threshold is a positive number");
    public long Alerts { get; init; } = Alerts >= 0 ? Alerts : throw new ArgumentOutOfRangeException(nameof(Alerts), "a count is >= 0");
    public long Scored { get; init; } = Scored >= 0 ? Scored : throw new ArgumentOutOfRangeException(nameof(Scored), "a count is >= 0");
}

/// <param name="CommittedThroughUs">The last commit published to clients: frames before it are processed.</param>
/// <param name="WindowsSkipped">Empty windows a single watermark step passed over without reporting them (a jump of thousands).</param>
public sealed record AlignmentStatus(long WatermarkUs, long WindowsClosed, long Revisions, long LateEvidence, IReadOnlyDictionary<string, long> Shed, int BufferedEvidence,
    long CommittedThroughUs = long.MinValue, long WindowsSkipped = 0);

public sealed record FusionStatus(string Policy, long Results, long NoEvidence, long WindowsWithMissingModality, IReadOnlyList<FusedResult> Recent);

public sealed record SessionStatus(
    string SessionId,
    bool Open,
    IReadOnlyList<StreamStatus> Streams,
    AlignmentStatus? Alignment,
    FusionStatus? Fusion,
    string? Client = null) : ProtocolMessage, IWithSessionId;
