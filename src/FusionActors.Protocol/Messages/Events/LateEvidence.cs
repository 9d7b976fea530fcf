namespace FusionActors.Protocol;

/// <summary>Evidence that came later than the allowed lateness: the late-data side output. Counted, never silently dropped.</summary>
public sealed record LateEvidence(string SessionId, string StreamId, long StartUs, long LastSeq, long WindowEndUs, long SessionWatermarkUs) : ProtocolMessage, IWithSessionId, ISealed
{
    /// <summary>Set on what goes to the session's own client: the seal it checks.</summary>
    public string? Seal { get; init; }
}
