using FusionActors.Core.Time;
using FusionActors.Protocol;
using FusionActors.Protocol.Specs;

namespace FusionActors.Core.Streams;

/// <summary>What became of an admitted frame: behind the stream watermark, and past every input it belongs to.</summary>
/// <param name="WatermarkUs">The stream watermark before the frame: what its late-data side output reports.</param>
public readonly record struct FrameTaken(bool Late, bool TooLate, long WatermarkUs);

/// <summary>
/// The path from a stream's admitted frames to its encoder: the stream watermark, the framer the spec names, the
/// <see cref="EncoderQueue"/> the inputs wait in, and how far the stream's evidence is complete, published to the
/// alignment only when it moves on.
/// </summary>
public sealed class StreamInputs(StreamSpec spec, SessionSpec session)
{
    private readonly StreamWatermark _watermark = new(spec.MaxOutOfOrdernessUs);
    private readonly IFramer _framer = FramerFactory.Create(spec, session);
    private long _publishedUs = EventTime.MinusInfinity;

    public EncoderQueue Queue { get; } = EncoderQueue.For(spec);

    public long WatermarkUs => _watermark.CurrentUs;

    /// <summary>The latest event time of a frame taken (heartbeats aside); −∞ before the first.</summary>
    public long MaxEventTimeUs => _watermark.MaxEventTimeUs;

    /// <summary>Frames an admitted frame, then moves the watermark by its event time.</summary>
    public FrameTaken Add(Frame frame)
    {
        var before = _watermark.CurrentUs;
        var taken = new FrameTaken(_watermark.IsLate(frame.EventTimeUs), _framer.Add(frame, before) == FrameFate.TooLate, before);
        _watermark.OnEvent(frame.EventTimeUs);
        return taken;
    }

    /// <summary>
    /// A frame admitted and shed for time (<see cref="DeliveryBudget"/>): it moves the watermark by its event time as
    /// a taken frame does, so windows close without it, but makes no input.
    /// </summary>
    public void Skip(Frame frame) => _watermark.OnEvent(frame.EventTimeUs);

    /// <summary>A heartbeat: the client promises no frame at or before <paramref name="watermarkUs"/>.</summary>
    public void Heartbeat(long watermarkUs) => _watermark.OnExplicit(watermarkUs);

    /// <summary>The client closed the stream: every input still open is ready.</summary>
    public void Finish() => _watermark.Finish();

    /// <summary>
    /// Moves the inputs the watermark made ready into the queue, in start order, or drops them all when
    /// <paramref name="shed"/> (nothing waits for a failed stream); returns how many were shed either way.
    /// </summary>
    public int Drain(bool shed)
    {
        var dropped = 0;
        while (_framer.TryTake(_watermark.CurrentUs, out var input))
            if (shed || Queue.Enqueue(input) is not null) dropped++;
        return dropped;
    }

    /// <summary>How far the stream's evidence is complete: every input through it was encoded.</summary>
    /// <param name="floor">The caller only asks whether the result exceeds this: the scan stops once it cannot.</param>
    public long CompleteThrough(long floor = EventTime.MinusInfinity) => Queue.CompleteThrough(_framer.CompleteThroughUs(_watermark.CurrentUs), floor);

    /// <summary>How far evidence is complete, to publish now: when it moved past what was published, or at all when <paramref name="force"/>d.</summary>
    public long? Progress(bool force = false)
    {
        var complete = CompleteThrough(force ? EventTime.MinusInfinity : _publishedUs);
        if (!force && complete <= _publishedUs) return null;
        _publishedUs = Math.Max(_publishedUs, complete);
        return complete;
    }

    /// <summary>How far evidence is complete, published with evidence just encoded: it is what was published from now on.</summary>
    public long PublishWithEvidence() => _publishedUs = CompleteThrough();
}
