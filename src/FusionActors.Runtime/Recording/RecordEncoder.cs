using System.Buffers.Binary;
using System.Text;

namespace FusionActors.Runtime.Recording;

/// <summary>
/// A growable little-endian buffer a record is encoded into on the thread that makes it (one per thread, reused), before
/// it is copied into its recording's chunk: no object per record, and an encoding error leaves the chunk untouched.
/// </summary>
internal sealed class RecordEncoder
{
    /// <summary>A buffer grown past this (a large frame) is let go after its record, so threads do not keep megabytes.</summary>
    private const int KeepBytes = 64 * 1024;

    [ThreadStatic] private static RecordEncoder? t_encoder;

    private byte[] _buffer = new byte[4096];

    public int Length { get; private set; }

    public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, Length);

    /// <summary>This thread's encoder, emptied.</summary>
    public static RecordEncoder ForThread()
    {
        var e = t_encoder ??= new RecordEncoder();
        e.Length = 0;
        return e;
    }

    /// <summary>Called once the record was copied out: a large buffer is replaced by a small one.</summary>
    public void Done()
    {
        if (_buffer.Length > KeepBytes) _buffer = new byte[4096];
        Length = 0;
    }

    private Span<byte> Take(int n)
    {
        if (_buffer.Length - Length < n) Grow(n);
        var span = _buffer.AsSpan(Length, n);
        Length += n;
        return span;
    }

    private void Grow(int n)
    {
        var size = Math.Max((long)_buffer.Length * 2, (long)Length + n);
        if (size > Array.MaxLength) throw new InvalidDataException($"a record of more than {Array.MaxLength} bytes");
        Array.Resize(ref _buffer, (int)size);
    }

    public void U8(byte v) => Take(1)[0] = v;

    public void Bool(bool v) => U8(v ? (byte)1 : (byte)0);

    public void I32(int v) => BinaryPrimitives.WriteInt32LittleEndian(Take(4), v);

    public void I64(long v) => BinaryPrimitives.WriteInt64LittleEndian(Take(8), v);

    public void F64(double v) => BinaryPrimitives.WriteDoubleLittleEndian(Take(8), v);

    public void Bytes(ReadOnlySpan<byte> bytes) => bytes.CopyTo(Take(bytes.Length));

    /// <summary>A u16 byte count and the UTF-8; more than <see cref="RecordCodec.MaxStringBytes"/> bytes is refused.</summary>
    public void Str(string s)
    {
        var count = s.Length <= RecordCodec.MaxStringBytes / 3 ? -1 : Encoding.UTF8.GetByteCount(s);
        if (count > RecordCodec.MaxStringBytes) throw new InvalidDataException($"a string field of {count} bytes is over {RecordCodec.MaxStringBytes}");
        var at = Length;
        var room = Take(2 + (count >= 0 ? count : s.Length * 3));
        var written = Encoding.UTF8.GetBytes(s, room[2..]);
        BinaryPrimitives.WriteUInt16LittleEndian(room, (ushort)written);
        Length = at + 2 + written;
    }
}
