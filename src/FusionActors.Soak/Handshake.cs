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
        if (!TryLengthDelimited(message, 2, out var instruction)) return null;
        if (!TryLengthDelimited(instruction, 2, out var handshakeInfo)) return null;
        if (!TryLengthDelimited(handshakeInfo, 1, out var origin)) return null;
        return TryVarint(origin, 3, out var port) && port is > 0 and <= 65535 ? (int)port : null;
    }

    private static bool TryLengthDelimited(ReadOnlySpan<byte> message, int field, out ReadOnlySpan<byte> value)
    {
        value = default;
        var pos = 0;
        while (pos < message.Length)
        {
            if (!ReadVarint(message, ref pos, out var key)) return false;
            var (number, wire) = ((int)(key >> 3), (int)(key & 7));
            switch (wire)
            {
                case 0:
                    if (!ReadVarint(message, ref pos, out _)) return false;
                    break;
                case 1:
                    pos += 8;
                    break;
                case 5:
                    pos += 4;
                    break;
                case 2:
                    if (!ReadVarint(message, ref pos, out var length) || length > (ulong)(message.Length - pos)) return false;
                    if (number == field)
                    {
                        value = message.Slice(pos, (int)length);
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

    private static bool TryVarint(ReadOnlySpan<byte> message, int field, out ulong value)
    {
        value = 0;
        var pos = 0;
        while (pos < message.Length)
        {
            if (!ReadVarint(message, ref pos, out var key)) return false;
            var (number, wire) = ((int)(key >> 3), (int)(key & 7));
            switch (wire)
            {
                case 0:
                    if (!ReadVarint(message, ref pos, out var v)) return false;
                    if (number == field)
                    {
                        value = v;
                        return true;
                    }
                    break;
                case 1:
                    pos += 8;
                    break;
                case 5:
                    pos += 4;
                    break;
                case 2:
                    if (!ReadVarint(message, ref pos, out var length) || length > (ulong)(message.Length - pos)) return false;
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
