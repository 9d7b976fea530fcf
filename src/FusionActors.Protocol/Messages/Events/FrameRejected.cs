namespace FusionActors.Protocol;

/// <summary>Why a frame was not taken. Every reason is counted.</summary>
public enum RejectReason
{
    UnknownSession,
    UnknownStream,
    WrongPayloadSize,
    NotFinite,
    /// <summary>A value outside the range the stream's model accepts.</summary>
    OutOfRange,
    /// <summary>A seq that was already taken: dropped idempotently.</summary>
    Duplicate,
    /// <summary>A negative seq, or one too far ahead of the lowest missing seq.</summary>
    SeqOutOfRange,
    TooFarInFuture,
    PayloadTooLarge,
    StreamFinished,
    /// <summary>A full buffer shed it (see the stream's overflow policy).</summary>
    Shed,
    /// <summary>An operator disabled the stream.</summary>
    StreamDisabled,
    /// <summary>A chaos drill drops the stream's frames for a while.</summary>
    ChaosDropped,
    /// <summary>From the wire without the session's capability, or outside its frame sink: nothing was taken.</summary>
    Unauthorized,
    /// <summary>The node holds its maximum of pending encoder inputs (fusion.limits.max-pending-encoder-inputs): nothing was taken; send it again later.</summary>
    NodeFull,
    /// <summary>A fraction where the stream's model takes whole numbers (an int64/int32 input such as token ids).</summary>
    NotInteger,
}

/// <summary>Sent back to the sender of a bad frame; the session keeps running.</summary>
public sealed record FrameRejected(string SessionId, string StreamId, long Seq, RejectReason Reason, string Detail) : ProtocolMessage, IWithSessionId;
