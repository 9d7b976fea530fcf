namespace FusionActors.Protocol;

/// <summary>
/// One message on a stream. <see cref="Seq"/> starts at 0 and grows by one per frame of the stream;
/// <see cref="EventTimeUs"/> is microseconds on the session clock, stamped by the client.
/// </summary>
/// <remarks>A frame from the wire is taken only through the session's frame sink or inside a <see cref="FrameBatch"/> with the capability.</remarks>
public sealed record Frame(string SessionId, string StreamId, long Seq, long EventTimeUs, float[] Payload) : ProtocolMessage, IWithSessionId
{
    /// <summary>
    /// The W3C <c>traceparent</c> of the client's <c>push</c> span, when the client traces (optional). From the wire it is
    /// either a valid version-00 traceparent (<see cref="W3CTraceContext"/>) or null: an invalid one is ignored, an
    /// oversized one fails the message.
    /// </summary>
    public string? TraceParent { get; init; }

    public int PayloadBytes => Payload.Length * sizeof(float);
}

/// <summary>Several frames of one session in one message (the batched form clients should use).</summary>
/// <param name="Credential">The session capability; needed only outside the session's frame sink.</param>
public sealed record FrameBatch(string SessionId, IReadOnlyList<Frame> Frames, string? Credential = null) : ProtocolMessage, ICredentialed;

/// <summary>A client's explicit promise: no more frames with event time &lt;= <see cref="WatermarkUs"/> on this stream.</summary>
public sealed record StreamHeartbeat(string SessionId, string StreamId, long WatermarkUs, string? Credential = null) : ProtocolMessage, ICredentialed;

/// <summary>The client closes a stream: its watermark becomes +infinity.</summary>
public sealed record CloseStream(string SessionId, string StreamId, string? Credential = null) : ProtocolMessage, ICredentialed;
