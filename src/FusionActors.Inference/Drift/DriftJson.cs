using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace FusionActors.Inference.Drift;

/// <summary>
/// The <c>"drift"</c> member of a model in models.json:
/// <code>
/// "drift": {
///   "energy":      { "temperature": 1, "median": m, "q95": q },
///   "mahalanobis": { "median": m, "q95": q, "means": [[...] × classes], "precision": [[...] × D] },
///   "fit": { ...provenance, ignored by the loader... }
/// }
/// </code>
/// At least one scorer; each normalised as <see cref="DriftNormaliser"/> describes. A model without it has no drift
/// score (NaN).
/// </summary>
public static partial class DriftJson
{
    /// <summary>The largest embedding a Mahalanobis scorer may have (its precision matrix is D×D).</summary>
    public const int MaxDimension = 1024;

    public const int MaxClasses = 1024;

    public static DriftModel Parse(JsonElement drift, string where, int embeddingSize, int classCount)
    {
        if (drift.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{where}: \"drift\" must be an object");
        var scorers = new List<NormalisedScorer>();
        foreach (var p in drift.EnumerateObject())
        {
            var at = $"{where}.drift.{p.Name}";
            switch (p.Name)
            {
                case EnergyScorer.ScorerName:
                    if (classCount == 0) throw new InvalidDataException($"{at}: the model has no logits to score");
                    var t = p.Value.TryGetProperty("temperature", out var te) ? Number(te, at + ".temperature") : 1.0;
                    if (!(t > 0) || !double.IsFinite(t)) throw new InvalidDataException($"{at}.temperature must be positive, got {t}");
                    scorers.Add(new NormalisedScorer(new EnergyScorer(t), Normaliser(p.Value, at)));
                    break;
                case MahalanobisScorer.ScorerName:
                    var means = Matrix(p.Value, "means", at);
                    var precision = Matrix(p.Value, "precision", at);
                    if (means.Length is 0 or > MaxClasses) throw new InvalidDataException($"{at}.means: 1 to {MaxClasses} class means, got {means.Length}");
                    if (classCount > 0 && means.Length != classCount) throw new InvalidDataException($"{at}.means: {means.Length} means for {classCount} classes");
                    if (embeddingSize > MaxDimension) throw new InvalidDataException($"{at}: embeddings over {MaxDimension} values are not supported");
                    if (means.Any(m => m.Length != embeddingSize))
                        throw new InvalidDataException($"{at}.means: every mean must have the embedding's {embeddingSize} values");
                    if (precision.Length != embeddingSize || precision.Any(r => r.Length != embeddingSize))
                        throw new InvalidDataException($"{at}.precision must be {embeddingSize}×{embeddingSize}");
                    scorers.Add(new NormalisedScorer(new MahalanobisScorer(means, precision), Normaliser(p.Value, at)));
                    break;
                case "fit":
                    break;
                default:
                    throw new InvalidDataException($"{at}: unknown drift scorer; known: {EnergyScorer.ScorerName}, {MahalanobisScorer.ScorerName}");
            }
        }
        if (scorers.Count == 0) throw new InvalidDataException($"{where}.drift: no scorer");
        return new DriftModel(scorers);
    }

    private static DriftNormaliser Normaliser(JsonElement e, string at)
    {
        if (!e.TryGetProperty("median", out var m) || !e.TryGetProperty("q95", out var q))
            throw new InvalidDataException($"{at}: missing \"median\" or \"q95\"");
        var n = new DriftNormaliser(Number(m, at + ".median"), Number(q, at + ".q95"));
        n.Validate(at);
        return n;
    }

    private static double Number(JsonElement e, string at) =>
        e.ValueKind == JsonValueKind.Number && e.TryGetDouble(out var v) && double.IsFinite(v) ? v
            : throw new InvalidDataException($"{at} must be a finite number");

    private static double[][] Matrix(JsonElement e, string name, string at)
    {
        if (!e.TryGetProperty(name, out var m) || m.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException($"{at}: \"{name}\" must be an array of rows");
        if (m.GetArrayLength() > MaxDimension) throw new InvalidDataException($"{at}.{name}: over {MaxDimension} rows");
        var rows = new double[m.GetArrayLength()][];
        var i = 0;
        foreach (var row in m.EnumerateArray())
        {
            if (row.ValueKind != JsonValueKind.Array || row.GetArrayLength() > MaxDimension)
                throw new InvalidDataException($"{at}.{name}[{i}] must be an array of at most {MaxDimension} numbers");
            var j = 0;
            var values = new double[row.GetArrayLength()];
            foreach (var v in row.EnumerateArray()) values[j] = Number(v, $"{at}.{name}[{i}][{j++}]");
            rows[i++] = values;
        }
        return rows;
    }

    /// <summary>The JSON of a fit, with <paramref name="provenance"/> as its <c>fit</c> member.</summary>
    public static JsonObject ToJson(DriftFitter.Fit fit, JsonObject provenance) => new()
    {
        [EnergyScorer.ScorerName] = new JsonObject
        {
            ["temperature"] = DriftFitter.EnergyTemperature,
            ["median"] = Round(fit.Energy.Median),
            ["q95"] = Round(fit.Energy.Q95),
        },
        [MahalanobisScorer.ScorerName] = new JsonObject
        {
            ["median"] = Round(fit.Mahalanobis.Median),
            ["q95"] = Round(fit.Mahalanobis.Q95),
            ["means"] = Rows(fit.Means),
            ["precision"] = Rows(fit.Precision),
        },
        ["fit"] = provenance,
    };

    private static double Round(double v) => double.Parse(v.ToString("G9", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    private static JsonArray Rows(double[][] m) => new([.. m.Select(r => (JsonNode)new JsonArray([.. r.Select(v => (JsonNode)JsonValue.Create(Round(v)))]))]);

    /// <summary>
    /// Sets model <paramref name="model"/>'s <c>"drift"</c> in the models.json at <paramref name="path"/>, keeping every
    /// other member as it was. Long rows of numbers are written on one line each.
    /// </summary>
    public static void Write(string path, string model, JsonObject drift)
    {
        var root = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new InvalidDataException($"{path}: not an object");
        var entry = (root["models"] as JsonArray)?.OfType<JsonObject>().FirstOrDefault(m => m["name"]?.GetValue<string>() == model)
            ?? throw new InvalidDataException($"{path}: no model '{model}'");
        entry["drift"] = drift;
        var text = root.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        File.WriteAllText(path, LongNumberRow().Replace(text, m => "[" + Whitespace().Replace(m.Groups[1].Value, " ").Trim() + "]") + "\n");
    }

    // An array of at least 8 numbers (shapes have 2-4, so only drift rows match).
    [GeneratedRegex(@"\[\s*((?:-?[0-9][0-9.eE+\-]*\s*,\s*){7,}-?[0-9][0-9.eE+\-]*)\s*\]")]
    private static partial Regex LongNumberRow();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
