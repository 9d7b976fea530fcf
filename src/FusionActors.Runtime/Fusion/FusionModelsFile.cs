using System.Text.Json;
using FusionActors.Core.Fusion;
using FusionActors.Core.Fusion.Policies;

namespace FusionActors.Runtime.Fusion;

/// <summary>
/// Reads models/fusion.json, the fusion's own fitted parameters (docs/models.md, "Fusion calibration and the learned
/// head"): <c>calibration</c> (policy → availability pattern → temperature) and <c>learned</c> (the head's ONNX file,
/// relative to the JSON, and the feature names it was trained on, which must be <see cref="LearnedFeatures.Names"/>).
/// The file is an operator's input: its size, entry count, names and values are bounded, and anything off is an
/// <see cref="InvalidDataException"/> that names the file and the member.
/// </summary>
public static class FusionModelsFile
{
    public const string FileName = "fusion.json";

    /// <summary>Larger than any real one (a few KB): a bigger file is refused unread.</summary>
    public const long MaxBytes = 256 * 1024;

    private static readonly JsonDocumentOptions Options = new() { MaxDepth = 8, CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = false };

    /// <summary>fusion.json next to <paramref name="modelsJson"/> (a models.json path), or <see cref="FusionModels.None"/> when there is none.</summary>
    public static FusionModels LoadBeside(string modelsJson)
    {
        var path = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(modelsJson))!, FileName);
        return File.Exists(path) ? Load(path) : FusionModels.None;
    }

    /// <exception cref="InvalidDataException">Malformed, out of range, or a head that does not fit this node.</exception>
    /// <exception cref="FileNotFoundException">The file, or the head it names, is missing.</exception>
    public static FusionModels Load(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists) throw new FileNotFoundException($"{path} not found", path);
        if (info.Length > MaxBytes) throw new InvalidDataException($"{path}: {info.Length} bytes, more than the {MaxBytes} a fusion.json may have");
        JsonDocument doc;
        try { doc = JsonDocument.Parse(File.ReadAllBytes(path), Options); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not valid JSON: {e.Message}", e); }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{path}: the root must be an object");
            var calibration = FusionCalibration.Identity;
            if (root.TryGetProperty("calibration", out var cal))
                calibration = ReadCalibration(path, cal);
            ILearnedWeighting? head = null;
            if (root.TryGetProperty("learned", out var learned))
                head = ReadHead(path, learned);
            return new FusionModels(calibration, head);
        }
    }

    private static FusionCalibration ReadCalibration(string path, JsonElement cal)
    {
        if (cal.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{path}: 'calibration' must be an object (policy → pattern → temperature)");
        var temperatures = new Dictionary<string, IReadOnlyDictionary<string, double>>(StringComparer.Ordinal);
        foreach (var policy in cal.EnumerateObject())
        {
            if (policy.Value.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"{path}: calibration.{policy.Name} must be an object (pattern → temperature)");
            var patterns = new Dictionary<string, double>(StringComparer.Ordinal);
            foreach (var pattern in policy.Value.EnumerateObject())
            {
                if (pattern.Value.ValueKind != JsonValueKind.Number || !pattern.Value.TryGetDouble(out var t))
                    throw new InvalidDataException($"{path}: calibration.{policy.Name}.{pattern.Name} must be a number");
                if (!patterns.TryAdd(pattern.Name, t)) throw new InvalidDataException($"{path}: calibration.{policy.Name}.{pattern.Name} is given twice");
            }
            if (!temperatures.TryAdd(policy.Name, patterns)) throw new InvalidDataException($"{path}: calibration.{policy.Name} is given twice");
        }
        try { return new FusionCalibration(temperatures); }
        catch (ArgumentException e) { throw new InvalidDataException($"{path}: {e.Message}", e); }
    }

    private static OnnxLearnedWeighting ReadHead(string path, JsonElement learned)
    {
        if (learned.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{path}: 'learned' must be an object");
        if (!learned.TryGetProperty("file", out var fileEl) || fileEl.ValueKind != JsonValueKind.String || fileEl.GetString() is not { Length: > 0 and <= 255 } file)
            throw new InvalidDataException($"{path}: learned.file must be the head's ONNX file name (1-255 characters)");
        if (Path.IsPathRooted(file) || file.Contains("..", StringComparison.Ordinal))
            throw new InvalidDataException($"{path}: learned.file must be a file beside fusion.json, not '{file}'");
        if (!learned.TryGetProperty("features", out var featuresEl) || featuresEl.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException($"{path}: learned.features must list the feature names the head was trained on");
        var features = new List<string>();
        foreach (var f in featuresEl.EnumerateArray())
        {
            if (f.ValueKind != JsonValueKind.String || features.Count >= 256) throw new InvalidDataException($"{path}: learned.features must be at most 256 names");
            features.Add(f.GetString()!);
        }
        if (!features.SequenceEqual(LearnedFeatures.Names))
            throw new InvalidDataException(
                $"{path}: the head was trained on features [{string.Join(", ", features)}], this node computes [{string.Join(", ", LearnedFeatures.Names)}]: retrain it (docs/models.md)");
        var onnx = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, file);
        return new OnnxLearnedWeighting(onnx, features.Count);
    }
}
