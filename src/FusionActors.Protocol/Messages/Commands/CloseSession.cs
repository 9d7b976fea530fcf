namespace FusionActors.Protocol;

public sealed record CloseSession(string SessionId, string? Credential = null) : ProtocolMessage, ICredentialed;
