using System.Text;

namespace FusionActors.Inference.Data;

/// <summary>Strict reader of binary greyscale PGM (P5) images with 8-bit samples.</summary>
public static class PgmFile
{
    /// <summary>
    /// Reads a P5 PGM of exactly <paramref name="width"/> x <paramref name="height"/> pixels (maxval 1..255) and returns
    /// its pixels row by row scaled to [0, 1] (x / maxval). <see cref="InvalidDataException"/> naming the file otherwise.
    /// </summary>
    public static float[] Read(string path, int width, int height) => Parse(File.ReadAllBytes(path), width, height, path);

    /// <summary>Same as <see cref="Read"/> for bytes in memory; <paramref name="source"/> names them in errors.</summary>
    public static float[] Parse(ReadOnlySpan<byte> bytes, int width, int height, string source = "pgm")
    {
        if (bytes.Length < 2 || bytes[0] != (byte)'P' || bytes[1] != (byte)'5')
            throw Bad(source, "not a binary PGM (magic P5)");
        var pos = 2;
        var w = Header(bytes, ref pos, source, "width");
        var h = Header(bytes, ref pos, source, "height");
        var max = Header(bytes, ref pos, source, "maxval");
        if (pos >= bytes.Length || !IsSpace(bytes[pos]))
            throw Bad(source, "no whitespace after maxval");
        pos++;
        if (w != width || h != height)
            throw Bad(source, $"{w}x{h} pixels, expected {width}x{height}");
        if (max is < 1 or > 255)
            throw Bad(source, $"maxval {max}, expected 1..255 (8-bit samples)");
        var expected = width * height;
        if (bytes.Length - pos != expected)
            throw Bad(source, $"{bytes.Length - pos} pixel bytes, expected {expected}");
        var pixels = new float[expected];
        for (var i = 0; i < expected; i++)
        {
            var v = bytes[pos + i];
            if (v > max)
                throw Bad(source, $"pixel {i} is {v}, above maxval {max}");
            pixels[i] = v / (float)max;
        }

        return pixels;
    }

    private static int Header(ReadOnlySpan<byte> bytes, ref int pos, string source, string field)
    {
        // Whitespace and '#' comments may separate header fields.
        while (pos < bytes.Length && (IsSpace(bytes[pos]) || bytes[pos] == (byte)'#'))
        {
            if (bytes[pos] == (byte)'#')
            {
                while (pos < bytes.Length && bytes[pos] != (byte)'\n')
                    pos++;
            }
            else
            {
                pos++;
            }
        }

        var start = pos;
        while (pos < bytes.Length && bytes[pos] >= (byte)'0' && bytes[pos] <= (byte)'9')
            pos++;
        if (pos == start || pos - start > 9)
            throw Bad(source, $"header field {field} is missing or not a number");
        return int.Parse(Encoding.ASCII.GetString(bytes[start..pos]));
    }

    private static bool IsSpace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r';

    private static InvalidDataException Bad(string source, string problem) => new($"{source}: invalid PGM: {problem}");
}
