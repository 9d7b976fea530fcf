using FusionActors.Core.Specs;
using FusionActors.Protocol;
using FusionActors.Protocol.Specs;

namespace FusionActors.Core.Streams;

/// <summary>Checks a frame's shape and values against its stream spec, before any state changes.</summary>
public static class FrameValidator
{
    /// <summary>Returns null when the frame is acceptable, else the reason and a detail for the sender.</summary>
    /// <param name="sessionNowUs">The session clock now, when known (for the future-skew check).</param>
    /// <param name="range">The values the stream's model accepts (from models.json), when it declares them.</param>
    public static (RejectReason Reason, string Detail)? Validate(StreamSpec spec, Frame frame, long? sessionNowUs, ValueRange? range = null)
    {
        if (frame.Payload is null)
            return (RejectReason.WrongPayloadSize, "payload is missing");
        if (frame.PayloadBytes > spec.MaxFrameBytes)
            return (RejectReason.PayloadTooLarge, $"payload of {frame.PayloadBytes} bytes exceeds maxFrameBytes {spec.MaxFrameBytes}");
        if (frame.Payload.Length != spec.FrameLength)
            return (RejectReason.WrongPayloadSize, $"payload has {frame.Payload.Length} values, stream '{spec.StreamId}' declares {spec.FrameLength}");
        var bad = FirstNonFinite(frame.Payload);
        if (bad >= 0)
            return (RejectReason.NotFinite, $"value {bad} is {frame.Payload[bad]}");
        // Caught here, a value the model refuses is a typed rejection; inside the encoder it would be a crash.
        if (range is { } r && FirstOutside(frame.Payload, r) is var i and >= 0)
            return (RejectReason.OutOfRange, $"value {i} is {frame.Payload[i]}, the stream's model takes [{r.Min}, {r.Max}]");
        if (range is { Integral: true } && FirstFraction(frame.Payload) is var k and >= 0)
            return (RejectReason.NotInteger, $"value {k} is {frame.Payload[k]}, the stream's model takes whole numbers");
        if (sessionNowUs is { } now && frame.EventTimeUs > now + spec.MaxFutureSkewUs)
            return (RejectReason.TooFarInFuture,
                $"event time {frame.EventTimeUs}us is {frame.EventTimeUs - now}us ahead of the session clock (maxFutureSkew {spec.MaxFutureSkewUs}us)");
        return null;
    }

    private static int FirstOutside(float[] values, ValueRange range)
    {
        float lo = range.Min - range.Tolerance, hi = range.Max + range.Tolerance;
        for (var i = 0; i < values.Length; i++)
            if (values[i] < lo || values[i] > hi) return i;
        return -1;
    }

    private static int FirstFraction(float[] values)
    {
        for (var i = 0; i < values.Length; i++)
            if (values[i] != MathF.Round(values[i])) return i;
        return -1;
    }

    private static int FirstNonFinite(float[] values)
    {
        for (var i = 0; i < values.Length; i++)
            if (!float.IsFinite(values[i])) return i;
        return -1;
    }
}

/// <summary>The closed interval of values a model accepts, with a tolerance for rounding; <paramref name="Integral"/>: whole numbers only.</summary>
public readonly record struct ValueRange(float Min, float Max, float Tolerance = 1e-3f, bool Integral = false);
