namespace FusionActors.Protocol;

public sealed record Subscribed(string SessionId) : ProtocolMessage, IWithSessionId;
