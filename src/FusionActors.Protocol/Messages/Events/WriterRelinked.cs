using Akka.Actor;

namespace FusionActors.Protocol;

/// <summary>
/// The session's writer reopened it through another link: its reconnect reached another node's ingress, where a new
/// link speaks for it. The link it left is told where the writer went, so that it hands over what it kept for it
/// (<see cref="RelinkedOutput"/>). Sealed with the incarnation's seal, which only the session and its links know.
/// </summary>
public sealed record WriterRelinked(string SessionId, IActorRef To, string? Seal = null) : ProtocolMessage, IWithSessionId, ISealed;

/// <summary>
/// What a link kept for its writer while the writer was away (results, commits, rejections, as the ingress sends them
/// to a client), handed to the writer's new link. At most <see cref="MaxMessages"/> messages, and a chunk stays well
/// under the wire's payload cap; sealed like <see cref="WriterRelinked"/>.
/// </summary>
public sealed record RelinkedOutput(string SessionId, byte[][] Messages, string? Seal = null) : ProtocolMessage, IWithSessionId, ISealed
{
    public const int MaxMessages = 4096;

    /// <summary>Raw bytes in one chunk at most (base64 in the JSON wire makes a third more).</summary>
    public const int MaxChunkBytes = 384 << 10;
}
