namespace FusionActors.Core.Time;

/// <summary>
/// Per-stream watermark: max event time seen minus the bounded out-of-orderness,
/// raised further by explicit client watermarks, +infinity once the stream is finished.
/// It never decreases. Semantics: docs/design.md, "Watermarks".
/// </summary>
public sealed class StreamWatermark
{
    private readonly long _maxOutOfOrdernessUs;
    private long _maxEventTimeUs = EventTime.MinusInfinity;

    public StreamWatermark(long maxOutOfOrdernessUs)
    {
        if (maxOutOfOrdernessUs < 0) throw new ArgumentOutOfRangeException(nameof(maxOutOfOrdernessUs));
        _maxOutOfOrdernessUs = maxOutOfOrdernessUs;
    }

    public long CurrentUs { get; private set; } = EventTime.MinusInfinity;

    public long MaxEventTimeUs => _maxEventTimeUs;

    public bool IsFinished => CurrentUs == EventTime.PlusInfinity;

    /// <summary>True when an event at this time is already behind the watermark (it is late).</summary>
    public bool IsLate(long eventTimeUs) => eventTimeUs <= CurrentUs;

    /// <summary>Records an event; returns true when the watermark advanced.</summary>
    public bool OnEvent(long eventTimeUs)
    {
        if (eventTimeUs > _maxEventTimeUs) _maxEventTimeUs = eventTimeUs;
        return Raise(EventTime.SaturatingSubtract(_maxEventTimeUs, _maxOutOfOrdernessUs));
    }

    /// <summary>An explicit promise from the client (heartbeat); returns true when it advanced.</summary>
    public bool OnExplicit(long watermarkUs) => Raise(watermarkUs);

    public void Finish() => CurrentUs = EventTime.PlusInfinity;

    private bool Raise(long candidate)
    {
        if (candidate <= CurrentUs) return false;
        CurrentUs = candidate;
        return true;
    }
}
