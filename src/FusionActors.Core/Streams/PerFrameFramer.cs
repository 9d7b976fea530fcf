using FusionActors.Protocol;

namespace FusionActors.Streams;

/// <summary>
/// Each frame is one encoder input, emitted at once; a late frame is still encoded (the alignment judges
/// lateness). A frame whose payload repeats the previous frame's exactly (a frozen camera: real sensors
/// always carry some noise) keeps the information time of the first of the repeats, so its evidence
/// fades with freshness instead of counting as new.
/// </summary>
public sealed class PerFrameFramer(string streamId, long frameDurationUs) : IFramer
{
    private readonly Queue<EncoderInput> _ready = new();
    private float[]? _previous;
    private long _previousContentEndUs;

    public FrameFate Add(Frame frame, long watermarkUs)
    {
        var end = frame.EventTimeUs + frameDurationUs;
        long? contentEnd = null;
        if (_previous is not null && _previous.AsSpan().SequenceEqual(frame.Payload) && _previousContentEndUs < end)
            contentEnd = _previousContentEndUs;
        else
            _previousContentEndUs = end;
        _previous = frame.Payload;
        _ready.Enqueue(new EncoderInput(streamId, frame.EventTimeUs, end, frame.Payload, 1.0, frame.Seq, frame.Seq, 0, contentEnd));
        return FrameFate.Taken;
    }

    public IReadOnlyList<EncoderInput> Drain(long watermarkUs)
    {
        if (_ready.Count == 0) return [];
        var result = _ready.ToArray();
        _ready.Clear();
        return result;
    }

    public bool TryTake(long watermarkUs, out EncoderInput input) => _ready.TryDequeue(out input!);

    public long CompleteThroughUs(long watermarkUs) => watermarkUs;

    public int HeldInputs => _ready.Count;
}
