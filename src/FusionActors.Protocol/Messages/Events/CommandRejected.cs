namespace FusionActors.Protocol;

/// <summary>A command for a session that was refused, with the reasons.</summary>
/// <param name="Nonce">A refused open echoes <see cref="OpenSession.Nonce"/>, so the client knows the refusal answers its own open.</param>
public sealed record CommandRejected(string SessionId, string Command, string Reason, string? Nonce = null) : ProtocolMessage, IWithSessionId;
