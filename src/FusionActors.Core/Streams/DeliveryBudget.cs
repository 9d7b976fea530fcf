using FusionActors.Core.Time;
using FusionActors.Protocol.Specs;

namespace FusionActors.Core.Streams;

/// <summary>
/// The shedding rule of a latency-constrained session (<see cref="DeliveryPolicy.LatencyConstrained"/>,
/// docs/design.md, "Delivery") for one of its streams. No clock: times come in as arguments, on the session clock.
/// <list type="bullet">
/// <item>An item is <b>due</b> when the watermark could first use it: a frame at its event time plus the stream's
/// out-of-orderness; an encoder input at the same for its newest frame (a windowed input's end, a per-frame input's
/// start).</item>
/// <item>A <b>frame</b> is shed when it is taken more than the stream's budget after it is due: it is late already.
/// <b>Inputs</b> are judged when a batch is about to be sent to the encoder, oldest first (the queue's front): those
/// that would be encoded more than the budget after they are due (now + the expected encode time − due &gt; budget)
/// are shed, up to the first that would not. When none would be on time (the expected encode time alone is about the
/// budget: a stall, or an encoder that cannot keep up), only those late already are shed, so the stream still sends
/// full batches of what is not late yet (not one input at a time, which would cost the encoder more per input), and
/// each batch measures the encode time again: an estimate made in a stall cannot shed every input from then on.</item>
/// <item><b>Lowest priority first</b>: the session's budget is the budget of its highest-priority streams; a stream of
/// the k-th of n distinct priorities (k = 1 the lowest) has k/n of it. As load grows, the queues of the node grow
/// alike for every stream, so the lowest-priority streams reach their shorter budget first and their shedding frees
/// the encoders for the others; higher ones shed only when that is not enough.</item>
/// </list>
/// The expected encode time is an average of this stream's recent batches (send to answer on the stream's clock, the
/// batcher's queue included).
/// </summary>
public sealed class DeliveryBudget
{
    /// <summary>Weight of the newest batch in the expected encode time.</summary>
    public const double EncodeSmoothing = 0.2;

    private readonly long _outOfOrdernessUs;
    private readonly bool _windowed;
    private double _encodeUs;
    private bool _encodedAny;

    private DeliveryBudget(long budgetUs, long outOfOrdernessUs, bool windowed)
    {
        BudgetUs = budgetUs;
        _outOfOrdernessUs = outOfOrdernessUs;
        _windowed = windowed;
    }

    /// <summary>The rule of <paramref name="stream"/> of <paramref name="session"/>; null when the session is lossless (nothing is shed for time).</summary>
    public static DeliveryBudget? For(SessionSpec session, StreamSpec stream)
    {
        if (session.Delivery != DeliveryPolicy.LatencyConstrained) return null;
        return new DeliveryBudget(ShareOf(session, stream), stream.MaxOutOfOrdernessUs, stream.Framing.Kind == FramingKind.Windowed);
    }

    /// <summary>The budget of <paramref name="stream"/>: k/n of the session's for the k-th lowest of its n distinct priorities (at least 1 µs).</summary>
    public static long ShareOf(SessionSpec session, StreamSpec stream)
    {
        var distinct = new SortedSet<int>();
        foreach (var s in session.Streams) distinct.Add(s.Priority);
        var rank = 1;
        foreach (var p in distinct)
        {
            if (p == stream.Priority) break;
            rank++;
        }
        rank = Math.Min(rank, distinct.Count);
        return Math.Max(1, (long)Math.Round(session.LatencyBudgetUs * (double)rank / Math.Max(1, distinct.Count)));
    }

    /// <summary>How much later than it is due an item of this stream may be done, µs.</summary>
    public long BudgetUs { get; }

    /// <summary>How long a batch is expected to take from now until its evidence is back, µs (0 before the first).</summary>
    public long ExpectedEncodeUs => (long)_encodeUs;

    /// <summary>When a frame at <paramref name="eventTimeUs"/> is due.</summary>
    public long FrameDueUs(long eventTimeUs) => EventTime.SaturatingAdd(eventTimeUs, _outOfOrdernessUs);

    /// <summary>When <paramref name="input"/> is due.</summary>
    public long InputDueUs(EncoderInput input) => FrameDueUs(_windowed ? input.EndUs - 1 : input.StartUs);

    /// <summary>Whether a frame at <paramref name="eventTimeUs"/> is shed when it is taken at <paramref name="nowUs"/>: it is over the budget already.</summary>
    public bool ShedsFrame(long eventTimeUs, long nowUs) => Over(FrameDueUs(eventTimeUs), nowUs);

    /// <summary>Whether <paramref name="input"/>, sent to the encoder at <paramref name="nowUs"/>, would be encoded over the budget.</summary>
    public bool WouldBeLate(EncoderInput input, long nowUs) => Over(InputDueUs(input), EventTime.SaturatingAdd(nowUs, ExpectedEncodeUs));

    /// <summary>Whether <paramref name="input"/> is over the budget already at <paramref name="nowUs"/>.</summary>
    public bool IsLate(EncoderInput input, long nowUs) => Over(InputDueUs(input), nowUs);

    private bool Over(long dueUs, long doneUs) => EventTime.SaturatingSubtract(doneUs, dueUs) > BudgetUs;

    /// <summary>A batch came back <paramref name="millis"/> after it was sent.</summary>
    public void Encoded(double millis)
    {
        if (!double.IsFinite(millis) || millis < 0) return;
        var us = millis * 1000;
        _encodeUs = _encodedAny ? _encodeUs + EncodeSmoothing * (us - _encodeUs) : us;
        _encodedAny = true;
    }
}
