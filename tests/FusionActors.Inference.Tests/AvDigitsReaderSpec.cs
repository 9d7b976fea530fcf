using System.Text;
using FusionActors.Inference.Data;

namespace FusionActors.Inference.Tests;

public sealed class AvDigitsReaderSpec
{
    private static byte[] Wav(int samples, int rate = 16000, short channels = 1, short bits = 16, short format = 1,
        bool extraChunk = false, int? dataSizeOverride = null)
    {
        var data = new byte[samples * channels * bits / 8];
        for (var i = 0; i + 1 < data.Length; i += 2)
            BitConverter.GetBytes((short)(i % 2000 - 1000)).CopyTo(data, i);
        using var ms = new MemoryStream();
        using var w = new BinaryWriter(ms);
        w.Write("RIFF"u8);
        w.Write(0);
        w.Write("WAVE"u8);
        if (extraChunk)
        {
            w.Write("LIST"u8);
            w.Write(3);
            w.Write(new byte[] { 1, 2, 3, 0 }); // odd size, padded
        }

        w.Write("fmt "u8);
        w.Write(16);
        w.Write(format);
        w.Write(channels);
        w.Write(rate);
        w.Write(rate * channels * bits / 8);
        w.Write((short)(channels * bits / 8));
        w.Write(bits);
        w.Write("data"u8);
        w.Write(dataSizeOverride ?? data.Length);
        w.Write(data);
        w.Flush();
        var bytes = ms.ToArray();
        BitConverter.GetBytes(bytes.Length - 8).CopyTo(bytes, 4);
        return bytes;
    }

    private static byte[] Pgm(string header, int pixels, byte value = 128) =>
        Encoding.ASCII.GetBytes(header).Concat(Enumerable.Repeat(value, pixels)).ToArray();

    [Fact]
    public void A_valid_wav_must_read_as_samples_scaled_to_minus_one_to_one()
    {
        var pcm = WavFile.ParsePcm16Mono(Wav(16000, extraChunk: true), 16000);
        Assert.Equal(16000, pcm.Length);
        Assert.Equal(-1000 / 32768f, pcm[0]);
        Assert.All(pcm, v => Assert.InRange(v, -1f, 1f));
    }

