namespace FusionActors.Core.Alignment;

/// <summary>Tumbling and sliding windows: [origin + k·hop, origin + k·hop + length).</summary>
public readonly record struct WindowGrid(long OriginUs, long LengthUs, long HopUs)
{
    public long StartOf(long k) => OriginUs + k * HopUs;

    /// <summary>Indexes of every window that contains <paramref name="timeUs"/>.</summary>
    public (long First, long Last) WindowsContaining(long timeUs)
    {
        var last = FloorDiv(timeUs - OriginUs, HopUs);
        var first = FloorDiv(timeUs - OriginUs - LengthUs, HopUs) + 1;
        return (first, last);
    }

    public static long FloorDiv(long a, long b) => a >= 0 ? a / b : -((-a + b - 1) / b);
}
