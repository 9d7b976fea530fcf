namespace FusionActors.Protocol;

public sealed record GetSessionStatus(string SessionId, string? Credential = null) : ProtocolMessage, ICredentialed;
