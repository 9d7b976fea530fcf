using System.Buffers.Binary;
using System.IO.Hashing;
using System.Security.Cryptography;
using System.Text;

namespace FusionActors.Runtime.Recording;

/// <summary>What a recording's header says.</summary>
public sealed record RecordingHeader(ushort Version, string SessionId, string? KeyId, long CreatedUs, int Length, uint Crc)
{
    public bool Encrypted => KeyId is not null;
}

/// <summary>
/// A recording read back: its header, the records of its readable prefix, how many bytes that prefix is, and why reading
/// stopped before the end of the file (null when the whole file was read).
/// </summary>
public sealed record RecordingContents(RecordingHeader Header, IReadOnlyList<Recorded> Records, long BytesRead, long FileBytes, string? StoppedBecause)
{
    public bool Complete => StoppedBecause is null;
}

/// <summary>A file that is no session recording, or one encrypted with a key the reader does not have.</summary>
public sealed class RecordingFormatException(string message) : Exception(message);

/// <summary>
/// Reads a recording up to its first bad chunk: a torn write at a crash, a bit flip, a tampered or reordered chunk all
/// end the readable prefix there (a chunk's records are read all or none), and the reader says how much it read and why
/// it stopped.
/// </summary>
public static class RecordingReader
{
    /// <exception cref="RecordingFormatException">the header is not a recording's, or the file is encrypted with a key not in <paramref name="keys"/>.</exception>
    public static RecordingContents Read(string path, RecordingKeys? keys = null)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        return Read(file, keys);
    }

    public static RecordingContents Read(Stream file, RecordingKeys? keys = null)
    {
        keys ??= RecordingKeys.None;
        var header = ReadHeader(file);
        byte[]? key = null;
        if (header.KeyId is { } id && !keys.TryGet(id, out key))
            throw new RecordingFormatException($"the recording is encrypted with key '{id}', which is not among this reader's keys" +
                                               (keys.Ids.Count == 0 ? " (it has none)" : $" ({string.Join(", ", keys.Ids)})"));
        var aes = key is null ? null : new AesGcm(key, RecordingFile.TagBytes);
        try
        {
            var records = new List<Recorded>();
            long read = header.Length;
            var prefix = new byte[8];
            var aad = new byte[12]; // the chunk's index, then the header's CRC-32
            BinaryPrimitives.WriteUInt32LittleEndian(aad.AsSpan(8), header.Crc);
            string? stopped = null;
            for (long index = 0; ; index++)
            {
                var got = Fill(file, prefix);
                if (got == 0) break;
                if (got < prefix.Length)
                {
                    stopped = $"truncated: chunk {index} has {got} of its 8 framing bytes";
                    break;
                }
                var length = BinaryPrimitives.ReadUInt32LittleEndian(prefix);
                var crc = BinaryPrimitives.ReadUInt32LittleEndian(prefix.AsSpan(4));
                if (length > RecordingFile.MaxChunkBytes || (aes is not null && length < RecordingFile.NonceBytes + RecordingFile.TagBytes))
                {
                    stopped = $"chunk {index} claims {length} bytes, outside the format's bounds";
                    break;
                }
                var body = new byte[length];
                got = Fill(file, body);
                if (got < length)
                {
                    stopped = $"truncated: chunk {index} has {got} of its {length} bytes";
                    break;
                }
                if (Crc32.HashToUInt32(body) != crc)
                {
                    stopped = $"chunk {index} fails its CRC-32";
                    break;
                }
                var plaintext = body;
                if (aes is not null)
                {
                    plaintext = new byte[length - RecordingFile.NonceBytes - RecordingFile.TagBytes];
                    BinaryPrimitives.WriteInt64LittleEndian(aad, index);
                    try
                    {
                        aes.Decrypt(body.AsSpan(0, RecordingFile.NonceBytes), body.AsSpan(RecordingFile.NonceBytes + RecordingFile.TagBytes),
                            body.AsSpan(RecordingFile.NonceBytes, RecordingFile.TagBytes), plaintext, aad);
                    }
                    catch (AuthenticationTagMismatchException)
                    {
                        stopped = $"chunk {index} fails authentication (tampered, moved, or another key)";
                        break;
                    }
                }
                // A chunk is whole or not at all: its records join the prefix only once every one of them decoded.
                var before = records.Count;
                try
                {
                    if (header.Version == RecordingFile.VersionOneRecordPerChunk) records.Add(RecordCodec.Read(plaintext));
                    else ReadRecords(plaintext, records);
                }
                catch (InvalidDataException e)
                {
                    records.RemoveRange(before, records.Count - before);
                    stopped = $"chunk {index} is malformed: {e.Message}";
                    break;
                }
                read += 8 + length;
            }
            return new RecordingContents(header, records, read, file.CanSeek ? file.Length : read, stopped);
        }
        finally
        {
            aes?.Dispose();
        }
    }

    /// <summary>A chunk's records, each after its u32 length; at least one, and no byte over.</summary>
    private static void ReadRecords(ReadOnlySpan<byte> plaintext, List<Recorded> into)
    {
        if (plaintext.IsEmpty) throw new InvalidDataException("a chunk without records");
        while (!plaintext.IsEmpty)
        {
            if (plaintext.Length < 4) throw new InvalidDataException($"a record's length cut short ({plaintext.Length} of 4 bytes)");
            var length = BinaryPrimitives.ReadUInt32LittleEndian(plaintext);
            if (length > plaintext.Length - 4) throw new InvalidDataException($"a record of {length} bytes in the {plaintext.Length - 4} left of its chunk");
            into.Add(RecordCodec.Read(plaintext.Slice(4, (int)length)));
            plaintext = plaintext[(4 + (int)length)..];
        }
    }

    private static RecordingHeader ReadHeader(Stream file)
    {
        // magic 8, version 2, flags 1, key id 1+n (n <= 64), session id 2+m (m <= 1024), created 8, crc 4
        var start = new byte[12];
        if (Fill(file, start) < start.Length || !start.AsSpan(0, 8).SequenceEqual(RecordingFile.Magic))
            throw new RecordingFormatException("not a session recording (no FUSIONRC header)");
        var version = BinaryPrimitives.ReadUInt16LittleEndian(start.AsSpan(8));
        if (version is not (RecordingFile.Version or RecordingFile.VersionOneRecordPerChunk))
            throw new RecordingFormatException($"recording format version {version}; this reader reads {RecordingFile.VersionOneRecordPerChunk} and {RecordingFile.Version}");
        var flags = start[10];
        var keyLength = start[11];
        if (flags > 1 || keyLength > RecordingKeys.MaxIdLength || (flags == 1) != (keyLength > 0))
            throw new RecordingFormatException("a malformed recording header");
        var keyAndIdLength = new byte[keyLength + 2];
        if (Fill(file, keyAndIdLength) < keyAndIdLength.Length) throw new RecordingFormatException("a truncated recording header");
        var idLength = BinaryPrimitives.ReadUInt16LittleEndian(keyAndIdLength.AsSpan(keyLength));
        if (idLength > RecordingFile.MaxSessionIdBytes) throw new RecordingFormatException("a malformed recording header");
        var rest = new byte[idLength + 12];
        if (Fill(file, rest) < rest.Length) throw new RecordingFormatException("a truncated recording header");
        var all = new byte[start.Length + keyAndIdLength.Length + rest.Length - 4];
        start.CopyTo(all, 0);
        keyAndIdLength.CopyTo(all, start.Length);
        rest.AsSpan(0, rest.Length - 4).CopyTo(all.AsSpan(start.Length + keyAndIdLength.Length));
        var crc = BinaryPrimitives.ReadUInt32LittleEndian(rest.AsSpan(rest.Length - 4));
        if (Crc32.HashToUInt32(all) != crc) throw new RecordingFormatException("the recording header fails its CRC-32");
        var strict = new UTF8Encoding(false, true);
        try
        {
            var keyId = keyLength == 0 ? null : strict.GetString(keyAndIdLength, 0, keyLength);
            var sessionId = strict.GetString(rest, 0, idLength);
            var created = BinaryPrimitives.ReadInt64LittleEndian(rest.AsSpan(idLength));
            return new RecordingHeader(version, sessionId, keyId, created, all.Length + 4, crc);
        }
        catch (DecoderFallbackException) { throw new RecordingFormatException("a recording header with text that is not UTF-8"); }
    }

    private static int Fill(Stream s, byte[] buffer)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            var n = s.Read(buffer, total, buffer.Length - total);
            if (n == 0) break;
            total += n;
        }
        return total;
    }
}
