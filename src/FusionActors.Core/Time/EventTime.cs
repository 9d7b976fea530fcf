namespace FusionActors.Core.Time;

/// <summary>
/// Event time is microseconds on the session clock (a <see cref="long"/>), stamped by the client.
/// These helpers keep the infinities and conversions in one place. Semantics: docs/design.md, "Time".
/// </summary>
public static class EventTime
{
    /// <summary>Watermark of a finished stream: nothing more will ever arrive.</summary>
    public const long PlusInfinity = long.MaxValue;

    /// <summary>Watermark of a stream that has promised nothing yet.</summary>
    public const long MinusInfinity = long.MinValue;

    public const long MicrosPerMilli = 1_000;
    public const long MicrosPerSecond = 1_000_000;

    public static long FromSeconds(double seconds) => (long)Math.Round(seconds * MicrosPerSecond);

    public static long FromMillis(double millis) => (long)Math.Round(millis * MicrosPerMilli);

    public static double ToSeconds(long micros) => micros / (double)MicrosPerSecond;

    public static double ToMillis(long micros) => micros / (double)MicrosPerMilli;

    /// <summary>Subtraction that saturates at the infinities instead of wrapping.</summary>
    public static long SaturatingSubtract(long a, long b)
    {
        if (a == PlusInfinity) return PlusInfinity;
        if (a == MinusInfinity) return MinusInfinity;
        var r = a - b;
        if (b > 0 && r > a) return MinusInfinity;
        if (b < 0 && r < a) return PlusInfinity;
        return r;
    }

    /// <summary>Addition that saturates at the infinities instead of wrapping.</summary>
    public static long SaturatingAdd(long a, long b)
    {
        if (a == PlusInfinity || a == MinusInfinity) return a;
        var r = a + b;
        if (b > 0 && r < a) return PlusInfinity;
        if (b < 0 && r > a) return MinusInfinity;
        return r;
    }

    public static string Format(long micros) => micros switch
    {
        PlusInfinity => "+inf",
        MinusInfinity => "-inf",
        _ => $"{ToSeconds(micros):0.000}s",
    };
}
