using FusionActors.Protocol;

namespace FusionActors.Runtime.Metrics;

/// <summary>
/// The counters of one stream, counted once: each increment records the node's instrument of the same count
/// (<see cref="FusionMetrics"/>, tagged with the stream's modality), and the stream's status reads the same totals
/// (<see cref="Snapshot"/>). Frames accepted have no instrument; everything else counted here has one.
/// </summary>
public sealed class StreamMeter
{
    private readonly string _tag; // the modality as the node's metrics name it (bounded)
    private Dictionary<RejectReason, long>? _rejected; // most streams never reject anything
    private long _framesIn, _framesAccepted, _framesLate, _framesTooLate, _inputsEncoded, _inputsShed;
    private long _framesShedOverBudget, _inputsShedOverBudget;
    private long _encoderFailures, _encoderRestarts, _quarantined, _batches;
    private long _cacheHits, _cacheMisses;
    private double _encodeMillis;

    public StreamMeter(string modality) => _tag = FusionMetrics.TagFor(modality);

    /// <summary>The modality tag this stream's measurements carry.</summary>
    public string Tag => _tag;

    public void FrameIn()
    {
        _framesIn++;
        FusionMetrics.FrameIn(_tag);
    }

    public void FrameAccepted() => _framesAccepted++;

    public void FrameRejected(RejectReason reason)
    {
        _rejected ??= new Dictionary<RejectReason, long>();
        _rejected[reason] = _rejected.GetValueOrDefault(reason) + 1;
        FusionMetrics.FrameRejected(_tag, reason);
    }

    public void FrameLate()
    {
        _framesLate++;
        FusionMetrics.FrameLate(_tag);
    }

    public void FrameTooLate()
    {
        _framesTooLate++;
        FusionMetrics.FrameTooLate(_tag);
    }

    public void Shed(int inputs)
    {
        _inputsShed += inputs;
        FusionMetrics.Shed(_tag, inputs);
    }

    /// <summary>A frame taken and shed for time (latency-constrained delivery).</summary>
    public void FrameShedOverBudget()
    {
        _framesShedOverBudget++;
        FusionMetrics.ShedOverBudget(_tag, frames: true, 1);
    }

    /// <summary>Inputs shed for time when their turn to be encoded came (latency-constrained delivery).</summary>
    public void InputsShedOverBudget(int inputs)
    {
        if (inputs <= 0) return;
        _inputsShedOverBudget += inputs;
        FusionMetrics.ShedOverBudget(_tag, frames: false, inputs);
    }

    /// <summary>A batch of <paramref name="inputs"/> came back from the encoder after <paramref name="millis"/>.</summary>
    public void Encoded(int inputs, double millis)
    {
        _inputsEncoded += inputs;
        _batches++;
        _encodeMillis += millis;
        FusionMetrics.Encoded(_tag, millis, inputs);
    }

    /// <summary>Inputs given evidence from the stream's repeat cache: encoded inputs, with no batch and no encode time.</summary>
    public void RepeatHits(int inputs)
    {
        _inputsEncoded += inputs;
        _cacheHits += inputs;
        FusionMetrics.CacheHit(_tag, inputs);
    }

    /// <summary>Inputs sent to the encoder while the stream's repeat cache is on.</summary>
    public void RepeatMisses(int inputs)
    {
        _cacheMisses += inputs;
        FusionMetrics.CacheMiss(_tag, inputs);
    }

    public void EncoderFailed()
    {
        _encoderFailures++;
        FusionMetrics.EncoderFailed(_tag);
    }

    public void EncoderRestarted()
    {
        _encoderRestarts++;
        FusionMetrics.EncoderRestarted(_tag);
    }

    public void Quarantined()
    {
        _quarantined++;
        FusionMetrics.InputQuarantined(_tag);
    }

    /// <param name="seqsSkipped">Kept by the stream's seq tracker, not counted here.</param>
    public StreamCounters Snapshot(long seqsSkipped) => new()
    {
        FramesIn = _framesIn, FramesAccepted = _framesAccepted,
        Rejected = _rejected is null ? new Dictionary<RejectReason, long>() : new Dictionary<RejectReason, long>(_rejected),
        FramesLate = _framesLate, FramesTooLate = _framesTooLate, InputsEncoded = _inputsEncoded, InputsShed = _inputsShed,
        EncoderFailures = _encoderFailures, EncoderRestarts = _encoderRestarts, Quarantined = _quarantined,
        EncodeMillisTotal = _encodeMillis, Batches = _batches, SeqsSkipped = seqsSkipped,
        FramesShedOverBudget = _framesShedOverBudget, InputsShedOverBudget = _inputsShedOverBudget,
        CacheHits = _cacheHits, CacheMisses = _cacheMisses,
    };
}
