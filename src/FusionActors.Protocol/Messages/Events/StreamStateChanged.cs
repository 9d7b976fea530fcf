namespace FusionActors.Protocol;

/// <summary>A stream changed health state; published to subscribers and logged.</summary>
public sealed record StreamStateChanged(string SessionId, string StreamId, StreamState From, StreamState To, string Reason) : ProtocolMessage, IWithSessionId, ISealed
{
    /// <summary>Set on what goes to the session's own client: the seal it checks.</summary>
    public string? Seal { get; init; }
}
