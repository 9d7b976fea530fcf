namespace FusionActors.Protocol.Specs;

/// <summary>What to do when a bounded buffer is full.</summary>
public enum OverflowPolicy
{
    /// <summary>Drop the oldest waiting item to make room (keeps the stream current).</summary>
    DropOldest,

    /// <summary>Refuse the newest item (keeps what is queued).</summary>
    DropNewest,
}

/// <summary>
/// One sensor stream of a session. Every property has a default that suits a live sensor.
/// </summary>
public sealed record StreamSpec
{
    /// <summary>Stream id, unique in its session (e.g. "audio", "cam0").</summary>
    public required string StreamId { get; init; }

    /// <summary>Modality the fusion weighs (audio, video, imu, text, ...).</summary>
    public required string Modality { get; init; }

    /// <summary>Encoder model name in models.json, or "noop" for the built-in no-op encoder.</summary>
    public required string Model { get; init; }

    /// <summary>Most characters of <see cref="ModelVersion"/>.</summary>
    public const int MaxModelVersionLength = 32;

    /// <summary>
    /// Pins <see cref="Model"/> to this version (models.json <c>"version"</c>): the session opens only on a node that
    /// still holds that version (the current one, or one a reload replaced that running sessions still use).
    /// 1 to <see cref="MaxModelVersionLength"/> letters, digits or <c>. _ - +</c>. Default null: the node's current version.
    /// </summary>
    public string? ModelVersion { get; init; }

    /// <summary>Number of float values in one frame's payload (the product of the frame shape).</summary>
    public required int FrameLength { get; init; }

    /// <summary>Values per second along time, for windowed framing (e.g. 16000 for 16 kHz PCM). Default 0.</summary>
    public double SampleRateHz { get; init; }

    /// <summary>How frames become encoder inputs. Default per-frame.</summary>
    public Framing Framing { get; init; } = Framing.PerFrame;

    /// <summary>Bounded out-of-orderness of the stream watermark. Default 50 ms.</summary>
    public long MaxOutOfOrdernessUs { get; init; } = 50_000;

    /// <summary>Processing time without any message after which the stream is Idle. Default 2 s.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How far ahead of the session clock an event time may be. Default 5 s.</summary>
    public long MaxFutureSkewUs { get; init; } = 5_000_000;

    /// <summary>Largest accepted payload in bytes (4 per float). Default 1 MiB.</summary>
    public int MaxFrameBytes { get; init; } = 1 << 20;

    /// <summary>Static prior weight s_m of the modality. Default 1.</summary>
    public double PriorWeight { get; init; } = 1.0;

    /// <summary>
    /// Shedding priority: lower is shed first when a shared buffer is full, and first under a latency-constrained
    /// delivery (<see cref="DeliveryPolicy"/>). In [0, fusion.limits.max-priority]. Default 0.
    /// </summary>
    public int Priority { get; init; }

    /// <summary>Freshness time constant τ_m. Default 1 s.</summary>
    public long FreshnessTauUs { get; init; } = 1_000_000;

    /// <summary>Cap of encoder inputs waiting for the encoder (incl. during restarts). Default 256.</summary>
    public int MaxPendingInputs { get; init; } = 256;

    /// <summary>What happens to inputs when the pending buffer is full. Default drop-oldest.</summary>
    public OverflowPolicy Overflow { get; init; } = OverflowPolicy.DropOldest;

    /// <summary>Most inputs sent to the encoder in one batch. Default 32.</summary>
    public int MaxBatch { get; init; } = 32;

    /// <summary>How far ahead of the lowest unseen seq a frame may be before it is refused (the dedupe bitmap's size). Default 1024.</summary>
    public int MaxSeqAhead { get; init; } = 1024;

    /// <summary>Duration a per-frame input covers in event time (0 = a point in time). Default 0.</summary>
    public long FrameDurationUs { get; init; }

    /// <summary>Largest event-time span of one frame for windowed framing, derived from the sample rate.</summary>
    public long FrameSpanUs => SampleRateHz > 0 ? (long)Math.Round(FrameLength * 1e6 / SampleRateHz) : FrameDurationUs;

    /// <summary>Values in one encoder input.</summary>
    public int InputLength => Framing.Kind == FramingKind.PerFrame
        ? FrameLength
        : (int)Math.Round(Framing.LengthUs * SampleRateHz / 1e6);
}
