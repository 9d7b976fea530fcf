using FusionActors.Core.Specs;
using FusionActors.Protocol.Specs;

namespace FusionActors.Bench;

/// <summary>
/// Session specs of the benchmark. Event time advances 1 µs per frame, so a window of <c>F</c> µs holds
/// <c>F</c> frames of each stream and the future-skew check never interferes, however fast frames go.
/// </summary>
public static class BenchSessions
{
    public static readonly string[] Labels = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

    /// <summary>Two per-frame streams on the no-op encoder, maxOutOfOrderness 0, allowed lateness 0.</summary>
    public static SessionSpec Noop(string sessionId, int framesPerWindow, int frameLength = 4) => new()
    {
        SessionId = sessionId,
        Labels = Labels,
        Window = WindowSpec.Tumbling(framesPerWindow),
        AllowedLatenessUs = 0,
        Streams =
        [
            PerFrame("a", "imu", "noop", frameLength),
            PerFrame("b", "image", "noop", frameLength),
        ],
    };

    /// <summary>One per-frame stream on a real model (image-digits: 64 values, audio-digits: 16000).</summary>
    public static SessionSpec Model(string sessionId, string model, string modality, int frameLength, int framesPerWindow) => new()
    {
        SessionId = sessionId,
        Labels = Labels,
        Window = WindowSpec.Tumbling(framesPerWindow),
        AllowedLatenessUs = 0,
        Streams = [PerFrame("s", modality, model, frameLength)],
    };

    public static StreamSpec PerFrame(string id, string modality, string model, int frameLength) => new()
    {
        StreamId = id, Modality = modality, Model = model, FrameLength = frameLength,
        Framing = Framing.PerFrame, MaxOutOfOrdernessUs = 0,
    };

    /// <summary>Deterministic payload in [lo, hi].</summary>
    public static float[] Payload(int length, int seed, float lo = 0f, float hi = 1f)
    {
        var rng = new Random(seed);
        var p = new float[length];
        for (var i = 0; i < p.Length; i++) p[i] = lo + (float)rng.NextDouble() * (hi - lo);
        return p;
    }
}
