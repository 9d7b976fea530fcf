using FusionActors.Core.Alignment;
using FusionActors.Core.Time;
using FusionActors.Protocol;
using FusionActors.Protocol.Specs;

namespace FusionActors.Core.Streams;

/// <summary>
/// Concatenates frames by event time into inputs [origin + k·hop, origin + k·hop + length).
/// An input is emitted once the stream watermark reaches its end − 1 (every frame that could touch it is in);
/// gaps are zero-filled and reported as coverage &lt; 1. An emitted input is kept for the allowed lateness, so a
/// late frame re-emits it with a higher revision; after that, frames for it are too late.
/// </summary>
public sealed class WindowedFramer : IFramer
{
    private readonly string _streamId;
    private readonly long _lengthUs;
    private readonly long _hopUs;
    private readonly long _originUs;
    private readonly long _allowedLatenessUs;
    private readonly double _rateHz;
    private readonly int _inputLength;
    private readonly SortedDictionary<long, Input> _inputs = new();
    private readonly Queue<EncoderInput> _taken = new(); // completed, not yet handed out by TryTake

    public WindowedFramer(string streamId, long lengthUs, long hopUs, double sampleRateHz, long originUs = 0, long allowedLatenessUs = 0)
    {
        if (lengthUs <= 0 || hopUs <= 0 || hopUs > lengthUs) throw new ArgumentOutOfRangeException(nameof(hopUs), "need 0 < hop <= length");
        if (sampleRateHz <= 0) throw new ArgumentOutOfRangeException(nameof(sampleRateHz));
        _streamId = streamId;
        _lengthUs = lengthUs;
        _hopUs = hopUs;
        _originUs = originUs;
        _allowedLatenessUs = allowedLatenessUs;
        _rateHz = sampleRateHz;
        _inputLength = (int)Math.Round(lengthUs * sampleRateHz / 1e6);
    }

    public int InputLength => _inputLength;

    /// <summary>
    /// The most bytes of input samples the framer of <paramref name="stream"/> holds in <paramref name="session"/>: every
    /// input from the oldest one the allowed lateness keeps (its end within the lateness behind the watermark) to the
    /// newest a frame touched (the watermark trails the latest frame by the out-of-orderness). That is
    /// (out-of-orderness + length + lateness + one frame) / hop + 1 inputs. A heartbeat that moves the watermark ahead
    /// only lowers it. 0 for a stream that is not windowed.
    /// </summary>
    public static long RetainedBytes(StreamSpec stream, SessionSpec session)
    {
        if (stream.Framing.Kind != FramingKind.Windowed || stream.Framing.HopUs <= 0 || !(stream.SampleRateHz > 0)) return 0;
        var frameUs = stream.FrameLength * 1e6 / stream.SampleRateHz;
        var spanUs = (double)stream.MaxOutOfOrdernessUs + stream.Framing.LengthUs + session.AllowedLatenessUs + frameUs;
        var inputs = Math.Floor(spanUs / stream.Framing.HopUs) + 1;
        var bytes = inputs * Math.Round(stream.Framing.LengthUs * stream.SampleRateHz / 1e6) * sizeof(float);
        return bytes >= long.MaxValue ? long.MaxValue : (long)bytes;
    }

    public int HeldInputs => _inputs.Count;

    public FrameFate Add(Frame frame, long watermarkUs)
    {
        var t = frame.EventTimeUs;
        var endUs = t + (long)Math.Round(frame.Payload.Length * 1e6 / _rateHz);
        // No input starts before the origin (the session start): the alignment has no window for it.
        var kFirst = Math.Max(0, WindowGrid.FloorDiv(t - _lengthUs - _originUs, _hopUs) + 1);
        var kLast = CeilDiv(endUs - _originUs, _hopUs) - 1;
        bool taken = false, revised = false;
        for (var k = kFirst; k <= kLast; k++)
        {
            var start = _originUs + k * _hopUs;
            var end = start + _lengthUs;
            if (IsFinal(end, watermarkUs)) continue;
            if (!_inputs.TryGetValue(k, out var input))
            {
                input = new Input(start, _inputLength);
                _inputs[k] = input;
            }
            input.Write(frame, (long)Math.Round((t - start) * _rateHz / 1e6));
            if (input.Emitted)
            {
                input.Dirty = true;
                revised = true;
            }
            else taken = true;
        }
        return taken ? FrameFate.Taken : revised ? FrameFate.Revised : FrameFate.TooLate;
    }

    public bool TryTake(long watermarkUs, out EncoderInput input)
    {
        if (_taken.Count == 0) Collect(watermarkUs);
        return _taken.TryDequeue(out input!);
    }

    /// <summary>Queues every input the watermark completes (new, or revised by late frames) and forgets final ones.</summary>
    private void Collect(long watermarkUs)
    {
        List<long>? done = null;
        foreach (var (k, input) in _inputs)
        {
            var end = input.StartUs + _lengthUs;
            if (end - 1 > watermarkUs) break; // sorted by start, so by end too
            if (!input.Emitted || input.Dirty)
            {
                if (input.Emitted) input.Revision++;
                input.Emitted = true;
                input.Dirty = false;
                _taken.Enqueue(new EncoderInput(_streamId, input.StartUs, end, (float[])input.Values.Clone(),
                    input.Coverage, input.FirstSeq, input.LastSeq, input.Revision));
            }
            if (IsFinal(end, watermarkUs)) (done ??= []).Add(k);
        }
        if (done is not null)
            foreach (var k in done) _inputs.Remove(k);
    }

    public long CompleteThroughUs(long watermarkUs)
    {
        if (watermarkUs is EventTime.MinusInfinity or EventTime.PlusInfinity) return watermarkUs;
        // First input that is not drainable yet: end - 1 > W.
        var kNext = WindowGrid.FloorDiv(watermarkUs + 1 - _lengthUs - _originUs, _hopUs) + 1;
        return _originUs + kNext * _hopUs - 1;
    }

    private bool IsFinal(long endUs, long watermarkUs) =>
        watermarkUs != EventTime.MinusInfinity && EventTime.SaturatingAdd(endUs - 1, _allowedLatenessUs) <= watermarkUs;

    private static long CeilDiv(long a, long b) => -WindowGrid.FloorDiv(-a, b);

    private sealed class Input(long startUs, int length)
    {
        private readonly ulong[] _filled = new ulong[(length + 63) / 64];
        private int _filledCount;

        public long StartUs { get; } = startUs;
        public float[] Values { get; } = new float[length];
        public long FirstSeq { get; private set; } = long.MaxValue;
        public long LastSeq { get; private set; } = -1;
        public bool Emitted { get; set; }
        public bool Dirty { get; set; }
        public int Revision { get; set; }
        public double Coverage => Values.Length == 0 ? 0 : _filledCount / (double)Values.Length;

        public void Write(Frame frame, long offset)
        {
            var from = (int)Math.Max(0, offset);
            var to = (int)Math.Min(Values.Length, offset + frame.Payload.Length);
            for (var i = from; i < to; i++)
            {
                Values[i] = frame.Payload[i - offset];
                ref var word = ref _filled[i >> 6];
                var bit = 1UL << (i & 63);
                if ((word & bit) == 0)
                {
                    word |= bit;
                    _filledCount++;
                }
            }
            FirstSeq = Math.Min(FirstSeq, frame.Seq);
            LastSeq = Math.Max(LastSeq, frame.Seq);
        }
    }
}
