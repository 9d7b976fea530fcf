using System.Buffers.Binary;

namespace FusionActors.Inference.Data;

/// <summary>Strict reader of RIFF/WAVE files holding 16-bit PCM, mono.</summary>
public static class WavFile
{
    /// <summary>
    /// Reads a mono 16-bit PCM WAV at <paramref name="expectedSampleRate"/> and returns its samples scaled to [-1, 1)
    /// (x / 32768). Other chunks (LIST, fact, ...) are skipped. <see cref="InvalidDataException"/> naming the file and
    /// the problem for anything else: not RIFF/WAVE, no fmt or data chunk, compressed, stereo, other bit depth or rate,
    /// truncated data.
    /// </summary>
    public static float[] ReadPcm16Mono(string path, int expectedSampleRate)
    {
        var bytes = File.ReadAllBytes(path);
        return ParsePcm16Mono(bytes, expectedSampleRate, path);
    }

    /// <summary>Same as <see cref="ReadPcm16Mono"/> for bytes in memory; <paramref name="source"/> names them in errors.</summary>
    public static float[] ParsePcm16Mono(ReadOnlySpan<byte> bytes, int expectedSampleRate, string source = "wav")
    {
        if (bytes.Length < 12 || !bytes[..4].SequenceEqual("RIFF"u8) || !bytes.Slice(8, 4).SequenceEqual("WAVE"u8))
            throw Bad(source, "not a RIFF/WAVE file");
        var pos = 12;
        var haveFormat = false;
        while (pos + 8 <= bytes.Length)
        {
            var id = bytes.Slice(pos, 4);
            var size = BinaryPrimitives.ReadUInt32LittleEndian(bytes.Slice(pos + 4, 4));
            var body = pos + 8;
            if (id.SequenceEqual("fmt "u8))
            {
                if (size < 16 || body + 16 > bytes.Length)
                    throw Bad(source, "fmt chunk is truncated");
                var format = BinaryPrimitives.ReadUInt16LittleEndian(bytes.Slice(body, 2));
                var channels = BinaryPrimitives.ReadUInt16LittleEndian(bytes.Slice(body + 2, 2));
                var rate = BinaryPrimitives.ReadInt32LittleEndian(bytes.Slice(body + 4, 4));
                var bits = BinaryPrimitives.ReadUInt16LittleEndian(bytes.Slice(body + 14, 2));
                // 0xFFFE (extensible) is accepted only because some writers use it for plain PCM too.
                if (format != 1 && format != 0xFFFE)
                    throw Bad(source, $"audio format {format} is not PCM (1)");
                if (channels != 1)
                    throw Bad(source, $"{channels} channels, expected mono");
                if (bits != 16)
                    throw Bad(source, $"{bits}-bit samples, expected 16-bit");
                if (rate != expectedSampleRate)
                    throw Bad(source, $"sample rate {rate} Hz, expected {expectedSampleRate} Hz");
                haveFormat = true;
            }
            else if (id.SequenceEqual("data"u8))
            {
                if (!haveFormat)
                    throw Bad(source, "data chunk before fmt chunk");
                if (size > (uint)(bytes.Length - body))
                    throw Bad(source, $"data chunk says {size} bytes, file has {bytes.Length - body}");
                if (size % 2 != 0)
                    throw Bad(source, $"data chunk has an odd byte count ({size}) for 16-bit samples");
                var samples = new float[size / 2];
                for (var i = 0; i < samples.Length; i++)
                    samples[i] = BinaryPrimitives.ReadInt16LittleEndian(bytes.Slice(body + 2 * i, 2)) / 32768f;
                return samples;
            }

            pos = body + (int)Math.Min(size + (size & 1), int.MaxValue - body); // chunks are word-aligned
        }

        throw Bad(source, haveFormat ? "no data chunk" : "no fmt chunk");
    }

    private static InvalidDataException Bad(string source, string problem) => new($"{source}: invalid WAV: {problem}");
}
