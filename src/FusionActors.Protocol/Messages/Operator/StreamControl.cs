namespace FusionActors.Protocol;

/// <summary>An operator revives a Failed stream (resets its restart budget).</summary>
public sealed record RestartStream(string SessionId, string StreamId, string? Credential = null) : ProtocolMessage, IOperatorCommand;

/// <summary>An operator takes a stream out of the fusion: it is Failed ("disabled") and its frames are refused until enabled.</summary>
public sealed record DisableStream(string SessionId, string StreamId, string? Credential = null) : ProtocolMessage, IOperatorCommand;

/// <summary>An operator puts a disabled (or Failed) stream back: its encoder restarts and it becomes Active.</summary>
public sealed record EnableStream(string SessionId, string StreamId, string? Credential = null) : ProtocolMessage, IOperatorCommand;
