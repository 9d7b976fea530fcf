using FusionActors.Protocol;

namespace FusionActors.Streams;

/// <summary>Each frame is one encoder input, emitted at once; a late frame is still encoded (the alignment judges lateness).</summary>
public sealed class PerFrameFramer(string streamId, long frameDurationUs) : IFramer
{
    private readonly List<EncoderInput> _ready = [];

    public FrameFate Add(Frame frame, long watermarkUs)
    {
        _ready.Add(new EncoderInput(streamId, frame.EventTimeUs, frame.EventTimeUs + frameDurationUs, frame.Payload, 1.0, frame.Seq, frame.Seq));
        return FrameFate.Taken;
    }

    public IReadOnlyList<EncoderInput> Drain(long watermarkUs)
    {
        if (_ready.Count == 0) return [];
        var result = _ready.ToArray();
        _ready.Clear();
        return result;
    }

    public long CompleteThroughUs(long watermarkUs) => watermarkUs;

    public int HeldInputs => _ready.Count;
}
