namespace FusionActors.Core.Time;

/// <summary>
/// Estimates the offset between the server clock and a client's session clock
/// (offset = server time − (client time + rtt/2)), keeping the sample with the smallest round trip
/// of a sliding set, as NTP does, and reports drift between the first and latest estimate.
/// Event times are never rewritten with it; it decides what "now" means on the session clock for
/// future-skew checks and for the processing-time watermark when every stream is idle (docs/design.md, "Time").
/// </summary>
public sealed class SessionClock
{
    private const int Samples = 8;
    private readonly (long Offset, long Rtt)[] _samples = new (long, long)[Samples];
    private int _count;
    private int _next;
    private long? _firstOffset;

    /// <summary>Best current estimate of server time − session time, in microseconds.</summary>
    public long OffsetUs { get; private set; }

    public bool HasEstimate => _count > 0;

    /// <summary>Latest estimate minus the first one: how far the client clock has drifted.</summary>
    public long DriftUs => _firstOffset is { } first ? OffsetUs - first : 0;

    /// <summary>Adds one round-trip sample (or a one-way sample with rtt 0).</summary>
    public void Observe(long serverNowUs, long clientTimeUs, long rttUs = 0)
    {
        if (rttUs < 0) throw new ArgumentOutOfRangeException(nameof(rttUs), "round trip cannot be negative");
        var offset = serverNowUs - (clientTimeUs + rttUs / 2);
        _samples[_next] = (offset, rttUs);
        _next = (_next + 1) % Samples;
        _count = Math.Min(_count + 1, Samples);
        var best = _samples[0];
        for (var i = 1; i < _count; i++)
            if (_samples[i].Rtt < best.Rtt) best = _samples[i];
        OffsetUs = best.Offset;
        _firstOffset ??= OffsetUs;
    }

    /// <summary>The session clock's "now" as seen from the server.</summary>
    public long SessionNowUs(long serverNowUs) => serverNowUs - OffsetUs;
}
