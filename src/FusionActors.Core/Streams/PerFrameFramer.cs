using FusionActors.Protocol;

namespace FusionActors.Core.Streams;

/// <summary>
/// Each frame is one encoder input, emitted at once; a late frame is still encoded (the alignment judges
/// lateness). A frame whose payload repeats exactly the frame before it in event time (a frozen camera:
/// real sensors always carry some noise) keeps the information time of the first of the repeats, so its
/// evidence fades with freshness instead of counting as new. "Before it in event time" is looked up
/// among the last few frames, so a reordered frame is compared with its real predecessor, not with
/// whatever arrived last; a frame whose predecessor has not arrived yet counts as fresh.
/// </summary>
public sealed class PerFrameFramer(string streamId, long frameDurationUs) : IFramer
{
    /// <summary>Frames remembered for the comparison: more than the reordering a stream's bounds allow at camera rates.</summary>
    private const int Recent = 8;

    private readonly Queue<EncoderInput> _ready = new();
    private Seen[]? _recent; // made on the first frame: idle streams cost nothing
    private int _count;

    public FrameFate Add(Frame frame, long watermarkUs)
    {
        var end = frame.EventTimeUs + frameDurationUs;
        _recent ??= new Seen[Recent];
        var before = -1;
        for (var i = 0; i < _count; i++)
            if (_recent[i].TimeUs < frame.EventTimeUs && (before < 0 || _recent[i].TimeUs > _recent[before].TimeUs)) before = i;
        var contentEnd = end;
        if (before >= 0 && _recent[before].Payload.AsSpan().SequenceEqual(frame.Payload)) contentEnd = Math.Min(end, _recent[before].ContentEndUs);
        Remember(new Seen(frame.EventTimeUs, frame.Payload, contentEnd));
        _ready.Enqueue(new EncoderInput(streamId, frame.EventTimeUs, end, frame.Payload, 1.0, frame.Seq, frame.Seq, 0,
            contentEnd < end ? contentEnd : null));
        return FrameFate.Taken;
    }

    /// <summary>Keeps the latest frames by event time: a new one replaces the oldest, unless it is older than all of them.</summary>
    private void Remember(Seen seen)
    {
        if (_count < Recent)
        {
            _recent![_count++] = seen;
            return;
        }
        var oldest = 0;
        for (var i = 1; i < _count; i++)
            if (_recent![i].TimeUs < _recent[oldest].TimeUs) oldest = i;
        if (seen.TimeUs > _recent![oldest].TimeUs) _recent[oldest] = seen;
    }

    private readonly record struct Seen(long TimeUs, float[] Payload, long ContentEndUs);

    public bool TryTake(long watermarkUs, out EncoderInput input) => _ready.TryDequeue(out input!);

    public long CompleteThroughUs(long watermarkUs) => watermarkUs;

    public int HeldInputs => _ready.Count;
}
