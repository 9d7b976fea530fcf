namespace FusionActors.Protocol;

// Fault injection for drills (the chaos palette): real failures in a running session, never a mock.

/// <summary>The stream's encoder throws on its next batch, as a real crash would.</summary>
public sealed record CrashEncoder(string SessionId, string StreamId) : IWithSessionId;
