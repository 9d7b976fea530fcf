using FusionActors.Protocol.Specs;

namespace FusionActors.Core.Streams;

/// <summary>
/// Makes the framer a stream's <see cref="StreamSpec.Framing"/> names. A new framing is a class implementing
/// <see cref="IFramer"/> and one entry here.
/// </summary>
public static class FramerFactory
{
    private static readonly Dictionary<FramingKind, Func<StreamSpec, SessionSpec, IFramer>> Framers = new()
    {
        [FramingKind.PerFrame] = PerFrame,
        [FramingKind.Windowed] = (stream, session) => new WindowedFramer(stream.StreamId, stream.Framing.LengthUs, stream.Framing.HopUs,
            stream.SampleRateHz, session.StartUs, session.AllowedLatenessUs),
    };

    /// <summary>The framer of <paramref name="stream"/> in <paramref name="session"/>; a kind with no entry frames per frame.</summary>
    public static IFramer Create(StreamSpec stream, SessionSpec session) =>
        Framers.TryGetValue(stream.Framing.Kind, out var make) ? make(stream, session) : PerFrame(stream, session);

    private static IFramer PerFrame(StreamSpec stream, SessionSpec session) => new PerFrameFramer(stream.StreamId, stream.FrameDurationUs);
}
