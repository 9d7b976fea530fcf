namespace FusionActors.Core.Time;

/// <summary>
/// The time and randomness an actor reads, injected together: wall time, monotonic time for timeouts and
/// cooldowns, and jitter. <see cref="System"/> is the machine's; a spec passes a <see cref="ManualClock"/>.
/// </summary>
public sealed record TimeSources(IClock Wall, IMonotonicClock Monotonic, IRandomSource Random)
{
    public static TimeSources System { get; } = new(SystemClock.Instance, SystemMonotonicClock.Instance, SystemRandomSource.Instance);

    /// <summary>Wall and monotonic time both from <paramref name="clock"/>; the system's jitter unless given.</summary>
    public static TimeSources Manual(ManualClock clock, IRandomSource? random = null) =>
        new(clock, clock, random ?? SystemRandomSource.Instance);
}
