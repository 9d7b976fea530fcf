using Akka.Actor;
using FusionActors.Protocol.Specs;

namespace FusionActors.Protocol;

// From the wire, every operation after the open carries a credential (ICredentialed): see docs/security.md.

/// <summary>Opens a session. <see cref="ClientNowUs"/> is the session clock at send time (clock offset estimate).</summary>
/// <param name="Token">One of the node's session tokens (fusion.security.session-tokens), when it has any.</param>
/// <param name="Resume">Set when a client reopens a session after a reconnect or failover.</param>
/// <param name="Client">
/// The client's session actor: it is subscribed to the session's results, commits and state changes, and
/// gets the rejections of frames that arrive through the session's frame sink.
/// </param>
/// <param name="Nonce">A secret of the client's, echoed in the answer so that no one else can answer in the session's name.</param>
public sealed record OpenSession(SessionSpec Spec, long ClientNowUs, string? Token = null, SessionResume? Resume = null, IActorRef? Client = null,
    string? Nonce = null) : ProtocolMessage, IWithSessionId
{
    // In-process code can build one with a null spec; the shard region's id extractor must not throw on it.
    public string SessionId => Spec?.SessionId ?? string.Empty;
}

/// <summary>
/// Where a reopened session picks up. An incarnation that already runs ignores the resume point (it still has its
/// state); a new one (the old node died, or the session passivated) starts there instead of at the beginning.
/// </summary>
/// <param name="CommittedThroughUs">The last <see cref="FramesCommitted.ThroughUs"/> the client got: windows before it were fused.</param>
/// <param name="NextSeq">Per stream, where the run of seqs the client holds or has not pushed starts; lower seqs count as taken but for <see cref="HeldBelow"/>.</param>
/// <param name="Epoch">The writer epoch the client was given (<see cref="SessionOpened.Epoch"/>): a lower one than the session's is fenced.</param>
/// <param name="Credential">The capability the client was given: with its epoch, it shows the reopen comes from the same writer.</param>
/// <param name="HeldBelow">Per stream, seqs below <see cref="NextSeq"/> that the client still holds and will replay; every other seq below is done.</param>
/// <param name="DeliveredRevisions">
/// Per window start at or after <see cref="CommittedThroughUs"/>, the highest revision the client has delivered: the new
/// incarnation numbers its results of those windows above it, so that they supersede what the client has (a window an
/// earlier incarnation closed empty on the clock, fused now with the replayed frames) instead of repeating its key.
/// </param>
/// <param name="Generation">
/// How many times the client has opened the session before: the new incarnation numbers its revisions from a floor this
/// sets, above anything an earlier incarnation delivered, even after the client took its resume point.
/// </param>
public sealed record SessionResume(long CommittedThroughUs, Dictionary<string, long> NextSeq, long Epoch = 0, string? Credential = null,
    Dictionary<string, long[]>? HeldBelow = null, Dictionary<long, int>? DeliveredRevisions = null, int Generation = 0) : ProtocolMessage;
