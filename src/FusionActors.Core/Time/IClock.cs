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

/// <summary>A clock that moves only when told to: for specs, and for replaying recorded time.</summary>
public sealed class ManualClock(long startUs = 0) : IClock
{
    private long _nowUs = startUs;

    public long NowUs => Interlocked.Read(ref _nowUs);

    public void Advance(long us) => Interlocked.Add(ref _nowUs, us);

    public void Set(long us) => Interlocked.Exchange(ref _nowUs, us);
}
