using FusionActors.Core.Streams;
using FusionActors.Core.Time;
using FusionActors.Protocol;

namespace FusionActors.Core.Alignment;

/// <summary>
/// Session watermark: the minimum over Active and Restarting streams of what each has
/// completed. Idle and Failed streams do not hold it back. A Finished stream counts until its last evidence
/// is in (its stream actor then reports +infinity). When no stream is Active, Restarting or Finished it
/// follows the session clock minus the largest out-of-orderness, so windows still close. It never decreases.
/// Semantics: docs/design.md, "Watermarks".
/// </summary>
public sealed class SessionWatermark
{
    private readonly Dictionary<string, (long Watermark, StreamState State)> _streams = new();
    private readonly long _maxOutOfOrdernessUs;

    public SessionWatermark(IEnumerable<string> streamIds, long maxOutOfOrdernessUs)
    {
        foreach (var id in streamIds) _streams[id] = (EventTime.MinusInfinity, StreamState.Active);
        _maxOutOfOrdernessUs = maxOutOfOrdernessUs;
    }

    public long CurrentUs { get; private set; } = EventTime.MinusInfinity;

    /// <summary>True when the last computation came from processing time because no stream was live.</summary>
    public bool FollowsProcessingTime { get; private set; }

    /// <summary>
    /// The minimum over the live and finished streams at the last computation, not held up by <see cref="CurrentUs"/>
    /// (which may be ahead of it after a stretch on processing time); <see cref="EventTime.MinusInfinity"/> while no
    /// stream counts. Windows closed on the clock become final once it passes them.
    /// </summary>
    public long EventTimeUs { get; private set; } = EventTime.MinusInfinity;

    public IEnumerable<string> StreamIds => _streams.Keys;

    public long StreamWatermarkUs(string streamId) => _streams[streamId].Watermark;

    public StreamState StateOf(string streamId) => _streams[streamId].State;

    public void SetWatermark(string streamId, long watermarkUs)
    {
        var s = _streams[streamId];
        if (watermarkUs > s.Watermark) _streams[streamId] = (watermarkUs, s.State);
    }

    public void SetState(string streamId, StreamState state)
    {
        var s = _streams[streamId];
        _streams[streamId] = (s.Watermark, state);
    }

    /// <summary>Recomputes; <paramref name="sessionNowUs"/> is the session clock when known. Returns true when it advanced.</summary>
    public bool Recompute(long? sessionNowUs)
    {
        var min = EventTime.PlusInfinity;
        var anyCounted = false;
        foreach (var (_, (wm, state)) in _streams)
        {
            if (state is StreamState.Active or StreamState.Restarting or StreamState.Finished)
            {
                anyCounted = true;
                if (wm < min) min = wm;
            }
        }
        long candidate;
        EventTimeUs = anyCounted ? min : EventTime.MinusInfinity;
        if (anyCounted)
        {
            candidate = min;
            FollowsProcessingTime = false;
        }
        else if (sessionNowUs is { } now)
        {
            candidate = now - _maxOutOfOrdernessUs;
            FollowsProcessingTime = true;
        }
        else return false;
        if (candidate <= CurrentUs) return false;
        CurrentUs = candidate;
        return true;
    }
}
