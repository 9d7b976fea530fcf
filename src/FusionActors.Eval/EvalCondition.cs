using FusionActors.Scenarios;
using FusionActors.Scenarios.Faults;

namespace FusionActors.Eval;

/// <summary>
/// One named, seeded condition of the fault matrix: a line for the report and the <see cref="SensorFaults"/> the
/// two sensors and the network have in it. Everything random is drawn from the faults' seed, so a condition is the
/// same frames on every run.
/// </summary>
public sealed record EvalCondition
{
    public required string Name { get; init; }

    /// <summary>One line for the report: what the sensors and the network do.</summary>
    public required string Description { get; init; }

    public required SensorFaults Faults { get; init; }

    public int Seed => Faults.Seed;

    /// <summary>
    /// A modality the faults are aimed at: only that modality's streams get the faulted sensor's frames, every other
    /// stream gets the clean sensors' (same seed). Null: the faults act on the sensors, so every stream a faulted
    /// sensor feeds sees them (the conditions of <see cref="All"/>).
    /// </summary>
    public string? Target { get; init; }

    /// <summary>Not in the issue's matrix: run by default, but never chosen as "the worst corruption" of the targets.</summary>
    public bool Extra { get; init; }

    /// <summary>Per-frame camera sensor noise σ of every condition but the image-noise ones: the clean sensor's.</summary>
    public const double CleanCameraNoise = SensorFaults.CleanCameraNoise;

    public static IReadOnlyList<EvalCondition> All { get; } =
    [
        new() { Name = "clean", Faults = new() { Seed = 101 }, Description = "both sensors clean (camera sensor noise σ=0.05), no network faults" },
        new() { Name = "audio-missing", Faults = new() { Seed = 102, AudioMissing = true }, Description = "the microphone is connected but never sends a frame (heartbeats only)" },
        new() { Name = "image-missing", Faults = new() { Seed = 103, CameraMissing = true }, Description = "the camera is connected but never sends a frame (heartbeats only)" },
        new() { Name = "audio-snr-20", Faults = new() { Seed = 104, AudioNoise = new(20) }, Description = "white noise on the audio at 20 dB SNR" },
        new() { Name = "audio-snr-10", Faults = new() { Seed = 105, AudioNoise = new(10) }, Description = "white noise on the audio at 10 dB SNR" },
        new() { Name = "audio-snr-0", Faults = new() { Seed = 106, AudioNoise = new(0) }, Description = "white noise on the audio at 0 dB SNR" },
        new() { Name = "audio-snr-neg5", Faults = new() { Seed = 107, AudioNoise = new(-5) }, Description = "white noise on the audio at -5 dB SNR" },
        new() { Name = "audio-snr-neg10", Faults = new() { Seed = 118, AudioNoise = new(-10) }, Extra = true, Description = "extra point of the SNR sweep (not in the issue's matrix): white noise on the audio at -10 dB SNR" },
        new() { Name = "image-noise-low", Faults = new() { Seed = 108, CameraNoiseSigma = 0.2 }, Description = "camera sensor noise σ=0.2 on every frame" },
        new() { Name = "image-noise-high", Faults = new() { Seed = 109, CameraNoiseSigma = 0.5 }, Description = "camera sensor noise σ=0.5 on every frame" },
        new() { Name = "image-occlusion", Faults = new() { Seed = 110, OcclusionSide = 4 }, Description = "a 4×4 occluder (of 8×8, black or white) at a random place per item, on all its frames" },
        new() { Name = "image-noise-s10", Faults = new() { Seed = 119, CameraNoiseSigma = 0.1 }, Extra = true, Description = "extra point of the image-noise sweep: camera sensor noise σ=0.1 on every frame" },
        new() { Name = "image-noise-s30", Faults = new() { Seed = 120, CameraNoiseSigma = 0.3 }, Extra = true, Description = "extra point of the image-noise sweep: camera sensor noise σ=0.3 on every frame" },
        new() { Name = "image-noise-s70", Faults = new() { Seed = 121, CameraNoiseSigma = 0.7 }, Extra = true, Description = "extra point of the image-noise sweep: camera sensor noise σ=0.7 on every frame" },
        new() { Name = "image-occlusion-2", Faults = new() { Seed = 122, OcclusionSide = 2 }, Extra = true, Description = "extra point of the occlusion sweep: a 2×2 occluder (black or white) at a random place per item" },
        new() { Name = "image-occlusion-3", Faults = new() { Seed = 123, OcclusionSide = 3 }, Extra = true, Description = "extra point of the occlusion sweep: a 3×3 occluder (black or white) at a random place per item" },
        new() { Name = "image-occlusion-5", Faults = new() { Seed = 124, OcclusionSide = 5 }, Extra = true, Description = "extra point of the occlusion sweep: a 5×5 occluder (black or white) at a random place per item" },
        new() { Name = "image-occlusion-6", Faults = new() { Seed = 125, OcclusionSide = 6 }, Extra = true, Description = "extra point of the occlusion sweep: a 6×6 occluder (black or white) at a random place per item" },
        new() { Name = "camera-outage-intermittent", Faults = new() { Seed = 111, CameraOutages = new(6, 2, 8) }, Description = "the camera sends nothing for random stretches of 2-8 s (about 6 per 100 s; heartbeated while silent)" },
        new() { Name = "audio-dropout-intermittent", Faults = new() { Seed = 112, AudioDropouts = new(6, 1, 6) }, Description = "the microphone sends nothing for random stretches of 1-6 s, starting at any 100 ms (partial windows are zero-filled)" },
        new() { Name = "jitter-out-of-order", Faults = new() { Seed = 113, Network = new UniformJitter(MaxUs: 45_000) }, Description = "every frame delayed uniformly 0-45 ms: reordered, within the 50 ms out-of-orderness bound" },
        new() { Name = "late-beyond-bound", Faults = new() { Seed = 114, Network = new UniformJitter(VeryLateFraction: 0.05) }, Description = "5 % of frames arrive 0.4-0.6 s late, beyond out-of-orderness + allowed lateness (50 + 150 ms): late side output" },
        new() { Name = "clock-skew", Faults = new() { Seed = 115, CameraClockOffsetUs = 120_000 }, Description = "the camera's clock is 120 ms ahead: its event times are offset by +120 ms (not rewritten by the server)" },
        new() { Name = "encoder-crashes", Faults = new() { Seed = 116, PoisonFraction = 0.03 }, Description = "the encoder crashes on 3 % of camera frames and 3 % of audio inputs (restart with backoff, quarantine after 3 failures)" },
        new() { Name = "stale-video", Faults = new() { Seed = 117, CameraFreezes = new(8, 2, 6) }, Description = "the camera freezes for random stretches of 2-6 s, sending the exact last frame again at 10 fps" },
    ];

