namespace FusionActors.Protocol;

/// <summary>A session's estimate of the clock offset moved; its stream and alignment actors use the new one.</summary>
public sealed record ClockOffsetChanged(long OffsetUs);
