namespace FusionActors.Core.Time;

/// <summary>
/// Where wall time comes from: microseconds since the Unix epoch. Rules never read a clock; the actors that
/// drive them take one of these, so a spec (or a replay) can move time by hand.
/// </summary>
public interface IClock
{
    long NowUs { get; }
}

/// <summary>The machine's UTC clock.</summary>
public sealed class SystemClock : IClock
{
    public static readonly SystemClock Instance = new();

    private SystemClock()
    {
    }

    public long NowUs => (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) / 10;
}

/// <summary>
/// A clock that moves only when told to: for specs, and for replaying recorded time. It serves as the wall
/// clock and as the monotonic one (its microseconds in milliseconds), so one <see cref="Advance(System.TimeSpan)"/> moves both.
/// </summary>
public sealed class ManualClock(long startUs = 0) : IClock, IMonotonicClock
{
    private long _nowUs = startUs;

    public long NowUs => Interlocked.Read(ref _nowUs);

    long IMonotonicClock.NowMs => NowUs / 1000;

    public void Advance(TimeSpan by) => Advance(by.Ticks / 10);

    public void Advance(long us) => Interlocked.Add(ref _nowUs, us);

    public void Set(long us) => Interlocked.Exchange(ref _nowUs, us);
}
