namespace FusionActors.Protocol;

/// <summary>
/// Another writer opened the session (a higher epoch): this one may not write to it any more, and should not
/// reopen. Sent to the fenced client with the seal of its own epoch; also the answer to a reopen with a stale epoch.
/// </summary>
public sealed record SessionFenced(string SessionId, long Epoch, long CurrentEpoch, string Reason, string? Seal = null, string? Nonce = null)
    : ProtocolMessage, IWithSessionId;
