using System.Numerics;
using System.Runtime.InteropServices;

namespace FusionActors.Protocol.Serialization;

/// <summary>
/// The lossless forms a frame's payload may take on the wire (<see cref="FrameSerializer"/>): a form is chosen only when
/// every value reads back bit for bit, so what the node gets is exactly what the client pushed.
/// </summary>
public static class PayloadPacking
{
    /// <summary>Raw float32.</summary>
    public const int None = 0;

    /// <summary>Every value is k/32768 for a 16-bit k (16-bit PCM audio as floats): 2 bytes a value.</summary>
    public const int Q15 = 1;

    /// <summary>Every value is k/255 for an 8-bit k (8-bit pixels as floats): 1 byte a value.</summary>
    public const int U8 = 2;

    private static readonly float[] U8Table = Enumerable.Range(0, 256).Select(k => k / 255f).ToArray();

    /// <summary>k/255 for every byte k: what a <see cref="U8"/> payload reads back as.</summary>
    public static ReadOnlySpan<float> U8Values => U8Table;

    public static int BytesPerValue(int packing) => packing switch { Q15 => 2, U8 => 1, _ => 4 };

    /// <summary>The smallest form that carries <paramref name="values"/> exactly.</summary>
    public static int Of(float[] values)
    {
        if (values.Length == 0) return None;
        if (IsQ15(values)) return Q15;
        if (IsU8(values)) return U8;
        return None;
    }

    /// <summary>
    /// Whether every value is k/32768 with k in [-32768, 32767], and none is -0: v · 32768 is exact for a float (a power
    /// of two), so v is such a value when that product is a whole number in range, and k · 2^-15 gives v back exactly.
    /// </summary>
    public static bool IsQ15(ReadOnlySpan<float> values)
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated && values.Length >= Vector<float>.Count)
        {
            var scale = new Vector<float>(32768f);
            var lo = new Vector<int>(short.MinValue);
            var hi = new Vector<int>(short.MaxValue);
            var negativeZero = new Vector<int>(int.MinValue);
            var bits = MemoryMarshal.Cast<float, int>(values);
            for (; i <= values.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var v = new Vector<float>(values[i..]);
                var t = v * scale;
                var k = Vector.ConvertToInt32(t);
                // Not whole (or NaN, or beyond int32), out of the 16-bit range, or -0: not this form.
                if (!Vector.EqualsAll(Vector.ConvertToSingle(k), t) || !Vector.GreaterThanOrEqualAll(k, lo) || !Vector.LessThanOrEqualAll(k, hi)
                    || Vector.EqualsAny(new Vector<int>(bits[i..]), negativeZero))
                    return false;
            }
        }
        for (; i < values.Length; i++)
        {
            var t = values[i] * 32768f;
            if (!(t >= short.MinValue && t <= short.MaxValue) || t != MathF.Truncate(t) || BitConverter.SingleToInt32Bits(values[i]) == int.MinValue) return false;
        }
        return true;
    }

    /// <summary>Whether every value is exactly k/255 (as the float division gives it) for a k in [0, 255].</summary>
    public static bool IsU8(ReadOnlySpan<float> values)
    {
        var table = U8Table;
        foreach (var v in values)
        {
            var t = v * 255f;
            if (!(t >= -0.5f && t < 255.5f)) return false; // also NaN
            var k = (int)MathF.Round(t);
            if (BitConverter.SingleToInt32Bits(table[k]) != BitConverter.SingleToInt32Bits(v)) return false;
        }
        return true;
    }

    /// <summary>Writes values that are all k/32768 as each k, 16-bit little-endian, into <paramref name="destination"/> (2 bytes a value).</summary>
    public static void WriteQ15(ReadOnlySpan<float> values, Span<byte> destination)
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated && BitConverter.IsLittleEndian)
        {
            var scale = new Vector<float>(32768f);
            var shorts = MemoryMarshal.Cast<byte, short>(destination[..(2 * values.Length)]);
            for (; i <= values.Length - 2 * Vector<float>.Count; i += 2 * Vector<float>.Count)
            {
                var a = Vector.ConvertToInt32(new Vector<float>(values[i..]) * scale);
                var b = Vector.ConvertToInt32(new Vector<float>(values[(i + Vector<float>.Count)..]) * scale);
                Vector.Narrow(a, b).CopyTo(shorts[i..]);
            }
        }
        for (; i < values.Length; i++) System.Buffers.Binary.BinaryPrimitives.WriteInt16LittleEndian(destination[(2 * i)..], (short)(values[i] * 32768f));
    }

    /// <summary>Reads 16-bit little-endian k into k/32768 (exact: a power of two).</summary>
    public static void ReadQ15(ReadOnlySpan<byte> source, Span<float> values)
    {
        var i = 0;
        const float unit = 1f / 32768f;
        if (Vector.IsHardwareAccelerated && BitConverter.IsLittleEndian)
        {
            var scale = new Vector<float>(unit);
            var shorts = MemoryMarshal.Cast<byte, short>(source[..(2 * values.Length)]);
            for (; i <= values.Length - Vector<short>.Count; i += Vector<short>.Count)
            {
                Vector.Widen(new Vector<short>(shorts[i..]), out var lo, out var hi);
                (Vector.ConvertToSingle(lo) * scale).CopyTo(values[i..]);
                (Vector.ConvertToSingle(hi) * scale).CopyTo(values[(i + Vector<int>.Count)..]);
            }
        }
        for (; i < values.Length; i++) values[i] = System.Buffers.Binary.BinaryPrimitives.ReadInt16LittleEndian(source[(2 * i)..]) * unit;
    }
}
