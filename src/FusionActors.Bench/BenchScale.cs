namespace FusionActors.Bench;

/// <summary>Sizes of one bench run; <see cref="Quick"/> is about 10× smaller, for smoke tests.</summary>
public sealed record BenchScale
{
    public required string Name { get; init; }
    /// <summary>Sessions (2 streams each) run in parallel by (a), the ceiling and (c).</summary>
    public int Sessions { get; init; } = 32;
    /// <summary>Frames per stream per window (event time: 1 µs per frame, windows of this many µs).</summary>
    public int FramesPerWindow { get; init; } = 10;
    /// <summary>Windows sent and not yet fused, per session (the flow-control window).</summary>
    public int InFlightWindows { get; init; } = 4;
    /// <summary>Frames (both streams) through the pipeline in (a).</summary>
    public long PipelineFrames { get; init; }
    public int EncoderSessions { get; init; } = 4;
    public long ImageFrames { get; init; }
    public long AudioFrames { get; init; }
    public TimeSpan RawOnnxDuration { get; init; }
    public TimeSpan LatencyDuration { get; init; }
    public int MemorySessions { get; init; }
    /// <summary>When (after the first open) (d) measures the idle sessions again in their steady state; zero = not.</summary>
    public TimeSpan IdleSteadyAfter { get; init; }
    /// <summary>(d) density: session counts of the cost curve, each on a fresh node whose idle sessions hibernate.</summary>
    public IReadOnlyList<int> DensitySessions { get; init; } = [1_000, 10_000, 100_000];
    /// <summary>(d) density: sessions per measurement of 2, 4 and 8 streams per session.</summary>
    public int ModalitySessions { get; init; } = 5_000;
    /// <summary>Runs of (a) and its ceiling; the median run is reported (the same rule on both sides of the ratio).</summary>
    public int Repeats { get; init; } = 5;
    /// <summary>Runs of (b) through the actors and raw; the median of each is reported.</summary>
    public int EncoderRepeats { get; init; } = 3;
    /// <summary>Session counts of (e), each run with the batcher off and on.</summary>
    public IReadOnlyList<int> RealTimeSessions { get; init; } = [200, 1000];
    /// <summary>(e): seconds of real time before the measurement, and measured.</summary>
    public TimeSpan RealTimeWarmUp { get; init; } = TimeSpan.FromSeconds(4);
    public TimeSpan RealTimeMeasure { get; init; } = TimeSpan.FromSeconds(12);

    public static BenchScale Full { get; } = new()
    {
        Name = "full", PipelineFrames = 1_000_000, ImageFrames = 80_000, AudioFrames = 2_048,
        RawOnnxDuration = TimeSpan.FromSeconds(3), LatencyDuration = TimeSpan.FromSeconds(10), MemorySessions = 10_000,
        IdleSteadyAfter = TimeSpan.FromSeconds(20),
    };

    public static BenchScale Quick { get; } = new()
    {
        Name = "quick", PipelineFrames = 100_000, ImageFrames = 20_000, AudioFrames = 512,
        RawOnnxDuration = TimeSpan.FromSeconds(1), LatencyDuration = TimeSpan.FromSeconds(4), MemorySessions = 1_000, Repeats = 1, EncoderRepeats = 1,
        DensitySessions = [1_000, 5_000], ModalitySessions = 1_000,
        RealTimeSessions = [50, 200], RealTimeWarmUp = TimeSpan.FromSeconds(2), RealTimeMeasure = TimeSpan.FromSeconds(4),
    };
}
