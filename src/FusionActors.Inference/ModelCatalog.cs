using System.Text.Json;

namespace FusionActors.Inference;

/// <summary>
/// The models of one models.json. File paths in it are relative to the directory of models.json.
/// Format: <c>{"models":[{"name","file","modality","input":{"name","shape","min","max","sampleRate"?,"elementType"?,"transforms"?},
/// "inputs"?:[{"name","elementType"?,"shape","values"?,"stateFrom"?}],"frontEnd"?:{"file","input","output","transforms"?,"batched"?},
/// "outputs":{"embedding"?:{"name","size","pool"?},"logits"?:{"name","size","pool"?,"probabilities"?}},"labels"?|"vocabulary"?,
/// "temperature"?,"version"?,"drift"? (see <see cref="Drift.DriftJson"/>), ...}]}</c> (docs/models.md describes every field);
/// other members (metrics, training provenance) are ignored here. Every error names the model and the field.
/// </summary>
public sealed class ModelCatalog
{
    /// <summary>Environment variable that overrides <see cref="FindDefault"/>: a models.json file or its directory.</summary>
    public const string EnvironmentVariable = "FUSION_MODELS";

    /// <summary>Most dims of a declared tensor (beyond the batch axis).</summary>
    public const int MaxRank = 8;

    /// <summary>Most values of one declared input or constant tensor (16 Mi: 64 MB of float32).</summary>
    public const long MaxTensorValues = 1 << 24;

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
        try
        {
            return ParseModel(m, dir, where, name);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or OverflowException)
        {
            // JsonElement's typed getters throw these for a value of the wrong kind: report them as the file's error.
            throw new InvalidDataException($"{where}: a value has the wrong type: {e.Message}", e);
        }
    }

    private static ModelSpec ParseModel(JsonElement m, string dir, string where, string name)
    {
        var file = RequiredString(m, "file", where);
        var version = "1";
        if (m.TryGetProperty("version", out var ver) && ver.ValueKind != JsonValueKind.Null)
        {
            version = ver.ValueKind == JsonValueKind.String ? ver.GetString()! : "";
            if (!ModelSpec.IsValidVersion(version))
                throw new InvalidDataException($"{where}.version must be a string of 1 to {ModelSpec.MaxVersionLength} letters, digits or . _ - +");
        }
        var modality = RequiredString(m, "modality", where);
        var input = Required(m, "input", where);
        var shape = Ints(Required(input, "shape", where + ".input"), where + ".input.shape");
        if (shape.Length < 2 || shape[0] != -1 || shape.Skip(1).Any(d => d <= 0))
            throw new InvalidDataException($"{where}.input.shape must be [-1, d1, ...] with positive dims, got [{string.Join(",", shape)}]");
        if (shape.Length > MaxRank + 1 || shape.Skip(1).Aggregate(1L, (a, b) => a * b) > MaxTensorValues)
            throw new InvalidDataException($"{where}.input.shape: at most {MaxRank} dims and {MaxTensorValues} values per input, got [{string.Join(",", shape)}]");
        var min = (float)Required(input, "min", where + ".input").GetDouble();
        var max = (float)Required(input, "max", where + ".input").GetDouble();
        if (!(min < max))
            throw new InvalidDataException($"{where}.input: min {min} must be below max {max}");
        int? rate = input.TryGetProperty("sampleRate", out var sr) ? sr.GetInt32() : null;
        var elementType = input.TryGetProperty("elementType", out var et) ? ElementType(et, where + ".input.elementType") : TensorElementKind.Float32;
        var transforms = input.TryGetProperty("transforms", out var tr) ? Transforms(tr, where + ".input.transforms") : [];
        try
        {
            InputTransform.ShapeAfter(transforms, shape.Skip(1).ToArray());
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{where}.input.transforms: {e.Message}", e);
        }

        var outputs = Required(m, "outputs", where);
        ModelOutputSpec? embedding = outputs.TryGetProperty("embedding", out var em) && em.ValueKind != JsonValueKind.Null
            ? ParseOutput(em, where + ".outputs.embedding") : null;
        ModelOutputSpec? logits = outputs.TryGetProperty("logits", out var l) && l.ValueKind != JsonValueKind.Null
            ? ParseOutput(l, where + ".outputs.logits") : null;
        if (embedding is null && logits is null)
            throw new InvalidDataException($"{where}.outputs: needs \"embedding\" or \"logits\" (or both)");
        if (embedding?.Probabilities == true)
            throw new InvalidDataException($"{where}.outputs.embedding: \"probabilities\" applies to logits only");
        var labels = m.TryGetProperty("labels", out var lab) && lab.ValueKind != JsonValueKind.Null
            ? lab.EnumerateArray().Select(e => e.GetString() ?? "").ToArray()
            : Array.Empty<string>();
        if (m.TryGetProperty("vocabulary", out var vocab) && vocab.ValueKind != JsonValueKind.Null)
        {
            if (labels.Length != 0)
                throw new InvalidDataException($"{where}: \"labels\" and \"vocabulary\" exclude each other");
            if (logits is null)
                throw new InvalidDataException($"{where}.vocabulary: the model has no logits to name");
            labels = Vocabulary(vocab, dir, where + ".vocabulary", logits.Size);
        }
        if (logits is not null && labels.Length != 0 && labels.Length != logits.Size)
            throw new InvalidDataException($"{where}: {labels.Length} labels for {logits.Size} logits");
        if (logits is null && labels.Length != 0)
            throw new InvalidDataException($"{where}.labels: the model has no logits to name");
        var temperature = m.TryGetProperty("temperature", out var t) ? t.GetDouble() : 1.0;
        if (!(temperature > 0) || double.IsInfinity(temperature))
            throw new InvalidDataException($"{where}: temperature must be positive, got {temperature}");
        var path = System.IO.Path.GetFullPath(System.IO.Path.Combine(dir, file));
        var drift = m.TryGetProperty("drift", out var dr) && dr.ValueKind != JsonValueKind.Null
            ? Drift.DriftJson.Parse(dr, where, embedding?.Size ?? 0, logits?.Size ?? 0)
            : null;
        var extras = m.TryGetProperty("inputs", out var ins) && ins.ValueKind != JsonValueKind.Null ? ExtraInputs(ins, where + ".inputs") : [];
        var inputName = RequiredString(input, "name", where + ".input");
        if (extras.Any(x => x.Name == inputName))
            throw new InvalidDataException($"{where}.inputs: '{inputName}' is the payload input (input.name)");
        FrontEndSpec? frontEnd = null;
        if (m.TryGetProperty("frontEnd", out var fe) && fe.ValueKind != JsonValueKind.Null)
        {
            var w = where + ".frontEnd";
            frontEnd = new FrontEndSpec(
                System.IO.Path.GetFullPath(System.IO.Path.Combine(dir, RequiredString(fe, "file", w))),
                RequiredString(fe, "input", w), RequiredString(fe, "output", w),
                fe.TryGetProperty("transforms", out var ft) ? Transforms(ft, w + ".transforms") : [])
            {
                Batched = fe.TryGetProperty("batched", out var fb) && fb.GetBoolean(),
            };
            if (extras.Count > 0)
                throw new InvalidDataException($"{where}: \"inputs\" with a \"frontEnd\" is not supported (the front-end takes the payload alone)");
        }
        return new ModelSpec(name, path, modality,
            new ModelInputSpec(inputName, shape, min, max, rate) { ElementType = elementType, Transforms = transforms },
            embedding, logits, labels, temperature, drift)
        {
            ExtraInputs = extras,
            FrontEnd = frontEnd,
            Version = version,
        };
    }

    private static ModelOutputSpec ParseOutput(JsonElement e, string where)
    {
        var size = Required(e, "size", where).GetInt32();
        if (size <= 0)
            throw new InvalidDataException($"{where}.size must be positive, got {size}");
        OutputPooling? pool = null;
        if (e.TryGetProperty("pool", out var p) && p.ValueKind != JsonValueKind.Null)
        {
            var axis = Required(p, "axis", where + ".pool").GetInt32();
            if (axis < 1)
                throw new InvalidDataException($"{where}.pool.axis must be 1 or more (0 is the batch axis), got {axis}");
            var op = RequiredString(p, "op", where + ".pool") switch
            {
                "mean" => PoolOp.Mean,
                "max" => PoolOp.Max,
                var other => throw new InvalidDataException($"{where}.pool.op must be \"mean\" or \"max\", got \"{other}\""),
            };
            pool = new OutputPooling(axis, op);
        }
        var probabilities = e.TryGetProperty("probabilities", out var pr) && pr.GetBoolean();
        return new ModelOutputSpec(RequiredString(e, "name", where), size) { Pool = pool, Probabilities = probabilities };
    }

    private static TensorElementKind ElementType(JsonElement e, string where) => e.GetString() switch
    {
        "float32" => TensorElementKind.Float32,
        "int64" => TensorElementKind.Int64,
        "int32" => TensorElementKind.Int32,
        var other => throw new InvalidDataException($"{where} must be \"float32\", \"int64\" or \"int32\", got \"{other}\""),
    };

    private static int[] Ints(JsonElement e, string where)
    {
        if (e.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException($"{where} must be an array of integers");
        return e.EnumerateArray().Select(x => x.GetInt32()).ToArray();
    }

    private static IReadOnlyList<ExtraInputSpec> ExtraInputs(JsonElement e, string where)
    {
        if (e.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException($"{where} must be an array");
        var list = new List<ExtraInputSpec>();
        var i = 0;
        foreach (var x in e.EnumerateArray())
        {
            var w = $"{where}[{i++}]";
            var name = RequiredString(x, "name", w);
            w = $"{where}['{name}']";
            var type = x.TryGetProperty("elementType", out var t) ? ElementType(t, w + ".elementType") : TensorElementKind.Float32;
            var shape = Ints(Required(x, "shape", w), w + ".shape");
            if (shape.Any(d => d <= 0))
                throw new InvalidDataException($"{w}.shape must have positive dims (the full tensor, no batch axis), got [{string.Join(",", shape)}]");
            if (shape.Length > MaxRank || shape.Aggregate(1L, (a, b) => a * b) > MaxTensorValues)
                throw new InvalidDataException($"{w}.shape: at most {MaxRank} dims and {MaxTensorValues} values, got [{string.Join(",", shape)}]");
            var values = x.TryGetProperty("values", out var v) && v.ValueKind != JsonValueKind.Null
                ? v.EnumerateArray().Select(y => y.GetDouble()).ToArray() : [];
            string? from = x.TryGetProperty("stateFrom", out var f) && f.ValueKind != JsonValueKind.Null ? RequiredString(x, "stateFrom", w) : null;
            var length = shape.Aggregate(1, (a, b) => a * b);
            if (from is null && values.Length != length)
                throw new InvalidDataException($"{w}.values: a constant input needs {length} values for shape [{string.Join(",", shape)}], got {values.Length}");
            if (from is not null && values.Length is not (0 or 1) && values.Length != length)
                throw new InvalidDataException($"{w}.values: a state starts at none (zeros), one or {length} values, got {values.Length}");
            if (from is not null && type != TensorElementKind.Float32)
                throw new InvalidDataException($"{w}.elementType: a recurrent state must be float32");
            if (type != TensorElementKind.Float32 && values.Any(y => y != Math.Round(y)))
                throw new InvalidDataException($"{w}.values: {type} takes whole numbers");
            if (list.Any(p => p.Name == name))
                throw new InvalidDataException($"{w}: listed twice");
            list.Add(new ExtraInputSpec(name, type, shape, values, from));
        }
        return list;
    }

    private static IReadOnlyList<InputTransform> Transforms(JsonElement e, string where)
    {
        if (e.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException($"{where} must be an array");
        var list = new List<InputTransform>();
        var i = 0;
        foreach (var x in e.EnumerateArray())
        {
            var w = $"{where}[{i++}]";
            var op = RequiredString(x, "op", w);
            int Pos(string p)
            {
                var v = Required(x, p, w).GetInt32();
                return v > 0 && v <= 4096 ? v : throw new InvalidDataException($"{w}.{p} must be in 1..4096, got {v}");
            }
            float Num(string p, float fallback) => x.TryGetProperty(p, out var v) ? (float)v.GetDouble() : fallback;
            list.Add(op switch
            {
                "affine" => new AffineTransform(Num("scale", 1), Num("offset", 0)),
                "int16" => new AffineTransform(32767f, 0),
                "resize" => new ResizeTransform(Pos("height"), Pos("width")),
                "pad" => new PadTransform(Pos("height"), Pos("width"), Num("value", 0),
                    x.TryGetProperty("top", out var top) ? top.GetInt32() : 0, x.TryGetProperty("left", out var left) ? left.GetInt32() : 0),
                "repeatChannels" => new RepeatChannelsTransform(Pos("channels")),
                "transpose" => new TransposeTransform(Ints(Required(x, "perm", w), w + ".perm")),
                "crop" => new CropTransform(Required(x, "axis", w).GetInt32(), Required(x, "start", w).GetInt32(), Pos("length")),
                _ => throw new InvalidDataException($"{w}.op \"{op}\" is not one of affine, int16, resize, pad, repeatChannels, transpose, crop"),
            });
        }
        return list;
    }

    // A vocabulary file: one name a line, line k naming class offset + k; classes no line names stay unnamed.
    private static string[] Vocabulary(JsonElement e, string dir, string where, int size)
    {
        var file = System.IO.Path.GetFullPath(System.IO.Path.Combine(dir, RequiredString(e, "file", where)));
        var offset = e.TryGetProperty("offset", out var o) ? o.GetInt32() : 0;
        if (offset < 0)
            throw new InvalidDataException($"{where}.offset must not be negative, got {offset}");
        if (!File.Exists(file))
            throw new InvalidDataException($"{where}.file: {file} not found");
        var lines = File.ReadAllLines(file);
        if (offset + lines.Length > size)
            throw new InvalidDataException($"{where}: {lines.Length} names from class {offset} exceed the {size} logits");
        var labels = new string[size];
        Array.Fill(labels, "");
        for (var k = 0; k < lines.Length; k++) labels[offset + k] = lines[k];
        return labels;
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
