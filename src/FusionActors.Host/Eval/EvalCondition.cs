namespace FusionActors.Host.Eval;

/// <summary>
/// One named, seeded scenario of the fault matrix: what the two sensors (audio 16 kHz in 20 ms frames,
/// camera 8×8 at 10 fps) send for each one-second item, and how the network delivers it.
/// Everything random is drawn from <see cref="Seed"/>, so a condition is the same frames on every run.
/// </summary>
public sealed record EvalCondition
{
    public required string Name { get; init; }

    /// <summary>One line for the report: what the sensors and the network do.</summary>
    public required string Description { get; init; }

    public int Seed { get; init; }

    /// <summary>The audio stream never sends a frame (it is heartbeated: connected, silent).</summary>
    public bool AudioMissing { get; init; }

    /// <summary>The camera never sends a frame (heartbeated).</summary>
    public bool CameraMissing { get; init; }

    /// <summary>White noise added to each item's audio at this SNR (dB, over the whole 1 s window).</summary>
    public double? AudioSnrDb { get; init; }

    /// <summary>Per-frame camera sensor noise σ (pixels in [0,1]); every condition has the clean sensor's 0.05.</summary>
    public double CameraNoiseSigma { get; init; } = CleanCameraNoise;

    /// <summary>A square occluder of this side (pixels) at a random place per item, on every frame of the item.</summary>
    public int OcclusionSide { get; init; }

    /// <summary>Stretches (seconds) in which the camera sends nothing: count per 100 items, length range.</summary>
    public Stretches? CameraOutages { get; init; }

    /// <summary>Stretches in which the microphone sends nothing.</summary>
    public Stretches? AudioDropouts { get; init; }

    /// <summary>Stretches in which the camera freezes: it keeps sending the exact last frame before the stretch.</summary>
    public Stretches? CameraFreezes { get; init; }

    /// <summary>Network delay of every frame, uniform in [0, max) µs (reordering within the out-of-orderness bound).</summary>
    public long JitterMaxUs { get; init; }

    /// <summary>Fraction of frames delayed far beyond the allowed lateness (they go to the late side output).</summary>
    public double VeryLateFraction { get; init; }

    /// <summary>Constant offset of the camera's clock (its event times), µs.</summary>
    public long CameraClockOffsetUs { get; init; }

    /// <summary>Fraction of camera frames and of audio inputs (one per item) on which the encoder crashes.</summary>
    public double PoisonFraction { get; init; }

    /// <summary>Not in the issue's matrix: run by default, but never chosen as "the worst corruption" of the targets.</summary>
    public bool Extra { get; init; }

    public const double CleanCameraNoise = 0.05;

    /// <summary>Random stretches: about <paramref name="PerHundredSeconds"/> of them per 100 s, each lasting [MinSeconds, MaxSeconds].</summary>
    public sealed record Stretches(double PerHundredSeconds, double MinSeconds, double MaxSeconds);

    public static IReadOnlyList<EvalCondition> All { get; } =
    [
        new() { Name = "clean", Seed = 101, Description = "both sensors clean (camera sensor noise σ=0.05), no network faults" },
        new() { Name = "audio-missing", Seed = 102, AudioMissing = true, Description = "the microphone is connected but never sends a frame (heartbeats only)" },
        new() { Name = "image-missing", Seed = 103, CameraMissing = true, Description = "the camera is connected but never sends a frame (heartbeats only)" },
        new() { Name = "audio-snr-20", Seed = 104, AudioSnrDb = 20, Description = "white noise on the audio at 20 dB SNR" },
        new() { Name = "audio-snr-10", Seed = 105, AudioSnrDb = 10, Description = "white noise on the audio at 10 dB SNR" },
        new() { Name = "audio-snr-0", Seed = 106, AudioSnrDb = 0, Description = "white noise on the audio at 0 dB SNR" },
        new() { Name = "audio-snr-neg5", Seed = 107, AudioSnrDb = -5, Description = "white noise on the audio at -5 dB SNR" },
        new() { Name = "audio-snr-neg10", Seed = 118, AudioSnrDb = -10, Extra = true, Description = "extra point of the SNR sweep (not in the issue's matrix): white noise on the audio at -10 dB SNR" },
        new() { Name = "image-noise-low", Seed = 108, CameraNoiseSigma = 0.2, Description = "camera sensor noise σ=0.2 on every frame" },
        new() { Name = "image-noise-high", Seed = 109, CameraNoiseSigma = 0.5, Description = "camera sensor noise σ=0.5 on every frame" },
        new() { Name = "image-occlusion", Seed = 110, OcclusionSide = 4, Description = "a 4×4 occluder (of 8×8, black or white) at a random place per item, on all its frames" },
        new() { Name = "camera-outage-intermittent", Seed = 111, CameraOutages = new(6, 2, 8), Description = "the camera sends nothing for random stretches of 2-8 s (about 6 per 100 s; heartbeated while silent)" },
        new() { Name = "audio-dropout-intermittent", Seed = 112, AudioDropouts = new(6, 1, 6), Description = "the microphone sends nothing for random stretches of 1-6 s, starting at any 100 ms (partial windows are zero-filled)" },
        new() { Name = "jitter-out-of-order", Seed = 113, JitterMaxUs = 45_000, Description = "every frame delayed uniformly 0-45 ms: reordered, within the 50 ms out-of-orderness bound" },
        new() { Name = "late-beyond-bound", Seed = 114, VeryLateFraction = 0.05, Description = "5 % of frames arrive 0.4-0.6 s late, beyond out-of-orderness + allowed lateness (50 + 150 ms): late side output" },
        new() { Name = "clock-skew", Seed = 115, CameraClockOffsetUs = 120_000, Description = "the camera's clock is 120 ms ahead: its event times are offset by +120 ms (not rewritten by the server)" },
        new() { Name = "encoder-crashes", Seed = 116, PoisonFraction = 0.03, Description = "the encoder crashes on 3 % of camera frames and 3 % of audio inputs (restart with backoff, quarantine after 3 failures)" },
        new() { Name = "stale-video", Seed = 117, CameraFreezes = new(8, 2, 6), Description = "the camera freezes for random stretches of 2-6 s, sending the exact last frame again at 10 fps" },
    ];

    public static EvalCondition Get(string name) =>
        All.FirstOrDefault(c => c.Name == name)
        ?? throw new Commands.UsageException($"unknown condition '{name}'; known: {string.Join(", ", All.Select(c => c.Name))}");

    /// <summary>The one-modality corruptions (one sensor degraded, the other clean), for the adaptive-vs-fixed target.</summary>
    public static readonly string[] OneModalityCorruptions =
        ["audio-snr-20", "audio-snr-10", "audio-snr-0", "audio-snr-neg5", "image-noise-low", "image-noise-high", "image-occlusion"];
}
