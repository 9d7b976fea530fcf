using System.Text.Json;

namespace FusionActors.Inference;

/// <summary>
/// The models of one models.json. File paths in it are relative to the directory of models.json.
/// Format: <c>{"models":[{"name","file","modality","input":{"name","shape","min","max","sampleRate"?},
/// "outputs":{"embedding":{"name","size"},"logits"?:{"name","size"}},"labels","temperature"?,"drift"? (see <see cref="Drift.DriftJson"/>), ...}]}</c>;
/// other members (metrics, training provenance) are ignored here.
/// </summary>
public sealed class ModelCatalog
{
    /// <summary>Environment variable that overrides <see cref="FindDefault"/>: a models.json file or its directory.</summary>
    public const string EnvironmentVariable = "FUSION_MODELS";

    private readonly Dictionary<string, ModelSpec> _byName;

    public ModelCatalog(string path, IReadOnlyList<ModelSpec> models)
    {
        Path = path;
        Models = models;
        _byName = new Dictionary<string, ModelSpec>(StringComparer.Ordinal);
        foreach (var m in models)
        {
            if (!_byName.TryAdd(m.Name, m))
                throw new InvalidDataException($"{path}: model '{m.Name}' is listed twice");
        }
    }

    /// <summary>Absolute path of the models.json this catalog came from.</summary>
    public string Path { get; }

    public IReadOnlyList<ModelSpec> Models { get; }

    /// <summary>The model called <paramref name="name"/>; <see cref="KeyNotFoundException"/> naming the known models otherwise.</summary>
    public ModelSpec Get(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (_byName.TryGetValue(name, out var spec))
            return spec;
        throw new KeyNotFoundException(
            $"no model '{name}' in {Path}; known models: {string.Join(", ", _byName.Keys.Order(StringComparer.Ordinal))}");
    }

    public bool TryGet(string name, out ModelSpec spec) => _byName.TryGetValue(name, out spec!);

    /// <summary>Reads models.json; <see cref="FileNotFoundException"/> when it is missing, <see cref="InvalidDataException"/> when malformed.</summary>
    public static ModelCatalog Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var full = System.IO.Path.GetFullPath(path);
        if (!File.Exists(full))
            throw new FileNotFoundException($"model catalog not found: {full}", full);
        var dir = System.IO.Path.GetDirectoryName(full)!;
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllText(full));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{full}: not valid JSON: {e.Message}", e);
        }

        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("models", out var models) ||
                models.ValueKind != JsonValueKind.Array)
                throw new InvalidDataException($"{full}: expected an object with a \"models\" array");
            var specs = new List<ModelSpec>();
            var i = 0;
            foreach (var m in models.EnumerateArray())
                specs.Add(ParseModel(m, dir, $"{full}: models[{i++}]"));
            return new ModelCatalog(full, specs);
        }
    }

    /// <summary>
    /// Loads the default catalog: <see cref="EnvironmentVariable"/> when set, otherwise the first
    /// <c>models/models.json</c> found walking up from the current directory, then from <see cref="AppContext.BaseDirectory"/>.
    /// </summary>
    public static ModelCatalog FindDefault() => Load(FindDefaultPath());

    /// <summary>Path <see cref="FindDefault"/> would load; <see cref="FileNotFoundException"/> saying where it looked.</summary>
    public static string FindDefaultPath()
    {
        var env = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(env))
        {
            var candidate = Directory.Exists(env) ? System.IO.Path.Combine(env, "models.json") : env;
            if (!File.Exists(candidate))
                throw new FileNotFoundException($"{EnvironmentVariable}={env}: no models.json there", candidate);
            return System.IO.Path.GetFullPath(candidate);
        }

        return RepositoryFiles.Find(System.IO.Path.Combine("models", "models.json"), isDirectory: false);
    }

    private static ModelSpec ParseModel(JsonElement m, string dir, string where)
    {
        var name = RequiredString(m, "name", where);
        where = $"{where} ('{name}')";
        var file = RequiredString(m, "file", where);
        var modality = RequiredString(m, "modality", where);
        var input = Required(m, "input", where);
        var shape = Required(input, "shape", where + ".input").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        if (shape.Length < 2 || shape[0] != -1 || shape.Skip(1).Any(d => d <= 0))
            throw new InvalidDataException($"{where}.input.shape must be [-1, d1, ...] with positive dims, got [{string.Join(",", shape)}]");
        var min = (float)Required(input, "min", where + ".input").GetDouble();
        var max = (float)Required(input, "max", where + ".input").GetDouble();
        if (!(min < max))
            throw new InvalidDataException($"{where}.input: min {min} must be below max {max}");
        int? rate = input.TryGetProperty("sampleRate", out var sr) ? sr.GetInt32() : null;
        var outputs = Required(m, "outputs", where);
        var embedding = ParseOutput(Required(outputs, "embedding", where + ".outputs"), where + ".outputs.embedding");
        ModelOutputSpec? logits = outputs.TryGetProperty("logits", out var l) ? ParseOutput(l, where + ".outputs.logits") : null;
        var labels = m.TryGetProperty("labels", out var lab)
            ? lab.EnumerateArray().Select(e => e.GetString() ?? "").ToArray()
            : Array.Empty<string>();
        if (logits is not null && labels.Length != 0 && labels.Length != logits.Size)
            throw new InvalidDataException($"{where}: {labels.Length} labels for {logits.Size} logits");
        var temperature = m.TryGetProperty("temperature", out var t) ? t.GetDouble() : 1.0;
        if (!(temperature > 0) || double.IsInfinity(temperature))
            throw new InvalidDataException($"{where}: temperature must be positive, got {temperature}");
        var path = System.IO.Path.GetFullPath(System.IO.Path.Combine(dir, file));
        var drift = m.TryGetProperty("drift", out var dr) && dr.ValueKind != JsonValueKind.Null
            ? Drift.DriftJson.Parse(dr, where, embedding.Size, logits?.Size ?? 0)
            : null;
        return new ModelSpec(name, path, modality,
            new ModelInputSpec(RequiredString(input, "name", where + ".input"), shape, min, max, rate),
            embedding, logits, labels, temperature, drift);
    }

    private static ModelOutputSpec ParseOutput(JsonElement e, string where)
    {
        var size = Required(e, "size", where).GetInt32();
        if (size <= 0)
            throw new InvalidDataException($"{where}.size must be positive, got {size}");
        return new ModelOutputSpec(RequiredString(e, "name", where), size);
    }

    private static JsonElement Required(JsonElement e, string property, string where)
    {
        if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty(property, out var v) || v.ValueKind == JsonValueKind.Null)
            throw new InvalidDataException($"{where}: missing \"{property}\"");
        return v;
    }

    private static string RequiredString(JsonElement e, string property, string where)
    {
        var v = Required(e, property, where);
        if (v.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(v.GetString()))
            throw new InvalidDataException($"{where}: \"{property}\" must be a non-empty string");
        return v.GetString()!;
    }
}
