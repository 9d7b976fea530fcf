namespace FusionActors.Protocol.Specs;

public enum FramingKind
{
    /// <summary>Each frame is one encoder input (a camera image, an IMU vector).</summary>
    PerFrame,

    /// <summary>Frames are concatenated by event time into inputs of a fixed length starting every hop.</summary>
    Windowed,
}

/// <summary>How the frames of a stream become encoder inputs.</summary>
public sealed record Framing(FramingKind Kind, long LengthUs = 0, long HopUs = 0)
{
    public static Framing PerFrame { get; } = new(FramingKind.PerFrame);

    public static Framing Windowed(long lengthUs, long hopUs) => new(FramingKind.Windowed, lengthUs, hopUs);

    public override string ToString() =>
        Kind == FramingKind.PerFrame ? "per-frame" : $"windowed({LengthUs}us,{HopUs}us)";
}
