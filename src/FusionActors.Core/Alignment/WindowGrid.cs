using FusionActors.Protocol.Specs;

namespace FusionActors.Core.Alignment;

/// <summary>Tumbling and sliding windows: [origin + k·hop, origin + k·hop + length).</summary>
public readonly record struct WindowGrid(long OriginUs, long LengthUs, long HopUs)
{
    /// <summary>The grid of <paramref name="session"/>'s tumbling or sliding windows; null for anchor windows, which have none.</summary>
    public static WindowGrid? Of(SessionSpec session) =>
        session.Window.Kind is WindowKind.Tumbling or WindowKind.Sliding
            ? new WindowGrid(session.StartUs, session.Window.LengthUs, Math.Max(1, session.Window.HopUs))
            : null;

    public long StartOf(long k) => OriginUs + k * HopUs;

    /// <summary>Indexes of every window that contains <paramref name="timeUs"/>.</summary>
    public (long First, long Last) WindowsContaining(long timeUs)
    {
        var last = FloorDiv(timeUs - OriginUs, HopUs);
        var first = FloorDiv(timeUs - OriginUs - LengthUs, HopUs) + 1;
        return (first, last);
    }

    /// <summary>
    /// The start of the first window that starts after <paramref name="timeUs"/>: every window that contains a time
    /// before it starts before it, and none that starts at or after it does.
    /// </summary>
    public long NextStartAfter(long timeUs) => StartOf(FloorDiv(timeUs - OriginUs, HopUs) + 1);

    public static long FloorDiv(long a, long b) => a >= 0 ? a / b : -((-a + b - 1) / b);
}
