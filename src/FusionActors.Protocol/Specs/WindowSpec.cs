namespace FusionActors.Protocol.Specs;

public enum WindowKind
{
    Tumbling,
    Sliding,

    /// <summary>One window per evidence of an anchor stream; others matched nearest within a tolerance.</summary>
    Anchor,
}

/// <summary>The event-time windows the fusion decides on.</summary>
public sealed record WindowSpec(WindowKind Kind, long LengthUs, long HopUs, string? AnchorStream = null, long ToleranceUs = 0)
{
    public static WindowSpec Tumbling(long lengthUs) => new(WindowKind.Tumbling, lengthUs, lengthUs);

    public static WindowSpec Sliding(long lengthUs, long hopUs) => new(WindowKind.Sliding, lengthUs, hopUs);

    public static WindowSpec Anchored(string anchorStream, long toleranceUs) =>
        new(WindowKind.Anchor, 2 * toleranceUs, 0, anchorStream, toleranceUs);
}
