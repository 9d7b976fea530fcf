namespace FusionActors.Core.Time;

/// <summary>
/// Time that moves only when its driver sets it, for a replay: wall and monotonic readings each set to what a recording
/// says they were. Actors given one schedule none of their time-driven checks (idle checks, the processing-time
/// tick): the driver sends them as messages at the recorded readings, so a replay runs as fast as the machine allows
/// and decides the same on every run.
/// </summary>
public sealed class DrivenClock(long wallUs, long monoMs) : IClock, IMonotonicClock
{
    private long _wallUs = wallUs;
    private long _monoMs = monoMs;

    public long NowUs => Interlocked.Read(ref _wallUs);

    public long NowMs => Interlocked.Read(ref _monoMs);

    public void Set(long wallUs, long monoMs)
    {
        Interlocked.Exchange(ref _wallUs, wallUs);
        Interlocked.Exchange(ref _monoMs, monoMs);
    }

    /// <summary>Whether <paramref name="clock"/> is driven by messages rather than by timers.</summary>
    public static bool Drives(object clock) => clock is DrivenClock;
}
