namespace FusionActors.Protocol;

/// <summary>
/// Every frame of the session with event time before <see cref="ThroughUs"/> has been processed: its evidence
/// reached the alignment and every window it belongs to was fused (or it was rejected, or too late). A client
/// may forget those frames. <see cref="long.MaxValue"/>: the session finished and everything is committed.
/// </summary>
/// <remarks>
/// A frame is committed only once its windows were fused, not when its evidence reaches the alignment: sessions
/// hold their state in memory, so evidence in a window not fused yet would die with its node.
/// </remarks>
/// <param name="Seal">On commits to the session's own client: the seal of its incarnation, which the client checks.</param>
public sealed record FramesCommitted(string SessionId, long ThroughUs, string? Seal = null) : ProtocolMessage, IWithSessionId, ISealed;
