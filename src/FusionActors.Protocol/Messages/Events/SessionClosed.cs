namespace FusionActors.Protocol;

public sealed record SessionClosed(string SessionId) : ProtocolMessage, IWithSessionId;
