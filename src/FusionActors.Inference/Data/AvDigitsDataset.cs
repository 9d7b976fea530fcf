using System.Text.Json;

namespace FusionActors.Inference.Data;

/// <summary>
/// Reader of the AV-Digits format written by tools/avdigits/build_dataset.py and build_ood.py: a directory with
/// <c>manifest.jsonl</c> (one item per line: id, label, split, audio, image, voice, and optionally speed, pitch
/// and imageIndex), <c>audio/ID.wav</c> (16 kHz mono 16-bit PCM, exactly 16000 samples) and
/// <c>images/ID.pgm</c> (8x8 P5 PGM). The optional fields describe how an item was made (espeak-ng speed and
/// pitch, index in scikit-learn's digits); a data set whose speech or images come from elsewhere leaves them out
/// (or sets them to null), and the item has <c>null</c> there. Other fields are ignored.
/// Every error (malformed line, missing field, bad file) is an <see cref="InvalidDataException"/> or
/// <see cref="FileNotFoundException"/> naming the file and, for the manifest, the line.
/// </summary>
public sealed class AvDigitsDataset
{
    public const int SampleRate = 16000;
    public const int PcmLength = 16000;
    public const int ImageSide = 8;
    public const int ImageLength = ImageSide * ImageSide;

    /// <summary>Environment variable that overrides <see cref="FindSample()"/>: a data set directory.</summary>
    public const string EnvironmentVariable = "FUSION_SAMPLES";

    /// <summary>Name under <c>samples/</c> of the committed in-distribution sample (test split).</summary>
    public const string SampleName = "avdigits";

    /// <summary>
    /// Name under <c>samples/</c> of the committed out-of-distribution sample (200 items of the channel-fonts
    /// split of tools/avdigits/build_ood.py).
    /// </summary>
    public const string OodSampleName = "avdigits-ood";

    private static readonly string[] Splits = ["train", "val", "test"];

    private AvDigitsDataset(string directory, IReadOnlyList<AvDigitsItem> items)
    {
        Directory = directory;
        Items = items;
    }

    /// <summary>Absolute path of the data set directory.</summary>
    public string Directory { get; }

    /// <summary>The items in manifest order.</summary>
    public IReadOnlyList<AvDigitsItem> Items { get; }

    /// <summary>
    /// Loads the items of <paramref name="directory"/>, all of them or those of <paramref name="split"/> only
    /// (only their audio and image files are read).
    /// </summary>
    public static AvDigitsDataset Load(string directory, string? split = null)
    {
        ArgumentNullException.ThrowIfNull(directory);
        if (split is not null && !Splits.Contains(split))
            throw new ArgumentException($"unknown split '{split}'; expected train, val or test", nameof(split));
        var root = Path.GetFullPath(directory);
        var manifest = Path.Combine(root, "manifest.jsonl");
        if (!File.Exists(manifest))
            throw new FileNotFoundException($"AV-Digits manifest not found: {manifest}", manifest);
        var items = new List<AvDigitsItem>();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        var lineNumber = 0;
        foreach (var line in File.ReadLines(manifest))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
                continue;
            var where = $"{manifest}:{lineNumber}";
            var entry = ParseLine(line, where);
            if (!ids.Add(entry.Id))
                throw new InvalidDataException($"{where}: duplicate id '{entry.Id}'");
            if (split is not null && entry.Split != split)
                continue;
            var pcm = WavFile.ReadPcm16Mono(DataFile(root, entry.Audio, where), SampleRate);
            if (pcm.Length != PcmLength)
                throw new InvalidDataException(
                    $"{Path.Combine(root, entry.Audio)}: {pcm.Length} samples, expected exactly {PcmLength} (1.0 s at {SampleRate} Hz)");
            var image = PgmFile.Read(DataFile(root, entry.Image, where), ImageSide, ImageSide);
            items.Add(new AvDigitsItem(entry.Id, entry.Label, entry.Split, entry.Voice, entry.Speed, entry.Pitch,
                entry.ImageIndex, pcm, image));
        }

        if (ids.Count == 0)
            throw new InvalidDataException($"{manifest}: no items");
        return new AvDigitsDataset(root, items);
    }

    /// <summary>
    /// Directory of the committed sample: <see cref="EnvironmentVariable"/> when set, otherwise the first
    /// <c>samples/avdigits</c> found walking up from the current directory, then from <see cref="AppContext.BaseDirectory"/>.
    /// </summary>
    public static string FindSample()
    {
        var env = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(env))
        {
            if (!System.IO.Directory.Exists(env))
                throw new DirectoryNotFoundException($"{EnvironmentVariable}={env}: no such directory");
            return Path.GetFullPath(env);
        }

        return FindSample(SampleName);
    }

    /// <summary>
    /// Directory of the committed sample <c>samples/<paramref name="name"/></c> (e.g. <see cref="OodSampleName"/>),
    /// the first found walking up from the current directory, then from <see cref="AppContext.BaseDirectory"/>.
    /// </summary>
    public static string FindSample(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return RepositoryFiles.Find(Path.Combine("samples", name), isDirectory: true);
    }

    /// <summary>Loads the committed sample (<see cref="FindSample()"/>).</summary>
    public static AvDigitsDataset LoadSample() => Load(FindSample());

    private static string DataFile(string root, string relative, string where)
    {
        var full = Path.GetFullPath(Path.Combine(root, relative));
        // Paths in the manifest must stay inside the data set.
        if (!full.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new InvalidDataException($"{where}: path '{relative}' leaves the data set directory");
        if (!File.Exists(full))
            throw new FileNotFoundException($"{where}: file not found: {full}", full);
        return full;
    }

    private sealed record Entry(string Id, int Label, string Split, string Audio, string Image, string Voice, int? Speed,
        int? Pitch, int? ImageIndex);

    private static Entry ParseLine(string line, string where)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(line);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{where}: not valid JSON: {e.Message}", e);
        }

        using (doc)
        {
            var o = doc.RootElement;
            if (o.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"{where}: expected a JSON object");
            var label = Int(o, "label", where);
            if (label is < 0 or > 9)
                throw new InvalidDataException($"{where}: label {label} is not a digit 0..9");
            var split = Str(o, "split", where);
            if (!Splits.Contains(split))
                throw new InvalidDataException($"{where}: split '{split}' is not train, val or test");
            return new Entry(Str(o, "id", where), label, split, Str(o, "audio", where), Str(o, "image", where),
                Str(o, "voice", where), OptionalInt(o, "speed", where), OptionalInt(o, "pitch", where),
                OptionalInt(o, "imageIndex", where));
        }
    }

    private static string Str(JsonElement o, string name, string where)
    {
        if (!o.TryGetProperty(name, out var v))
            throw new InvalidDataException($"{where}: missing \"{name}\"");
        if (v.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(v.GetString()))
            throw new InvalidDataException($"{where}: \"{name}\" must be a non-empty string");
        return v.GetString()!;
    }

    private static int Int(JsonElement o, string name, string where)
    {
        if (!o.TryGetProperty(name, out var v))
            throw new InvalidDataException($"{where}: missing \"{name}\"");
        return Integer(v, name, where);
    }

    /// <summary>An integer field that may be absent or null; present, it must be an integer.</summary>
    private static int? OptionalInt(JsonElement o, string name, string where) =>
        o.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? Integer(v, name, where) : null;

    private static int Integer(JsonElement v, string name, string where)
    {
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out var i))
            throw new InvalidDataException($"{where}: \"{name}\" must be an integer");
        return i;
    }
}
