namespace FusionActors.Protocol;

/// <summary>The gateway's answer to a message it does not serve: typed, never a crash.</summary>
public sealed record UnsupportedMessage(string MessageType, string Reason) : ProtocolMessage;
