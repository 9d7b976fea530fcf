using FusionActors.Core.Streams;
using FusionActors.Inference.Data;
using FusionActors.Protocol;
using FusionActors.Scenarios.Faults;
using FusionActors.Scenarios.Sessions;

namespace FusionActors.Scenarios.Playback;

/// <summary>Something the player does at a moment of the session: send a frame, or a fault drill.</summary>
public abstract record TimelineEvent(long SendAtUs);

public sealed record SendFrame(long SendAtUs, Frame Frame) : TimelineEvent(SendAtUs);

public sealed record CrashEncoderAt(long SendAtUs, string StreamId) : TimelineEvent(SendAtUs);

/// <param name="StreamIds">The streams to close; null = the AV-Digits session's audio and camera.</param>
public sealed record CloseStreams(long SendAtUs, IReadOnlyList<string>? StreamIds = null) : TimelineEvent(SendAtUs);

/// <summary>
/// A session played live: the frames of a <see cref="SensorScript"/> for one session, with the drills of its
/// <see cref="SensorFaults"/> (encoder crash, bad input) at their moments and the streams closed at the end;
/// sorted by the time each would reach the server.
/// </summary>
public static class Timeline
{
    public const int CameraFps = SensorScript.CameraFps;

    public static IReadOnlyList<TimelineEvent> Build(string sessionId, IReadOnlyList<AvDigitsItem> items, SensorFaults faults)
    {
        var events = new List<TimelineEvent>();
        foreach (var f in SensorScript.Build(faults, items).Frames)
            events.Add(new SendFrame(f.ArrivesAtUs, new Frame(sessionId, f.StreamId, f.Seq, f.EventTimeUs, f.Payload)));
        if (faults.CrashCameraEncoderAt is { } crash) events.Add(new CrashEncoderAt((long)(crash * 1e6), AvDigitsSession.CameraStream));
        if (faults.BadInputAt is { } bad) AddBadInput(events, sessionId, (long)(bad * 1e6), AvDigitsSession.CameraStream, AvDigitsSession.AudioStream, AvDigitsSession.AudioFrameSamples);
        var end = items.Count * 1_000_000L + 200_000;
        events.Add(new CloseStreams(end));
        return events.OrderBy(e => e.SendAtUs).ToList();
    }

    /// <summary>
    /// The timeline of a described session: the sensors' frames fanned out to its streams (<see cref="SessionFrames"/>);
    /// the encoder crash hits the first stream fed by the image, the bad input goes to the first image and audio streams.
    /// </summary>
    public static IReadOnlyList<TimelineEvent> Build(string sessionId, IReadOnlyList<AvDigitsItem> items, SensorFaults faults, SessionDescription session)
    {
        var events = new List<TimelineEvent>();
        foreach (var f in SessionFrames.Of(session, SensorScript.Build(faults, items).Frames))
            events.Add(new SendFrame(f.ArrivesAtUs, new Frame(sessionId, f.StreamId, f.Seq, f.EventTimeUs, f.Payload)));
        var image = session.FirstOf(StreamSource.Image);
        var audio = session.FirstOf(StreamSource.Audio);
        if (faults.CrashCameraEncoderAt is { } crash && image is not null) events.Add(new CrashEncoderAt((long)(crash * 1e6), image));
        if (faults.BadInputAt is { } bad) AddBadInput(events, sessionId, (long)(bad * 1e6), image, audio,
            session.Streams.FirstOrDefault(s => s.Id == audio)?.FrameLength ?? AvDigitsSession.AudioFrameSamples);
        var end = items.Count * 1_000_000L + 200_000;
        events.Add(new CloseStreams(end, session.Streams.Select(s => s.Id).ToArray()));
        return events.OrderBy(e => e.SendAtUs).ToList();
    }

    /// <summary>Camera sensor noise, as <see cref="SensorScript"/> draws it.</summary>
    public static float[] SensorNoise(float[] image, double sigma, Random rng) => SensorScript.SensorNoise(image, sigma, rng);

    /// <summary>
    /// Malformed frames a buggy sensor would send, and a retransmitted one: each is refused with its reason, by the client
    /// library before the wire (unknown stream, NaN, wrong size, too far ahead) or, sent raw, by the node.
    /// </summary>
    private static void AddBadInput(List<TimelineEvent> events, string sessionId, long at, string? camera, string? audio, int audioLength)
    {
        var nan = new float[AvDigitsSession.ImagePixels];
        nan[5] = float.NaN;
        if (camera is not null)
        {
            events.Add(new SendFrame(at, new Frame(sessionId, camera, 1_000_000, at, nan)));
            events.Add(new SendFrame(at, new Frame(sessionId, camera, 1_000_001, at, new float[10])));
        }
        events.Add(new SendFrame(at, new Frame(sessionId, "lidar", 0, at, new float[4])));
        if (audio is not null) events.Add(new SendFrame(at, new Frame(sessionId, audio, 0, 0, new float[audioLength])));
        if (camera is not null)
            events.Add(new SendFrame(at, new Frame(sessionId, camera, 1_000_002, at + 60_000_000, new float[AvDigitsSession.ImagePixels])));
    }
}
