using System.Buffers.Binary;
using System.IO.Hashing;
using System.Security.Cryptography;
using System.Text;

namespace FusionActors.Runtime.Recording;

/// <summary>
/// The container of a session recording (docs/recording.md, "Format"): a header, then chunks of
/// [u32 length][u32 CRC-32 of the body][body], each body one or more records, each record after its u32 length
/// (version 1 files: one record per chunk, without the length). An encrypted file's body is
/// [12-byte nonce][16-byte tag][ciphertext] under AES-256-GCM with the chunk's index and the header's CRC as
/// associated data, so a chunk cannot be altered, moved or taken out without the reader noticing.
/// </summary>
public static class RecordingFile
{
    public static ReadOnlySpan<byte> Magic => "FUSIONRC"u8;
    /// <summary>The version this code writes: chunks of many records.</summary>
    public const ushort Version = 2;

    /// <summary>The first version, one record per chunk: still read.</summary>
    public const ushort VersionOneRecordPerChunk = 1;

    /// <summary>
    /// The size a chunk's records are gathered to before it is handed to the writer (a record larger than this is a
    /// chunk of its own). Small enough that a torn or failing file keeps most of what came before it.
    /// </summary>
    public const int ChunkTargetBytes = 32 * 1024;
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

    /// <summary>Writes a chunk's framing into its first 8 bytes: the length and CRC-32 of the body that follows them.</summary>
    public static void Prefix(Span<byte> chunk)
    {
        var body = chunk[8..];
        BinaryPrimitives.WriteUInt32LittleEndian(chunk, (uint)body.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(chunk[4..], Crc32.HashToUInt32(body));
    }

    /// <summary>An encrypted body's length for <paramref name="plaintext"/> bytes.</summary>
    public static int SealedLength(int plaintext) => NonceBytes + TagBytes + plaintext;

    /// <summary>Seals a chunk's records into <paramref name="body"/> (<see cref="SealedLength"/> bytes): nonce, tag, ciphertext.</summary>
    public static void Seal(ReadOnlySpan<byte> plaintext, AesGcm aes, long index, uint headerCrc, Span<byte> body)
    {
        var nonce = body[..NonceBytes];
        RandomNumberGenerator.Fill(nonce);
        Span<byte> aad = stackalloc byte[12];
        BinaryPrimitives.WriteInt64LittleEndian(aad, index);
        BinaryPrimitives.WriteUInt32LittleEndian(aad[8..], headerCrc);
        aes.Encrypt(nonce, plaintext, body[(NonceBytes + TagBytes)..], body.Slice(NonceBytes, TagBytes), aad);
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
