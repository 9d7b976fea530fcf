namespace FusionActors.Protocol;

// Fault injection for drills (the chaos palette): real failures in a running session, never a mock. Operator only.

/// <summary>The stream's encoder throws on its next batch, as a real crash would.</summary>
public sealed record CrashEncoder(string SessionId, string StreamId, string? Credential = null) : ProtocolMessage, IOperatorCommand;

/// <summary>The stream drops every frame it receives for <see cref="Duration"/> (counted), as a sensor outage would.</summary>
public sealed record DropFrames(string SessionId, string StreamId, TimeSpan Duration, string? Credential = null) : ProtocolMessage, IOperatorCommand;
