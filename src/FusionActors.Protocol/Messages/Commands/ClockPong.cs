namespace FusionActors.Protocol;

/// <summary>The client's answer to <see cref="ClockPing"/>: its session clock when it answered.</summary>
public sealed record ClockPong(string SessionId, long ServerSentUs, long ClientNowUs, string? Credential = null) : ProtocolMessage, ICredentialed;
