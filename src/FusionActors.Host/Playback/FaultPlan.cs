namespace FusionActors.Host.Playback;

/// <summary>Faults injected into a played session, on a schedule in session seconds. Seeded, so a run can be repeated.</summary>
public sealed record FaultPlan
{
    /// <summary>Camera sends nothing in [start, end) seconds.</summary>
    public (double Start, double End)? CameraOutage { get; init; }

    /// <summary>White noise is added to the audio in [start, end) seconds at this SNR (dB).</summary>
    public (double Start, double End, double SnrDb)? AudioNoise { get; init; }

    /// <summary>Network delay of each frame: most within the out-of-orderness bound, a few beyond (late), rare ones beyond the lateness.</summary>
    public bool Jitter { get; init; }

    /// <summary>The camera's encoder is crashed (chaos) at this second.</summary>
    public double? CrashCameraEncoderAt { get; init; }

    /// <summary>A few malformed and repeated frames are sent at this second (they must be rejected, typed).</summary>
    public double? BadInputAt { get; init; }

    /// <summary>Camera sensor noise (σ, pixel values in [0,1]) on every frame.</summary>
    public double CameraSensorNoise { get; init; } = 0.05;

    public int Seed { get; init; } = 7;

    /// <summary>The demo's schedule scaled to a run of <paramref name="seconds"/>.</summary>
    public static FaultPlan Demo(int seconds) => new()
    {
        CameraOutage = (Math.Round(seconds * 0.25), Math.Round(seconds * 0.25) + Math.Max(3, Math.Round(seconds * 0.2))),
        AudioNoise = (Math.Round(seconds * 0.6), Math.Round(seconds * 0.6) + Math.Max(2, Math.Round(seconds * 0.12)), -10),
        Jitter = true,
        CrashCameraEncoderAt = Math.Round(seconds * 0.85) + 0.35,
        BadInputAt = Math.Round(seconds * 0.15) + 0.5,
    };

    public bool InOutage(double t) => CameraOutage is { } o && t >= o.Start && t < o.End;

    public bool InNoise(double t) => AudioNoise is { } n && t >= n.Start && t < n.End;
}
