using FusionActors.Protocol;

namespace FusionActors.Core.Streams;

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

/// <summary>Turns frames of one stream into encoder inputs.</summary>
public interface IFramer
{
    /// <summary>Takes a frame that passed validation and dedupe; <paramref name="watermarkUs"/> is the stream watermark before it.</summary>
    FrameFate Add(Frame frame, long watermarkUs);

    /// <summary>
    /// The next input ready to encode now that the stream watermark is <paramref name="watermarkUs"/>, in start
    /// order, one at a time and without a collection per call (the stream actor's per-frame path): call until it
    /// returns false.
    /// </summary>
    bool TryTake(long watermarkUs, out EncoderInput input);

    /// <summary>
    /// Given the stream watermark, the highest time T such that every input starting at or before T
    /// has been taken: evidence of this stream for times &lt;= T is complete once it leaves the encoder.
    /// </summary>
    long CompleteThroughUs(long watermarkUs);

    /// <summary>Inputs held open or retained for lateness (bounded by the watermark and the allowed lateness).</summary>
    int HeldInputs { get; }
}

public static class FramerExtensions
{
    /// <summary>Every input ready to encode now, in start order (<see cref="IFramer.TryTake"/> until it returns false).</summary>
    public static IReadOnlyList<EncoderInput> Drain(this IFramer framer, long watermarkUs)
    {
        List<EncoderInput>? ready = null;
        while (framer.TryTake(watermarkUs, out var input)) (ready ??= []).Add(input);
        return ready is null ? [] : ready;
    }
}