    [Theory]
    [InlineData("rate", "sample rate 22050 Hz, expected 16000 Hz")]
    [InlineData("stereo", "2 channels, expected mono")]
    [InlineData("8bit", "8-bit samples")]
    [InlineData("float", "not PCM")]
    [InlineData("truncated", "data chunk says")]
    [InlineData("notriff", "not a RIFF/WAVE file")]
    [InlineData("nodata", "no data chunk")]
    public void A_malformed_wav_must_be_refused_with_the_reason(string kind, string reason)
    {
        var bytes = kind switch
        {
            "rate" => Wav(100, rate: 22050),
            "stereo" => Wav(100, channels: 2),
            "8bit" => Wav(100, bits: 8),
            "float" => Wav(100, format: 3),
            "truncated" => Wav(100, dataSizeOverride: 100000),
            "notriff" => Encoding.ASCII.GetBytes("ID3 this is an mp3 file, honest"),
            "nodata" => Wav(100)[..36],
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        var e = Assert.Throws<InvalidDataException>(() => WavFile.ParsePcm16Mono(bytes, 16000, "clip.wav"));
        Assert.Contains("clip.wav", e.Message);
        Assert.Contains(reason, e.Message);
    }

    [Fact]
    public void A_valid_pgm_with_a_comment_must_read_as_pixels_scaled_to_zero_to_one()
    {
        var pixels = PgmFile.Parse(Pgm("P5\n# made by hand\n8 8\n16\n", 64, 16), 8, 8);
        Assert.Equal(64, pixels.Length);
        Assert.All(pixels, p => Assert.Equal(1f, p));
    }

    [Theory]
    [InlineData("P2\n8 8\n255\n", 64, "magic P5")]
    [InlineData("P5\n8 7\n255\n", 56, "8x7 pixels, expected 8x8")]
    [InlineData("P5\n8 8\n65535\n", 128, "maxval 65535")]
    [InlineData("P5\n8 8\n255\n", 63, "63 pixel bytes, expected 64")]
    [InlineData("P5\n8 8\n255\n", 65, "65 pixel bytes, expected 64")]
    [InlineData("P5\n8\n", 0, "height is missing")]
    [InlineData("P5\n8 8\n100\n", 64, "above maxval 100")]
    public void A_malformed_pgm_must_be_refused_with_the_reason(string header, int pixels, string reason)
    {
        var e = Assert.Throws<InvalidDataException>(() => PgmFile.Parse(Pgm(header, pixels), 8, 8, "digit.pgm"));
        Assert.Contains("digit.pgm", e.Message);
        Assert.Contains(reason, e.Message);
    }

    private static string Line(string id = "te-1", int label = 3, string split = "test", string? audio = null,
        string? image = null) =>
        $$"""{"id":"{{id}}","label":{{label}},"split":"{{split}}","audio":"{{audio ?? $"audio/{id}.wav"}}","image":"{{image ?? $"images/{id}.pgm"}}","voice":"en-us+m3","speed":150,"pitch":50,"imageIndex":7}""";

    private static TempDirectory DataSet(params string[] lines)
    {
        var dir = new TempDirectory();
        dir.Write("manifest.jsonl", string.Join("\n", lines) + "\n");
        foreach (var id in new[] { "te-1", "te-2", "tr-1" })
        {
            dir.Write($"audio/{id}.wav", Wav(16000));
            dir.Write($"images/{id}.pgm", Pgm("P5\n8 8\n255\n", 64));
        }

        return dir;
    }

    [Fact]
    public void A_valid_data_set_must_load_with_its_metadata_and_filter_by_split()
    {
        using var dir = DataSet(Line(), "", Line("tr-1", 5, "train"));
        var all = AvDigitsDataset.Load(dir.Path);
        Assert.Equal(2, all.Items.Count);
        var item = all.Items[0];
        Assert.Equal(("te-1", 3, "test", "en-us+m3", (int?)150, (int?)50, (int?)7), (item.Id, item.Label, item.Split, item.Voice, item.Speed, item.Pitch, item.ImageIndex));
        Assert.Equal(16000, item.Pcm.Length);
        Assert.Equal(64, item.Image.Length);
        Assert.Equal(128 / 255f, item.Image[0]);
        Assert.Equal(["tr-1"], AvDigitsDataset.Load(dir.Path, "train").Items.Select(i => i.Id));
    }

    [Fact]
    public void A_data_set_without_espeak_metadata_must_load_with_null_speed_pitch_and_image_index()
    {
        using var dir = DataSet(
            """{"id":"te-1","label":3,"split":"test","audio":"audio/te-1.wav","image":"images/te-1.pgm","voice":"recorded"}""",
            """{"id":"te-2","label":4,"split":"test","audio":"audio/te-2.wav","image":"images/te-2.pgm","voice":"recorded","speed":null,"pitch":null,"imageIndex":null,"font":"Breip.ttf"}""",
            """{"id":"tr-1","label":5,"split":"train","audio":"audio/tr-1.wav","image":"images/tr-1.pgm","voice":"en-us+m3","speed":170,"imageIndex":12}""");
        var items = AvDigitsDataset.Load(dir.Path).Items;
        Assert.Equal(["te-1", "te-2", "tr-1"], items.Select(i => i.Id));
        Assert.All(items.Take(2), i => Assert.Equal(((int?)null, (int?)null, (int?)null), (i.Speed, i.Pitch, i.ImageIndex)));
        Assert.Equal(((int?)170, (int?)null, (int?)12), (items[2].Speed, items[2].Pitch, items[2].ImageIndex));
        Assert.All(items, i => Assert.Equal((16000, 64), (i.Pcm.Length, i.Image.Length)));
    }

    [Theory]
    [InlineData("\"speed\":\"fast\"", "\"speed\" must be an integer")]
    [InlineData("\"pitch\":50.5", "\"pitch\" must be an integer")]
    [InlineData("\"imageIndex\":[7]", "\"imageIndex\" must be an integer")]
    public void An_optional_field_that_is_present_must_still_be_an_integer(string field, string reason)
    {
        using var dir = DataSet(
            $$"""{"id":"te-1","label":3,"split":"test","audio":"audio/te-1.wav","image":"images/te-1.pgm","voice":"v",{{field}}}""");
        var e = Assert.Throws<InvalidDataException>(() => AvDigitsDataset.Load(dir.Path));
        Assert.Contains("manifest.jsonl:1", e.Message);
        Assert.Contains(reason, e.Message);
    }

    [Fact]
    public void The_committed_ood_sample_must_load_balanced_with_typeset_images_and_shifted_speech()
    {
        var path = AvDigitsDataset.FindSample(AvDigitsDataset.OodSampleName);
        Assert.EndsWith(Path.Combine("samples", "avdigits-ood"), path);
        var items = AvDigitsDataset.Load(path).Items;
        Assert.Equal(200, items.Count);
        Assert.All(items, i => Assert.Equal("test", i.Split));
        Assert.All(items.GroupBy(i => i.Label), g => Assert.Equal(20, g.Count()));
        Assert.Equal(10, items.Select(i => i.Label).Distinct().Count());
        // The images are typeset digits, not scikit-learn's: no image index.
        Assert.All(items, i => Assert.Null(i.ImageIndex));
        // Speeds and pitches lie outside the training ranges (120..200 and 30..70).
        Assert.All(items, i => Assert.False(i.Speed is >= 120 and <= 200, $"{i.Id}: speed {i.Speed}"));
        Assert.All(items, i => Assert.False(i.Pitch is >= 30 and <= 70, $"{i.Id}: pitch {i.Pitch}"));
        Assert.All(items, i => Assert.All(i.Pcm, v => Assert.InRange(v, -1f, 1f)));
        Assert.All(items, i => Assert.All(i.Image, v => Assert.InRange(v, 0f, 1f)));
        Assert.All(items, i => Assert.True(i.Pcm.Any(v => v != 0f), $"{i.Id}: silent audio"));
        Assert.All(items, i => Assert.True(i.Image.Any(v => v > 0f), $"{i.Id}: blank image"));
    }

    [Theory]
    [InlineData("{\"id\":", "manifest.jsonl:2: not valid JSON")]
    [InlineData("[1,2]", "manifest.jsonl:2: expected a JSON object")]
    [InlineData("{\"id\":\"te-2\",\"label\":3}", "manifest.jsonl:2: missing \"split\"")]
    public void A_malformed_manifest_line_must_be_refused_with_its_line_number(string bad, string reason)
    {
        using var dir = DataSet(Line(), bad);
        var e = Assert.Throws<InvalidDataException>(() => AvDigitsDataset.Load(dir.Path));
        Assert.Contains(reason, e.Message);
    }

    [Fact]
    public void A_label_that_is_not_a_digit_or_an_unknown_split_must_be_refused()
    {
        using (var dir = DataSet(Line(label: 10)))
            Assert.Contains("label 10 is not a digit", Assert.Throws<InvalidDataException>(() => AvDigitsDataset.Load(dir.Path)).Message);
        using (var dir = DataSet(Line(split: "dev")))
            Assert.Contains("split 'dev'", Assert.Throws<InvalidDataException>(() => AvDigitsDataset.Load(dir.Path)).Message);
        using (var dir = DataSet(Line(), Line()))
            Assert.Contains("duplicate id 'te-1'", Assert.Throws<InvalidDataException>(() => AvDigitsDataset.Load(dir.Path)).Message);
    }

    [Fact]
    public void A_missing_or_escaping_file_must_be_refused_with_the_manifest_line()
    {
        using (var dir = DataSet(Line("te-3")))
        {
            var e = Assert.Throws<FileNotFoundException>(() => AvDigitsDataset.Load(dir.Path));
            Assert.Contains("manifest.jsonl:1", e.Message);
            Assert.Contains("te-3.wav", e.Message);
        }

        using (var dir = DataSet(Line(audio: "../../etc/passwd")))
            Assert.Contains("leaves the data set directory", Assert.Throws<InvalidDataException>(() => AvDigitsDataset.Load(dir.Path)).Message);
        using (var dir = new TempDirectory())
            Assert.Throws<FileNotFoundException>(() => AvDigitsDataset.Load(dir.Path));
    }

    [Fact]
    public void Audio_that_is_not_exactly_one_second_must_be_refused()
    {
        using var dir = DataSet(Line());
        dir.Write("audio/te-1.wav", Wav(15999));
        var e = Assert.Throws<InvalidDataException>(() => AvDigitsDataset.Load(dir.Path));
        Assert.Contains("15999 samples, expected exactly 16000", e.Message);
    }

    [Fact]
    public void The_committed_sample_must_be_found_without_configuration()
    {
        var path = AvDigitsDataset.FindSample();
        Assert.EndsWith(Path.Combine("samples", "avdigits"), path);
        Assert.True(File.Exists(Path.Combine(path, "manifest.jsonl")));
    }
}
