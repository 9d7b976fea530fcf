using FusionActors.Protocol;
using FusionActors.Protocol.Specs;

namespace FusionActors.Core.Streams;

/// <summary>
/// Which frames a stream takes, and when it last heard from its client. A frame is refused, in this order, when the
/// stream is finished, disabled by an operator, dropping frames for a chaos drill, when the frame is invalid
/// (<see cref="FrameValidator"/>), or when its seq was taken or is out of the dedupe window (<see cref="SeqTracker"/>).
/// Times come in as arguments: monotonic milliseconds for activity and drills, the session clock for validation.
/// </summary>
public sealed class StreamIntake(StreamSpec spec, SeqTracker seqs, long startedAtMs)
{
    private long _dropUntilMs;
    private long _lastActivityMs = startedAtMs;

    public SeqTracker Seqs => seqs;

    /// <summary>How often a stream with this idle timeout checks whether it went idle: a quarter of it, at least every 5 ms.</summary>
    public static TimeSpan IdleCheckEvery(TimeSpan idleTimeout) =>
        TimeSpan.FromTicks(Math.Max(TimeSpan.FromMilliseconds(5).Ticks, idleTimeout.Ticks / 4));

    /// <summary>A chaos drill: every frame from <paramref name="nowMs"/> for <paramref name="duration"/> is lost (refused and counted).</summary>
    public void DropFrames(long nowMs, TimeSpan duration) => _dropUntilMs = nowMs + (long)duration.TotalMilliseconds;

    /// <summary>
    /// Null when <paramref name="frame"/> is taken (its seq is then marked seen), else why it is refused and a detail for the sender.
    /// </summary>
    /// <param name="disabled">An operator disabled the stream: its frames are refused until it is enabled.</param>
    public (RejectReason Reason, string Detail)? Admit(Frame frame, StreamState state, bool disabled, long nowMs, long sessionNowUs, ValueRange? range)
    {
        if (state == StreamState.Finished) return (RejectReason.StreamFinished, "the stream was closed");
        if (disabled) return (RejectReason.StreamDisabled, "an operator disabled the stream");
        // A drill: the frame is lost as in a sensor outage, but counted and answered, never silent.
        if (_dropUntilMs > nowMs) return (RejectReason.ChaosDropped, "chaos drill: the stream drops its frames");
        if (FrameValidator.Validate(spec, frame, sessionNowUs, range) is { } problem) return problem;
        return seqs.Take(frame.Seq) switch
        {
            SeqCheck.Duplicate => (RejectReason.Duplicate, $"seq {frame.Seq} was already taken"),
            SeqCheck.OutOfRange => (RejectReason.SeqOutOfRange,
                $"seq {frame.Seq} is outside [{seqs.LowestMissing}, {seqs.LowestMissing + spec.MaxSeqAhead})"),
            _ => null,
        };
    }

    /// <summary>A frame was taken or a heartbeat heard at <paramref name="nowMs"/>.</summary>
    public void OnActivity(long nowMs) => _lastActivityMs = nowMs;

    /// <summary>How long the client has been silent, in ms, once that is at least <paramref name="idleTimeout"/>; else null.</summary>
    public long? SilentFor(long nowMs, TimeSpan idleTimeout)
    {
        var silentMs = nowMs - _lastActivityMs;
        return silentMs < idleTimeout.TotalMilliseconds ? null : silentMs;
    }
}
