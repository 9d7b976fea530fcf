using Akka.Actor;
using Akka.Streams;
using FusionActors.Protocol;
using FusionActors.Specs;

namespace FusionActors.Protocol;

// Commands a client or operator sends to a session. They cross the wire, so they live here, together.

/// <summary>Opens a session. <see cref="ClientNowUs"/> is the session clock at send time (clock offset estimate).</summary>
/// <param name="Resume">Set when a client reopens a session after a reconnect or failover (DESIGN §8).</param>
/// <param name="Client">
/// The client's session actor: it is subscribed to the session's results, commits and state changes, and
/// gets the rejections of frames that arrive through the session's frame sink.
/// </param>
public sealed record OpenSession(SessionSpec Spec, long ClientNowUs, string? Token = null, SessionResume? Resume = null, IActorRef? Client = null)
    : IWithSessionId
{
    public string SessionId => Spec.SessionId;
}

/// <summary>
/// Where a reopened session picks up. An incarnation that already runs ignores it (it still has its state);
/// a new one (the old node died, or the session passivated) starts there instead of at the beginning.
/// </summary>
/// <param name="CommittedThroughUs">The last <see cref="FramesCommitted.ThroughUs"/> the client got: windows before it were fused.</param>
/// <param name="NextSeq">Per stream, the lowest seq the client still holds (uncommitted); lower seqs count as taken.</param>
public sealed record SessionResume(long CommittedThroughUs, Dictionary<string, long> NextSeq);

/// <summary>
/// Every frame of the session with event time before <see cref="ThroughUs"/> has been processed: its evidence
/// reached the alignment and every window it belongs to was fused (or it was rejected, or too late). A client
/// may forget those frames. <see cref="long.MaxValue"/>: the session finished and everything is committed.
/// </summary>
/// <remarks>
/// DESIGN §8 commits a frame when its evidence reaches the alignment actor. Sessions hold their state in
/// memory, so evidence in a window that was not fused yet would die with its node; the commit waits until the
/// window is fused, which is what lets a failover lose no window.
/// </remarks>
public sealed record FramesCommitted(string SessionId, long ThroughUs) : IWithSessionId;

/// <param name="Frames">
/// The session's own frame endpoint. Frames may go straight to it instead of through the shard region
/// (the data path of DESIGN §8 does not route frames through the region); a client that does so must
/// watch it and, when it terminates (passivation, rebalance, failover), send through the region again.
/// </param>
/// <param name="FrameSink">
/// A back-pressured stream into the session (Akka.Streams SinkRef, DESIGN §8) for frames, frame batches,
/// heartbeats and stream closes, in order; answered only to opens that name a <see cref="OpenSession.Client"/>.
/// It fails when the session's incarnation stops: the client then reopens with <see cref="SessionResume"/>.
/// </param>
public sealed record SessionOpened(
    string SessionId, IReadOnlyList<string> Streams, long ClockOffsetUs, IActorRef? Frames = null, ISinkRef<IWithSessionId>? FrameSink = null)
    : IWithSessionId;

public sealed record CloseSession(string SessionId) : IWithSessionId;

public sealed record SessionClosed(string SessionId) : IWithSessionId;

/// <summary>Results, state changes and late evidence of the session go to <see cref="Subscriber"/> until it stops.</summary>
public sealed record Subscribe(string SessionId, IActorRef Subscriber) : IWithSessionId;

public sealed record Unsubscribe(string SessionId, IActorRef Subscriber) : IWithSessionId;

public sealed record Subscribed(string SessionId) : IWithSessionId;

/// <summary>Changes the fusion policy of a running session.</summary>
public sealed record SetFusionPolicy(string SessionId, FusionPolicy Policy) : IWithSessionId;

public sealed record GetSessionStatus(string SessionId) : IWithSessionId;

/// <summary>An operator revives a Failed stream (resets its restart budget).</summary>
public sealed record RestartStream(string SessionId, string StreamId) : IWithSessionId;

/// <summary>An operator takes a stream out of the fusion: it is Failed ("disabled") and its frames are refused until enabled.</summary>
public sealed record DisableStream(string SessionId, string StreamId) : IWithSessionId;

/// <summary>An operator puts a disabled (or Failed) stream back: its encoder restarts and it becomes Active.</summary>
public sealed record EnableStream(string SessionId, string StreamId) : IWithSessionId;

/// <summary>The gateway's answer to a message it does not serve (anything without a session id): typed, never a crash.</summary>
public sealed record UnsupportedMessage(string MessageType, string Reason);

/// <summary>Asks a node's gateway for the cluster's members.</summary>
public sealed record GetClusterMembers
{
    public static readonly GetClusterMembers Instance = new();
}

/// <summary>Addresses of the members that are up, and of those the answering node cannot reach.</summary>
public sealed record ClusterMembers(string[] Up, string[] Unreachable);

/// <summary>
/// The session asks its client for a reading of the session clock, to keep its estimate of the clock offset
/// (server time − session time) current by round trips, NTP-style, instead of relying on the reading at open.
/// </summary>
public sealed record ClockPing(string SessionId, long ServerSentUs) : IWithSessionId;

/// <summary>The client's answer to <see cref="ClockPing"/>: its session clock when it answered.</summary>
public sealed record ClockPong(string SessionId, long ServerSentUs, long ClientNowUs) : IWithSessionId;

/// <summary>A session's estimate of the clock offset moved; its stream and alignment actors use the new one.</summary>
public sealed record ClockOffsetChanged(long OffsetUs);