    public static EvalCondition Get(string name) =>
        All.FirstOrDefault(c => c.Name == name)
        ?? throw new UsageException($"unknown condition '{name}'; known: {string.Join(", ", All.Select(c => c.Name))}");

    /// <summary>The conditions of <paramref name="session"/>: <see cref="All"/>, then <see cref="Targeted"/>.</summary>
    public static IReadOnlyList<EvalCondition> For(EvalSession session) => [.. All, .. Targeted(session)];

    /// <summary>A condition of <see cref="For"/> by name.</summary>
    public static EvalCondition Get(string name, EvalSession session)
    {
        var all = For(session);
        return all.FirstOrDefault(c => c.Name == name)
               ?? throw new UsageException($"unknown condition '{name}' for this session; known: {string.Join(", ", all.Select(c => c.Name))}");
    }

    /// <summary>
    /// The conditions that fault one modality of a session file by name, for every modality other than audio and image
    /// (whose conditions are the sensors' of <see cref="All"/>: <c>audio-missing</c> silences every stream the microphone
    /// feeds). What a modality's payload supports: any stream can be missing or its encoder crash (on 3 % of its inputs,
    /// when an input is a whole sensor frame or item: not for the short windows of a VAD); a camera-fed one can be noisy
    /// (σ 0.5), occluded (4×4) or frozen; a microphone-fed one noisy (−5 dB SNR). Each uses the seed of the sensor
    /// condition it mirrors, so <c>ocr-noise-high</c> gives the OCR stream the very frames <c>image-noise-high</c> gives
    /// the camera, while the camera stream stays clean.
    /// </summary>
    public static IReadOnlyList<EvalCondition> Targeted(EvalSession session)
    {
        if (session.IsBuiltIn) return [];
        var list = new List<EvalCondition>();
        foreach (var m in session.AllModalities.Where(m => m is not ("audio" or "image")))
        {
            var streams = session.StreamsOf(m);
            var image = streams.All(s => s.Source == Scenarios.Sessions.StreamSource.Image);
            var audio = streams.All(s => s.Source == Scenarios.Sessions.StreamSource.Audio);
            if (!image && !audio) continue; // fed by both sensors: no one sensor's fault stands for it
            var what = $"the {m} stream{(streams.Count > 1 ? "s" : "")} ({string.Join(", ", streams.Select(s => s.Id))})";
            list.Add(new() { Name = $"{m}-missing", Target = m, Faults = new() { Seed = 102, AudioMissing = audio, CameraMissing = image },
                Description = $"{what} never send a frame (heartbeats only); the other streams are clean" });
            if (image)
            {
                list.Add(new() { Name = $"{m}-noise-high", Target = m, Faults = new() { Seed = 109, CameraNoiseSigma = 0.5 },
                    Description = $"camera sensor noise σ=0.5 on every frame of {what}; the other streams see the clean camera" });
                list.Add(new() { Name = $"{m}-occlusion", Target = m, Faults = new() { Seed = 110, OcclusionSide = 4 },
                    Description = $"a 4×4 occluder at a random place per item on {what}; the other streams see the clean camera" });
                list.Add(new() { Name = $"{m}-stale", Target = m, Faults = new() { Seed = 117, CameraFreezes = new(8, 2, 6) },
                    Description = $"{what} freeze for random stretches of 2-6 s, repeating the exact last frame; the other streams are clean" });
            }
            if (audio)
                list.Add(new() { Name = $"{m}-snr-neg5", Target = m, Faults = new() { Seed = 107, AudioNoise = new(-5) },
                    Description = $"white noise at -5 dB SNR on the audio of {what}; the other streams hear the clean microphone" });
            // A crash is drawn per sensor frame (camera) or per 1 s item (microphone): a stream whose inputs are those.
            if (streams.All(s => s.Source == Scenarios.Sessions.StreamSource.Image || s.Window is { LengthUs: SecondUs, HopUs: SecondUs }))
                list.Add(new() { Name = $"{m}-crashes", Target = m, Faults = new() { Seed = 116, PoisonFraction = 0.03 },
                    Description = $"the encoder of {what} crashes on 3 % of its inputs (restart with backoff, quarantine after 3 failures); the other encoders do not" });
        }
        return list;
    }

