using System.Buffers.Binary;
using System.IO.Hashing;
using System.Security.Cryptography;
using System.Text;

namespace FusionActors.Runtime.Recording;

/// <summary>
/// The container of a session recording (docs/recording.md, "Format"): a header, then chunks of
/// [u32 length][u32 CRC-32 of the body][body], one record each. An encrypted file's body is
/// [12-byte nonce][16-byte tag][ciphertext] under AES-256-GCM with the chunk's index and the header's CRC as
/// associated data, so a chunk cannot be altered, moved or taken out without the reader noticing.
/// </summary>
public static class RecordingFile
{
    public static ReadOnlySpan<byte> Magic => "FUSIONRC"u8;
    public const ushort Version = 1;
    public const string Extension = ".frec";

    /// <summary>The largest chunk body: a frame's payload is at most the node's Fusion:Limits:MaxFrameBytes (2 MiB by default).</summary>
    public const int MaxChunkBytes = 16 << 20;

    public const int NonceBytes = 12;
    public const int TagBytes = 16;
    private const byte FlagEncrypted = 1;
    public const int MaxSessionIdBytes = 1024;

    /// <summary>The header's bytes: magic, version, flags, key id, session id, creation time, and their CRC-32.</summary>
    public static byte[] Header(string sessionId, string? keyId, long createdUs)
    {
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(Magic);
            w.Write(Version);
            w.Write(keyId is null ? (byte)0 : FlagEncrypted);
            var key = Encoding.UTF8.GetBytes(keyId ?? "");
            w.Write((byte)key.Length);
            w.Write(key);
            var id = Encoding.UTF8.GetBytes(sessionId);
            if (id.Length > MaxSessionIdBytes) id = id[..MaxSessionIdBytes];
            w.Write((ushort)id.Length);
            w.Write(id);
            w.Write(createdUs);
        }
        var body = ms.ToArray();
        var header = new byte[body.Length + 4];
        body.CopyTo(header, 0);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(body.Length), Crc32.HashToUInt32(body));
        return header;
    }

    /// <summary>One chunk, framed (and sealed when <paramref name="key"/> is given).</summary>
    public static byte[] Chunk(ReadOnlySpan<byte> plaintext, byte[]? key, long index, uint headerCrc)
    {
        byte[] body;
        if (key is null) body = plaintext.ToArray();
        else
        {
            body = new byte[NonceBytes + TagBytes + plaintext.Length];
            var nonce = body.AsSpan(0, NonceBytes);
            RandomNumberGenerator.Fill(nonce);
            using var aes = new AesGcm(key, TagBytes);
            aes.Encrypt(nonce, plaintext, body.AsSpan(NonceBytes + TagBytes), body.AsSpan(NonceBytes, TagBytes), Aad(index, headerCrc));
        }
        var chunk = new byte[8 + body.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(chunk, (uint)body.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(chunk.AsSpan(4), Crc32.HashToUInt32(body));
        body.CopyTo(chunk, 8);
        return chunk;
    }

    internal static byte[] Aad(long index, uint headerCrc)
    {
        var aad = new byte[12];
        BinaryPrimitives.WriteInt64LittleEndian(aad, index);
        BinaryPrimitives.WriteUInt32LittleEndian(aad.AsSpan(8), headerCrc);
        return aad;
    }

    /// <summary>
    /// A file name for a session's recording: its id made safe for a file system (other characters become '_', at most
    /// 64 kept), the UTC time, and a random suffix. The header keeps the exact id.
    /// </summary>
    public static string FileName(string sessionId, DateTime utc)
    {
        var safe = new StringBuilder();
        foreach (var c in sessionId)
        {
            if (safe.Length == 64) break;
            safe.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_');
        }
        if (safe.Length == 0 || safe[0] == '.') safe.Insert(0, 's');
        return $"{safe}-{utc:yyyyMMdd'T'HHmmssfff}-{Convert.ToHexString(RandomNumberGenerator.GetBytes(3)).ToLowerInvariant()}{Extension}";
    }
}
