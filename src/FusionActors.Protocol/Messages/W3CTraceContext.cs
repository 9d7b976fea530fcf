namespace FusionActors.Protocol;

/// <summary>What a <c>traceparent</c> field received from the wire was found to be.</summary>
public enum TraceParentStatus
{
    /// <summary>A version-00 W3C traceparent: taken.</summary>
    Valid,

    /// <summary>Not 55 characters long.</summary>
    WrongLength,

    /// <summary>Not <c>vv-32 hex-16 hex-2 hex</c> in lowercase hex with dashes in their places.</summary>
    BadFormat,

    /// <summary>A version other than 00 (ff is invalid; later versions are not known to this node).</summary>
    UnsupportedVersion,

    /// <summary>An all-zero trace id or parent id, which W3C Trace Context declares invalid.</summary>
    ZeroId,
}

/// <summary>
/// The W3C Trace Context <c>traceparent</c> a client may attach to a frame (<see cref="Frame.TraceParent"/>):
/// <c>00-{trace id: 32 hex}-{parent span id: 16 hex}-{flags: 2 hex}</c>, exactly <see cref="Length"/> characters.
/// Input from the wire is checked byte by byte without allocating; a field that is not valid is ignored (the frame is
/// still taken, without a trace context), as the W3C recommendation asks, and counted in <see cref="Ignored"/>.
/// The flags are carried but never force the node to record: its sampler decides (docs/observability.md).
/// </summary>
public static class W3CTraceContext
{
    /// <summary>The length of a version-00 traceparent, and the most bytes the wire field may hold.</summary>
    public const int Length = 55;

    private static long _ignored;

    /// <summary>Traceparent fields received from the wire and ignored because they were not valid (since the process started).</summary>
    public static long Ignored => Interlocked.Read(ref _ignored);

    internal static void CountIgnored() => Interlocked.Increment(ref _ignored);

    /// <summary>Whether <paramref name="value"/> (ASCII) is a valid version-00 traceparent, and if not, why.</summary>
    public static TraceParentStatus Check(ReadOnlySpan<byte> value)
    {
        if (value.Length != Length) return TraceParentStatus.WrongLength;
        if (value[2] != '-' || value[35] != '-' || value[52] != '-') return TraceParentStatus.BadFormat;
        if (!Hex(value[..2]) || !Hex(value[3..35]) || !Hex(value[36..52]) || !Hex(value[53..])) return TraceParentStatus.BadFormat;
        if (value[0] != '0' || value[1] != '0') return TraceParentStatus.UnsupportedVersion;
        if (Zero(value[3..35]) || Zero(value[36..52])) return TraceParentStatus.ZeroId;
        return TraceParentStatus.Valid;
    }

    /// <summary>Whether <paramref name="value"/> is a valid version-00 traceparent, and if not, why.</summary>
    public static TraceParentStatus Check(string value)
    {
        if (value.Length != Length) return TraceParentStatus.WrongLength;
        Span<byte> ascii = stackalloc byte[Length];
        for (var i = 0; i < Length; i++)
        {
            if (value[i] > 0x7f) return TraceParentStatus.BadFormat;
            ascii[i] = (byte)value[i];
        }
        return Check(ascii);
    }

    private static bool Hex(ReadOnlySpan<byte> s)
    {
        foreach (var b in s)
            if (b is not (>= (byte)'0' and <= (byte)'9' or >= (byte)'a' and <= (byte)'f')) return false;
        return true;
    }

    private static bool Zero(ReadOnlySpan<byte> s)
    {
        foreach (var b in s)
            if (b != '0') return false;
        return true;
    }
}
