using Akka.Actor;
using Akka.Streams;

namespace FusionActors.Protocol;

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
/// <param name="CommittedThroughUs">
/// The answering incarnation's commit point. A client whose own is higher (it took commits from another incarnation after
/// it sent the open this answers) does not attach: it opens again with its resume point, which makes that incarnation
/// stop. <see cref="long.MinValue"/>: not said.
/// </param>
public sealed record SessionOpened(
    string SessionId, IReadOnlyList<string> Streams, long ClockOffsetUs, IActorRef? Frames = null, ISinkRef<IWithSessionId>? FrameSink = null,
    string? Capability = null, long Epoch = 0, string? Seal = null, string? Nonce = null, long CommittedThroughUs = long.MinValue)
    : ProtocolMessage, IWithSessionId;
