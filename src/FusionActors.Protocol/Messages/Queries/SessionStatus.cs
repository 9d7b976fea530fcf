
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

    /// <summary>Seqs given up as lost: gaps a whole dedupe window of later seqs went past.</summary>
    public long SeqsSkipped { get; init; }

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
    StreamCounters Counters) : ProtocolMessage, IWithSessionId;

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
