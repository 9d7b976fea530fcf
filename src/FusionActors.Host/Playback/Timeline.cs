using FusionActors.Inference.Data;
using FusionActors.Core.Streams;
using FusionActors.Protocol;

namespace FusionActors.Host.Playback;

/// <summary>Something the player does at a moment of the session: send a frame, or a fault drill.</summary>
public abstract record TimelineEvent(long SendAtUs);

public sealed record SendFrame(long SendAtUs, Frame Frame) : TimelineEvent(SendAtUs);

public sealed record CrashEncoderAt(long SendAtUs, string StreamId) : TimelineEvent(SendAtUs);

public sealed record CloseStreams(long SendAtUs) : TimelineEvent(SendAtUs);

/// <summary>
/// Turns AV-Digits items into the frames two live sensors would send, item i filling the window [i, i+1) s,
/// with the faults of a <see cref="FaultPlan"/>; sorted by the time each would reach the server.
/// </summary>
public static class Timeline
{
    public const int CameraFps = 10;

    public static IReadOnlyList<TimelineEvent> Build(string sessionId, IReadOnlyList<AvDigitsItem> items, FaultPlan plan)
    {
        var rng = new Random(plan.Seed);
        var events = new List<TimelineEvent>();
        long audioSeq = 0, cameraSeq = 0;
        var audioFrames = AvDigitsSession.SampleRate / AvDigitsSession.AudioFrameSamples;
        for (var i = 0; i < items.Count; i++)
        {
            var item = items[i];
            var baseUs = i * 1_000_000L;
            var pcm = plan.InNoise(i + 0.5) ? AddNoise(item.Pcm, plan.AudioNoise!.Value.SnrDb, rng) : item.Pcm;
            for (var j = 0; j < audioFrames; j++)
            {
                var payload = new float[AvDigitsSession.AudioFrameSamples];
                Array.Copy(pcm, j * payload.Length, payload, 0, payload.Length);
                var t = baseUs + j * 20_000L;
                events.Add(new SendFrame(t + 20_000 + Delay(plan, rng), new Frame(sessionId, AvDigitsSession.AudioStream, audioSeq++, t, payload)));
            }
            for (var j = 0; j < CameraFps; j++)
            {
                var t = baseUs + j * (1_000_000L / CameraFps);
                if (plan.InOutage(t / 1e6)) continue;
                var image = SensorNoise(item.Image, plan.CameraSensorNoise, rng);
                events.Add(new SendFrame(t + Delay(plan, rng), new Frame(sessionId, AvDigitsSession.CameraStream, cameraSeq++, t, image)));
            }
        }
        if (plan.CrashCameraEncoderAt is { } crash) events.Add(new CrashEncoderAt((long)(crash * 1e6), AvDigitsSession.CameraStream));
        if (plan.BadInputAt is { } bad) AddBadInput(events, sessionId, (long)(bad * 1e6), audioSeq, cameraSeq);
        var end = items.Count * 1_000_000L + 200_000;
        events.Add(new CloseStreams(end));
        return events.OrderBy(e => e.SendAtUs).ToList();
    }

    /// <summary>Malformed frames a buggy sensor would send, and a retransmitted one: each must come back rejected with its reason.</summary>
    private static void AddBadInput(List<TimelineEvent> events, string sessionId, long at, long audioSeq, long cameraSeq)
    {
        var nan = new float[AvDigitsSession.ImagePixels];
        nan[5] = float.NaN;
        events.Add(new SendFrame(at, new Frame(sessionId, AvDigitsSession.CameraStream, 1_000_000, at, nan)));
        events.Add(new SendFrame(at, new Frame(sessionId, AvDigitsSession.CameraStream, 1_000_001, at, new float[10])));
        events.Add(new SendFrame(at, new Frame(sessionId, "lidar", 0, at, new float[4])));
        events.Add(new SendFrame(at, new Frame(sessionId, AvDigitsSession.AudioStream, 0, 0, new float[AvDigitsSession.AudioFrameSamples])));
        events.Add(new SendFrame(at, new Frame(sessionId, AvDigitsSession.CameraStream, 1_000_002, at + 60_000_000, new float[AvDigitsSession.ImagePixels])));
    }

    private static long Delay(FaultPlan plan, Random rng)
    {
        if (!plan.Jitter) return 0;
        var u = rng.NextDouble();
        if (u < 0.003) return 400_000 + rng.Next(100_000); // beyond the allowed lateness: side output
        if (u < 0.02) return 80_000 + rng.Next(40_000);    // behind the watermark, within the lateness: revisions
        return rng.Next(30_000);                            // reordered within the out-of-orderness bound
    }

    public static float[] AddNoise(float[] pcm, double snrDb, Random rng)
    {
        var power = 0.0;
        foreach (var v in pcm) power += v * v;
        power = Math.Max(power / pcm.Length, 1e-8);
        var sigma = Math.Sqrt(power / Math.Pow(10, snrDb / 10));
        var noisy = new float[pcm.Length];
        for (var i = 0; i < pcm.Length; i++) noisy[i] = (float)Math.Clamp(pcm[i] + sigma * Gaussian(rng), -1, 1);
        return noisy;
    }

    public static float[] SensorNoise(float[] image, double sigma, Random rng)
    {
        var noisy = new float[image.Length];
        for (var i = 0; i < image.Length; i++) noisy[i] = (float)Math.Clamp(image[i] + sigma * Gaussian(rng), 0, 1);
        return noisy;
    }

    private static double Gaussian(Random rng) =>
        Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
}
