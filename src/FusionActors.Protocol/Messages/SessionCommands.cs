using Akka.Actor;
using Akka.Streams;
using FusionActors.Protocol.Specs;

namespace FusionActors.Protocol;

// Commands a client or operator sends to a session, and their answers. They cross the wire, so they live here, together.
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
public sealed record SessionResume(long CommittedThroughUs, Dictionary<string, long> NextSeq, long Epoch = 0, string? Credential = null,
    Dictionary<string, long[]>? HeldBelow = null) : ProtocolMessage;

/// <summary>
/// Every frame of the session with event time before <see cref="ThroughUs"/> has been processed: its evidence
/// reached the alignment and every window it belongs to was fused (or it was rejected, or too late). A client
/// may forget those frames. <see cref="long.MaxValue"/>: the session finished and everything is committed.
/// </summary>
/// <remarks>
/// A frame is committed only once its windows were fused, not when its evidence reaches the alignment: sessions
/// hold their state in memory, so evidence in a window not fused yet would die with its node.
/// </remarks>
/// <param name="Seal">On commits to the session's own client: the seal of its incarnation, which the client checks.</param>
public sealed record FramesCommitted(string SessionId, long ThroughUs, string? Seal = null) : ProtocolMessage, IWithSessionId, ISealed;

/// <param name="Frames">
/// The session's own endpoint. In-process code may send frames straight to it instead of through the shard
/// region; from the wire, frames go through <see cref="FrameSink"/> or in a <see cref="FrameBatch"/> with the capability.
/// </param>
/// <param name="FrameSink">
/// A back-pressured stream into the session (an Akka.Streams SinkRef) for frames, frame batches, heartbeats and
/// stream closes, in order; answered only to opens that name a <see cref="OpenSession.Client"/>. It fails when the
/// session's incarnation stops or the writer is fenced: the client then reopens with <see cref="SessionResume"/>.
/// </param>
/// <param name="Capability">
/// The session capability: an unguessable secret of this writer epoch. Every later operation on the session from
/// the wire carries it as its <see cref="ICredentialed.Credential"/>. Whoever holds it may act for the session's writer.
/// </param>
/// <param name="Epoch">The writer epoch: every open by a new writer raises it and fences the previous writer.</param>
/// <param name="Seal">What the session stamps on the results, commits and pings it sends its client, which drops anything else.</param>
/// <param name="Nonce">The <see cref="OpenSession.Nonce"/> this answers.</param>
public sealed record SessionOpened(
    string SessionId, IReadOnlyList<string> Streams, long ClockOffsetUs, IActorRef? Frames = null, ISinkRef<IWithSessionId>? FrameSink = null,
    string? Capability = null, long Epoch = 0, string? Seal = null, string? Nonce = null)
    : ProtocolMessage, IWithSessionId;

/// <summary>
/// Another writer opened the session (a higher epoch): this one may not write to it any more, and should not
/// reopen. Sent to the fenced client with the seal of its own epoch; also the answer to a reopen with a stale epoch.
/// </summary>
public sealed record SessionFenced(string SessionId, long Epoch, long CurrentEpoch, string Reason, string? Seal = null, string? Nonce = null)
    : ProtocolMessage, IWithSessionId;

/// <summary>
/// The node that would host the session holds its maximum of open sessions (fusion.limits.max-sessions): nothing
/// was built. Not final: the client retries, and an open succeeds once a session closes or passivates.
/// </summary>
public sealed record NodeFull(string SessionId, int OpenSessions, string? Nonce = null) : ProtocolMessage, IWithSessionId;

public sealed record CloseSession(string SessionId, string? Credential = null) : ProtocolMessage, ICredentialed;

public sealed record SessionClosed(string SessionId) : ProtocolMessage, IWithSessionId;

/// <summary>Results, state changes and late evidence of the session go to <see cref="Subscriber"/> until it stops.</summary>
public sealed record Subscribe(string SessionId, IActorRef Subscriber, string? Credential = null) : ProtocolMessage, ICredentialed;

public sealed record Unsubscribe(string SessionId, IActorRef Subscriber, string? Credential = null) : ProtocolMessage, ICredentialed;

public sealed record Subscribed(string SessionId) : ProtocolMessage, IWithSessionId;

/// <summary>An operator changes the fusion policy of a running session.</summary>
public sealed record SetFusionPolicy(string SessionId, FusionPolicy Policy, string? Credential = null) : ProtocolMessage, IOperatorCommand;

public sealed record GetSessionStatus(string SessionId, string? Credential = null) : ProtocolMessage, ICredentialed;

/// <summary>An operator revives a Failed stream (resets its restart budget).</summary>
public sealed record RestartStream(string SessionId, string StreamId, string? Credential = null) : ProtocolMessage, IOperatorCommand;

/// <summary>An operator takes a stream out of the fusion: it is Failed ("disabled") and its frames are refused until enabled.</summary>
public sealed record DisableStream(string SessionId, string StreamId, string? Credential = null) : ProtocolMessage, IOperatorCommand;

/// <summary>An operator puts a disabled (or Failed) stream back: its encoder restarts and it becomes Active.</summary>
public sealed record EnableStream(string SessionId, string StreamId, string? Credential = null) : ProtocolMessage, IOperatorCommand;

/// <summary>The gateway's answer to a message it does not serve: typed, never a crash.</summary>
public sealed record UnsupportedMessage(string MessageType, string Reason) : ProtocolMessage;

/// <summary>Asks a node's gateway for the cluster's members.</summary>
public sealed record GetClusterMembers : ProtocolMessage
{
    public static readonly GetClusterMembers Instance = new();
}

/// <summary>Addresses of the members that are up, and of those the answering node cannot reach.</summary>
public sealed record ClusterMembers(string[] Up, string[] Unreachable) : ProtocolMessage;

/// <summary>
/// The session asks its client for a reading of the session clock, to keep its estimate of the clock offset
/// (server time − session time) current by round trips, NTP-style, instead of relying on the reading at open.
/// It is also the session's sign of life, so it carries the seal of the session's incarnation.
/// </summary>
public sealed record ClockPing(string SessionId, long ServerSentUs, string? Seal = null) : ProtocolMessage, IWithSessionId, ISealed;

/// <summary>The client's answer to <see cref="ClockPing"/>: its session clock when it answered.</summary>
public sealed record ClockPong(string SessionId, long ServerSentUs, long ClientNowUs, string? Credential = null) : ProtocolMessage, ICredentialed;

/// <summary>A session's estimate of the clock offset moved; its stream and alignment actors use the new one.</summary>
public sealed record ClockOffsetChanged(long OffsetUs);
