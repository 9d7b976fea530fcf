namespace FusionActors.Protocol;

/// <summary>An operator turns a running session's recording on (a new file) or off (docs/recording.md).</summary>
public sealed record SetRecording(string SessionId, bool On, string? Credential = null) : ProtocolMessage, IOperatorCommand;
