namespace FusionActors.Core.Streams;

/// <summary>
/// Why evidence of a stream is late when no window names it. On the wire it travels in place of
/// <c>LateEvidence.WindowEndUs</c>, as a negative value no window end takes (<see cref="LateMarks.AsWindowEndUs"/>).
/// </summary>
public enum LateMark : long
{
    /// <summary>It came later than the allowed lateness: every input or window it belongs to was final.</summary>
    PastAllowedLateness = -1,

    /// <summary>Its input was quarantined after repeated encoder failures: it never became evidence.</summary>
    Quarantined = -2,
}

public static class LateMarks
{
    /// <summary>The value <c>LateEvidence.WindowEndUs</c> carries for this mark.</summary>
    public static long AsWindowEndUs(this LateMark mark) => (long)mark;

    /// <summary>The mark a <c>LateEvidence.WindowEndUs</c> carries, if it is one rather than a window end.</summary>
    public static LateMark? FromWindowEndUs(long windowEndUs) =>
        Enum.IsDefined(typeof(LateMark), windowEndUs) ? (LateMark)windowEndUs : null;
}