    private const long SecondUs = 1_000_000;

    /// <summary>Severity sweeps for the plots: condition name and severity, mildest first ("clean" is the start of each).</summary>
    public static readonly (string Name, double Level)[] SnrSweep =
        [("clean", 40), ("audio-snr-20", 20), ("audio-snr-10", 10), ("audio-snr-0", 0), ("audio-snr-neg5", -5), ("audio-snr-neg10", -10)];

    public static readonly (string Name, double Level)[] ImageNoiseSweep =
        [("clean", CleanCameraNoise), ("image-noise-s10", 0.1), ("image-noise-low", 0.2), ("image-noise-s30", 0.3), ("image-noise-high", 0.5), ("image-noise-s70", 0.7)];

    public static readonly (string Name, double Level)[] OcclusionSweep =
        [("clean", 0), ("image-occlusion-2", 2), ("image-occlusion-3", 3), ("image-occlusion", 4), ("image-occlusion-5", 5), ("image-occlusion-6", 6)];

    /// <summary>The one-modality corruptions (one sensor degraded, the other clean), for the adaptive-vs-fixed target.</summary>
    public static readonly string[] OneModalityCorruptions =
        ["audio-snr-20", "audio-snr-10", "audio-snr-0", "audio-snr-neg5", "image-noise-low", "image-noise-high", "image-occlusion"];
}
