using FusionActors.Protocol.Specs;

namespace FusionActors.Core.Specs;

/// <summary>
/// Upper bounds on what a session spec may ask of a node (fusion.limits in config/fusion.hocon, with these
/// defaults). Every field of a spec has one, so that no spec costs a node more than a bounded amount.
/// </summary>
public sealed record SpecLimits
{
    public static SpecLimits Default { get; } = new();

    /// <summary>No bound but what the rules need to work at all: what the rule classes check their specs against.</summary>
    public static SpecLimits Unbounded { get; } = new()
    {
        MaxSessions = int.MaxValue, MaxStreams = int.MaxValue, MaxLabels = int.MaxValue, MaxIdLength = int.MaxValue,
        MaxFrameBytes = int.MaxValue, MaxInputSamples = int.MaxValue, MaxInputsPerFrame = int.MaxValue, MaxWindowsPerInstant = int.MaxValue,
        MinWindowHopUs = 1, MaxDurationUs = long.MaxValue, MaxFutureSkewUs = long.MaxValue, MaxSampleRateHz = double.MaxValue,
        MaxPendingInputs = int.MaxValue, MaxBatch = int.MaxValue, MaxSeqAhead = int.MaxValue, MaxBufferedEvidence = int.MaxValue, MaxRetainedInputBytes = long.MaxValue,
        MaxWeight = double.MaxValue, MaxPendingEncoderInputs = int.MaxValue,
        MinLatencyBudgetUs = 1, MaxLatencyBudgetUs = long.MaxValue / 4, MaxPriority = int.MaxValue,
    };

    /// <summary>Sessions a node holds open at once (node-wide; the sessions' own limits are below). Default 20,000.</summary>
    public int MaxSessions { get; init; } = 20_000;

    /// <summary>Streams per session. Default 64.</summary>
    public int MaxStreams { get; init; } = 64;

    /// <summary>Class labels per session. Default 1024.</summary>
    public int MaxLabels { get; init; } = 1024;

    /// <summary>Characters in a session, stream, modality, model or label name. Default 128.</summary>
    public int MaxIdLength { get; init; } = 128;

    /// <summary>Bytes of one frame's payload (<see cref="StreamSpec.MaxFrameBytes"/>); under the transport's frame size. Default 2 MiB.</summary>
    public int MaxFrameBytes { get; init; } = 2 << 20;

    /// <summary>Samples in one encoder input of a windowed stream. Default 1,048,576.</summary>
    public int MaxInputSamples { get; init; } = 1 << 20;

    /// <summary>Encoder inputs that one frame of a windowed stream may start (length / hop). Default 100.</summary>
    public int MaxInputsPerFrame { get; init; } = 100;

    /// <summary>Windows one event-time instant may belong to (window length / hop). Default 1000.</summary>
    public int MaxWindowsPerInstant { get; init; } = 1000;

    /// <summary>Shortest window hop, µs. Default 1 ms.</summary>
    public long MinWindowHopUs { get; init; } = 1_000;

    /// <summary>Longest window, framing window, tolerance, out-of-orderness, lateness, idle timeout, freshness and impute horizon, µs. Default 1 h.</summary>
    public long MaxDurationUs { get; init; } = 3_600_000_000;

    /// <summary>Largest future skew a stream may allow, µs (an evaluation plays days ahead of the clock). Default 366 days.</summary>
    public long MaxFutureSkewUs { get; init; } = 366L * 86_400_000_000;

    /// <summary>Highest sample rate, Hz. Default 1 MHz.</summary>
    public double MaxSampleRateHz { get; init; } = 1_000_000;

    /// <summary>Encoder inputs a stream may hold waiting. Default 65,536.</summary>
    public int MaxPendingInputs { get; init; } = 65_536;

    /// <summary>
    /// Encoder inputs all the node's streams may hold at once, waiting for their encoders or in them (node-wide, like
    /// <see cref="MaxSessions"/>); at it, a stream holding its share of it refuses new frames with NodeFull (the node
    /// holds at most twice this). Default 20,000 (1.3 GB of 1 s 16 kHz audio inputs).
    /// </summary>
    public int MaxPendingEncoderInputs { get; init; } = 20_000;

    /// <summary>Encoder inputs per batch. Default 1024.</summary>
    public int MaxBatch { get; init; } = 1024;

    /// <summary>How far ahead of the lowest missing seq a frame may be (the dedupe window). Default 1,048,576.</summary>
    public int MaxSeqAhead { get; init; } = 1 << 20;

    /// <summary>Evidence the alignment may buffer. Default 1,048,576.</summary>
    public int MaxBufferedEvidence { get; init; } = 1 << 20;

    /// <summary>
    /// Bytes of input samples the windowed framers of one session may hold: the inputs the out-of-orderness keeps open
    /// and those kept for the allowed lateness (<see cref="Streams.WindowedFramer.RetainedBytes"/>). Default 64 MiB.
    /// </summary>
    public long MaxRetainedInputBytes { get; init; } = 64L << 20;

    /// <summary>Largest static prior or fixed weight. Default 1e6.</summary>
    public double MaxWeight { get; init; } = 1e6;

    /// <summary>Shortest latency budget of a latency-constrained session (<see cref="SessionSpec.LatencyBudgetUs"/>), µs. Default 1 ms.</summary>
    public long MinLatencyBudgetUs { get; init; } = 1_000;

    /// <summary>Longest latency budget of a session, µs. Default 60 s.</summary>
    public long MaxLatencyBudgetUs { get; init; } = 60_000_000;

    /// <summary>Highest stream priority (<see cref="StreamSpec.Priority"/>; the lowest is 0). Default 1000.</summary>
    public int MaxPriority { get; init; } = 1000;
}
