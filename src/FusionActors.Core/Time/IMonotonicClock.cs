namespace FusionActors.Core.Time;

/// <summary>
/// Elapsed time for timeouts and cooldowns: milliseconds from an arbitrary origin, never going back when the
/// wall clock is set. Rules take readings of it as arguments; the actors that drive them take one of these.
/// </summary>
public interface IMonotonicClock
{
    long NowMs { get; }
}

/// <summary>The machine's tick count (<see cref="Environment.TickCount64"/>).</summary>
public sealed class SystemMonotonicClock : IMonotonicClock
{
    public static readonly SystemMonotonicClock Instance = new();

    private SystemMonotonicClock()
    {
    }

    public long NowMs => Environment.TickCount64;
}
