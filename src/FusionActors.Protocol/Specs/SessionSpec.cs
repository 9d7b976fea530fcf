namespace FusionActors.Protocol.Specs;

/// <summary>One fused scene: its streams, windows, fusion policy and bounds.</summary>
public sealed record SessionSpec
{
    public required string SessionId { get; init; }

    // Collections are copied into plain arrays and dictionaries: a spec crosses the wire at session open,
    // and compiler-made collection types (from [..] expressions) cannot be rebuilt by a serializer.
    public required IReadOnlyList<StreamSpec> Streams { get => _streams; init => _streams = [.. value]; }

    /// <summary>Windows the fusion decides on. Default tumbling 1 s.</summary>
    public WindowSpec Window { get; init; } = WindowSpec.Tumbling(1_000_000);

    /// <summary>Default adaptive.</summary>
    public FusionPolicy Policy { get; init; } = FusionPolicy.Adaptive;

    /// <summary>Evidence this late for a closed window still revises it. Default 0.</summary>
    public long AllowedLatenessUs { get; init; }

    /// <summary>Class labels of the decision (must match the encoders' logits). Default none (embedding only).</summary>
    public IReadOnlyList<string> Labels { get => _labels; init => _labels = [.. value]; }

    /// <summary>Static weights per modality for the fixed policy; missing entries use the stream's prior weight.</summary>
    public IReadOnlyDictionary<string, double> FixedWeights
    {
        get => _fixedWeights;
        init => _fixedWeights = value.Count == 0 ? NoWeights : new Dictionary<string, double>(value);
    }

    /// <summary>
    /// Streams that gate other streams' reliability (<see cref="StreamGate"/>), e.g. voice activity gating the audio.
    /// A gate's modality has no weight in the posterior. Default none.
    /// </summary>
    public IReadOnlyList<StreamGate> Gates { get => _gates; init => _gates = [.. value]; }

    private readonly StreamSpec[] _streams = [];
    private readonly StreamGate[] _gates = [];
    private readonly string[] _labels = [];
    private readonly IReadOnlyDictionary<string, double> _fixedWeights = NoWeights;

    private static readonly IReadOnlyDictionary<string, double> NoWeights = new Dictionary<string, double>();

    /// <summary>Cap of evidence buffered by the alignment; beyond it the lowest-priority modality is shed. Default 4096.</summary>
    public int MaxBufferedEvidence { get; init; } = 4096;

    /// <summary>
    /// Evidence of an earlier window may stand in for a missing modality when it is at most this old
    /// (its weight fades with freshness). Default 0: missing modalities are not imputed.
    /// </summary>
    public long ImputeHorizonUs { get; init; }

    /// <summary>
    /// Selective prediction: a fused result whose confidence (the posterior's max) is below this is marked
    /// <see cref="FusedResult.Uncertain"/>; the decision is still made and published. In [0, 1]; default 0: off.
    /// </summary>
    public double UncertainBelow { get; init; }

    /// <summary>Event time from which windows are counted (the session clock at open). Default 0.</summary>
    public long StartUs { get; init; }

    /// <summary>
    /// The client asks for the session to be recorded (docs/recording.md). Only a node with a recording directory
    /// (Fusion:Recording:Directory) records; elsewhere the flag changes nothing. Default false.
    /// </summary>
    public bool Record { get; init; }

    /// <summary>What the session does with frames the node cannot process in time (<see cref="DeliveryPolicy"/>). Default lossless.</summary>
    public DeliveryPolicy Delivery { get; init; } = DeliveryPolicy.Lossless;

    /// <summary>
    /// Under <see cref="DeliveryPolicy.LatencyConstrained"/>: how much later than it is due (its event time plus its
    /// stream's out-of-orderness) a frame or encoder input may still be processed; later ones are shed. Within
    /// fusion.limits.min-latency-budget and max-latency-budget. Default <see cref="DefaultLatencyBudgetUs"/>.
    /// </summary>
    public long LatencyBudgetUs { get; init; } = DefaultLatencyBudgetUs;

    /// <summary>The default <see cref="LatencyBudgetUs"/>: 50 ms.</summary>
    public const long DefaultLatencyBudgetUs = 50_000;

    public StreamSpec? FindStream(string streamId)
    {
        foreach (var s in Streams)
            if (s.StreamId == streamId) return s;
        return null;
    }
}
