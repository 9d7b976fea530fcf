namespace FusionActors.Protocol;

/// <summary>
/// The session asks its client for a reading of the session clock, to keep its estimate of the clock offset
/// (server time − session time) current by round trips, NTP-style, instead of relying on the reading at open.
/// It is also the session's sign of life, so it carries the seal of the session's incarnation.
/// </summary>
public sealed record ClockPing(string SessionId, long ServerSentUs, string? Seal = null) : ProtocolMessage, IWithSessionId, ISealed;
