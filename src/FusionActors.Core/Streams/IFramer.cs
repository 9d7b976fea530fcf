using FusionActors.Protocol;

namespace FusionActors.Streams;

/// <summary>What happened to a frame given to a framer.</summary>
public enum FrameFate
{
    /// <summary>Its input is still open, or it is an input of its own.</summary>
    Taken,
    /// <summary>It updated an input that was already emitted, within the allowed lateness: re-emitted with a new revision.</summary>
    Revised,
    /// <summary>Every input it belongs to was closed beyond the allowed lateness.</summary>
    TooLate,
}

/// <summary>Turns frames of one stream into encoder inputs (DESIGN §3).</summary>
public interface IFramer
{
    /// <summary>Takes a frame that passed validation and dedupe; <paramref name="watermarkUs"/> is the stream watermark before it.</summary>
    FrameFate Add(Frame frame, long watermarkUs);

    /// <summary>Inputs ready to encode now that the stream watermark is <paramref name="watermarkUs"/>, in start order.</summary>
    IReadOnlyList<EncoderInput> Drain(long watermarkUs);

    /// <summary>
    /// The next input <see cref="Drain"/> would return, one at a time and without a collection per call (the
    /// stream actor's per-frame path): call until it returns false. Use this or <see cref="Drain"/>, not both.
    /// </summary>
    bool TryTake(long watermarkUs, out EncoderInput input);

    /// <summary>
    /// Given the stream watermark, the highest time T such that every input starting at or before T
    /// has been drained: evidence of this stream for times &lt;= T is complete once it leaves the encoder.
    /// </summary>
    long CompleteThroughUs(long watermarkUs);

    /// <summary>Inputs held open or retained for lateness (bounded by the watermark and the allowed lateness).</summary>
    int HeldInputs { get; }
}
