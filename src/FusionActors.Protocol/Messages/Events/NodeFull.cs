namespace FusionActors.Protocol;

/// <summary>
/// The node that would host the session holds its maximum of open sessions (fusion.limits.max-sessions): nothing
/// was built. Not final: the client retries, and an open succeeds once a session closes or passivates.
/// </summary>
public sealed record NodeFull(string SessionId, int OpenSessions, string? Nonce = null) : ProtocolMessage, IWithSessionId;
