namespace FusionActors.Soak;

/// <summary>
/// Who opened an Akka.Remote connection: the origin address in the association handshake, the first frame the dialling side
/// sends. DotNetty frames are a 4-byte little-endian length and a protobuf <c>AkkaProtocolMessage</c>; the handshake is
/// <c>instruction (2) → handshakeInfo (2) → origin (1) → port (3)</c>. Only that path is read; anything else gives null.
/// </summary>
public static class Handshake
{
    /// <summary>Frames longer than this are not a handshake (it is a few dozen bytes).</summary>
    public const int MaxFrame = 64 * 1024;

    public static int? OriginPort(ReadOnlySpan<byte> message)
    {
        if (!TryField(message, 2, LengthDelimited, out _, out var instruction)) return null;
        if (!TryField(instruction, 2, LengthDelimited, out _, out var handshakeInfo)) return null;
        if (!TryField(handshakeInfo, 1, LengthDelimited, out _, out var origin)) return null;
        return TryField(origin, 3, Varint, out var port, out _) && port is > 0 and <= 65535 ? (int)port : null;
    }

    private const int Varint = 0;
    private const int LengthDelimited = 2;

    /// <summary>
    /// The first occurrence of protobuf field <paramref name="field"/> with wire type <paramref name="wire"/>: its
    /// value as a varint, or its bytes when length-delimited. False when absent or the message is malformed.
    /// </summary>
    private static bool TryField(ReadOnlySpan<byte> message, int field, int wire, out ulong varint, out ReadOnlySpan<byte> bytes)
    {
        varint = 0;
        bytes = default;
        var pos = 0;
        while (pos < message.Length)
        {
            if (!ReadVarint(message, ref pos, out var key)) return false;
            var (number, type) = ((int)(key >> 3), (int)(key & 7));
            var wanted = number == field && type == wire;
            switch (type)
            {
                case Varint:
                    if (!ReadVarint(message, ref pos, out var v)) return false;
                    if (wanted)
                    {
                        varint = v;
                        return true;
                    }
                    break;
                case 1:
                    pos += 8;
                    break;
                case 5:
                    pos += 4;
                    break;
                case LengthDelimited:
                    if (!ReadVarint(message, ref pos, out var length) || length > (ulong)(message.Length - pos)) return false;
                    if (wanted)
                    {
                        bytes = message.Slice(pos, (int)length);
                        return true;
                    }
                    pos += (int)length;
                    break;
                default:
                    return false;
            }
        }
        return false;
    }

    private static bool ReadVarint(ReadOnlySpan<byte> buffer, ref int pos, out ulong value)
    {
        value = 0;
        for (var shift = 0; shift < 64 && pos < buffer.Length; shift += 7)
        {
            var b = buffer[pos++];
            value |= (ulong)(b & 0x7f) << shift;
            if ((b & 0x80) == 0) return true;
        }
        return false;
    }
}
