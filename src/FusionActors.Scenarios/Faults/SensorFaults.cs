namespace FusionActors.Scenarios.Faults;

/// <summary>A stretch of session time, [<see cref="Start"/>, <see cref="End"/>) seconds.</summary>
public readonly record struct Interval(double Start, double End)
{
    public bool Contains(double t) => t >= Start && t < End;
}

/// <summary>Random stretches: about <paramref name="PerHundredSeconds"/> of them per 100 s, each lasting [MinSeconds, MaxSeconds].</summary>
public sealed record Stretches(double PerHundredSeconds, double MinSeconds, double MaxSeconds);

/// <summary>White noise added to each item's audio at this SNR (dB, over the whole 1 s item); in <see cref="During"/> only, or on every item.</summary>
public sealed record AudioNoise(double SnrDb, Interval? During = null)
{
    /// <summary>Whether the noise is on at session second <paramref name="t"/>.</summary>
    public bool At(double t) => During is not { } d || d.Contains(t);
}

/// <summary>How the network delivers each frame: its delay from the moment the sensor sends it.</summary>
public abstract record NetworkDelay;

/// <summary>
/// Jitter of a live network: most frames reordered within the out-of-orderness bound (0-30 ms), 1.7 % late but
/// within the allowed lateness (80-120 ms: revisions), 0.3 % beyond it (400-500 ms: the late side output).
/// </summary>
public sealed record LiveJitter : NetworkDelay;

/// <summary>
/// Every frame delayed uniformly in [0, <paramref name="MaxUs"/>) µs (reordering within the out-of-orderness bound),
/// and a fraction <paramref name="VeryLateFraction"/> of them 0.4-0.6 s, far beyond the allowed lateness.
/// </summary>
public sealed record UniformJitter(long MaxUs = 0, double VeryLateFraction = 0) : NetworkDelay;

/// <summary>
/// The faults of the two AV-Digits sensors (audio 16 kHz in 20 ms frames, camera 8×8 at 10 fps), of the network
/// between them and the server, and the drills a player runs on a schedule. One description for every scenario:
/// the demo's schedule, the evaluation's conditions and the push client's <c>--faults</c> are values of it, and
/// <see cref="SensorScript"/> turns one into frames. Everything random is drawn from <see cref="Seed"/>, so the same
/// faults over the same items are the same frames on every run.
/// </summary>
public sealed record SensorFaults
{
    /// <summary>The camera sensor noise of a clean camera (σ, pixel values in [0,1]).</summary>
    public const double CleanCameraNoise = 0.05;

    public int Seed { get; init; } = 7;

    /// <summary>The audio stream never sends a frame (it is heartbeated where the player does that: connected, silent).</summary>
    public bool AudioMissing { get; init; }

    /// <summary>White noise on the audio.</summary>
    public AudioNoise? AudioNoise { get; init; }

    /// <summary>Random stretches in which the microphone sends nothing, starting at any 100 ms.</summary>
    public Stretches? AudioDropouts { get; init; }

    /// <summary>The camera never sends a frame.</summary>
    public bool CameraMissing { get; init; }

    /// <summary>Camera sensor noise (σ, pixel values in [0,1]) on every frame.</summary>
    public double CameraNoiseSigma { get; init; } = CleanCameraNoise;

    /// <summary>A square occluder of this side (pixels) at a random place per item, on every frame of the item.</summary>
    public int OcclusionSide { get; init; }

    /// <summary>The camera sends nothing in this stretch of session seconds.</summary>
    public Interval? CameraOutage { get; init; }

    /// <summary>Random stretches in which the camera sends nothing.</summary>
    public Stretches? CameraOutages { get; init; }

    /// <summary>Random stretches in which the camera freezes: it keeps sending the exact last frame before the stretch.</summary>
    public Stretches? CameraFreezes { get; init; }

    /// <summary>Constant offset of the camera's clock (its event times), µs.</summary>
    public long CameraClockOffsetUs { get; init; }

    /// <summary>The network's delay of each frame; none when null.</summary>
    public NetworkDelay? Network { get; init; }

    /// <summary>Fraction of camera frames and of audio inputs (one per item) on which the encoder crashes.</summary>
    public double PoisonFraction { get; init; }

    /// <summary>The camera's encoder is crashed (a chaos drill, an operator's command) at this session second.</summary>
    public double? CrashCameraEncoderAt { get; init; }

    /// <summary>A few malformed and repeated frames are sent at this session second (they must be rejected, typed).</summary>
    public double? BadInputAt { get; init; }

    /// <summary>Whether the camera is in its outage at session second <paramref name="t"/>.</summary>
    public bool InOutage(double t) => CameraOutage is { } o && o.Contains(t);

    /// <summary>Whether the audio is noisy at session second <paramref name="t"/>.</summary>
    public bool InNoise(double t) => AudioNoise is { } n && n.At(t);

    /// <summary>
    /// The demo's schedule scaled to a run of <paramref name="seconds"/>: a camera outage, a stretch of -10 dB audio
    /// noise, live network jitter, a camera encoder crash and a burst of bad input.
    /// </summary>
    public static SensorFaults Demo(int seconds) => new()
    {
        CameraOutage = new(Math.Round(seconds * 0.25), Math.Round(seconds * 0.25) + Math.Max(3, Math.Round(seconds * 0.2))),
        AudioNoise = new(-10, new(Math.Round(seconds * 0.6), Math.Round(seconds * 0.6) + Math.Max(2, Math.Round(seconds * 0.12)))),
        Network = new LiveJitter(),
        CrashCameraEncoderAt = Math.Round(seconds * 0.85) + 0.35,
        BadInputAt = Math.Round(seconds * 0.15) + 0.5,
    };

    /// <summary>The faults a sensor client can cause, by name: what <see cref="Parse"/> takes.</summary>
    public const string ClientFaultNames = "none, demo, or a list of outage, noise, jitter, bad";

    /// <summary>
    /// The faults a sensor client plays, from text: <c>none</c>; <c>demo</c> (the demo's schedule without the encoder
    /// crash); or a comma list of <c>outage</c>, <c>noise</c>, <c>jitter</c>, <c>bad</c>, each as in the demo's schedule.
    /// A client cannot crash an encoder: chaos commands are the operator's (<c>fusionctl chaos crash-encoder</c>).
    /// </summary>
    /// <exception cref="UsageException">an unknown fault name, or <c>crash</c>.</exception>
    public static SensorFaults Parse(string spec, int seconds)
    {
        if (spec == "none") return new SensorFaults();
        var demo = Demo(seconds) with { CrashCameraEncoderAt = null };
        if (spec == "demo") return demo;
        var faults = new SensorFaults();
        foreach (var f in spec.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            faults = f switch
            {
                "outage" => faults with { CameraOutage = demo.CameraOutage },
                "noise" => faults with { AudioNoise = demo.AudioNoise },
                "jitter" => faults with { Network = new LiveJitter() },
                "crash" => throw new UsageException("a client cannot crash an encoder: chaos drills are the operator's (fusionctl chaos crash-encoder)"),
                "bad" => faults with { BadInputAt = demo.BadInputAt },
                _ => throw new UsageException($"unknown fault '{f}' ({ClientFaultNames})"),
            };
        return faults;
    }
}
