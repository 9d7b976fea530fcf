namespace FusionActors.Runtime.Recording;

/// <summary>
/// From a replay's driver to the session it drives (in this process only: no serializer carries it): the recorded
/// clock reading has been set on the session's <see cref="Core.Time.DrivenClock"/>, and the time-driven step that read it
/// then runs now (a stream's idle check, or the alignment's processing-time tick).
/// </summary>
public sealed record ClockAdvanced(ClockSource Source, string? StreamId);

/// <summary>From a replay's driver: the session's clock offset moved to the recorded one.</summary>
public sealed record ReplayedOffset(long OffsetUs);
