namespace FusionActors.Inference;

/// <summary>One model of models.json, with its file paths already resolved against the catalog's directory.</summary>
/// <param name="Name">Unique name, e.g. <c>audio-digits</c>.</param>
/// <param name="FilePath">Absolute path of the ONNX file (the embedding model when there is a <see cref="FrontEnd"/>).</param>
/// <param name="Modality">What the model sees, e.g. <c>audio</c> or <c>image</c>.</param>
/// <param name="Input">The payload input: what the stream hands the encoder, and how it becomes the graph's input.</param>
/// <param name="Embedding">The embedding output; null for a model that only has class outputs.</param>
/// <param name="Logits">The class-score output; null when the model has none (an embedding-only model).</param>
/// <param name="Labels">Class names in the order of <paramref name="Logits"/>; empty when unnamed or without logits.</param>
/// <param name="Temperature">Softmax temperature fitted on the validation split (1 when uncalibrated).</param>
/// <param name="Drift">How atypical an input is (models.json <c>"drift"</c>); null = the model's inputs get no drift score.</param>
public sealed record ModelSpec(
    string Name,
    string FilePath,
    string Modality,
    ModelInputSpec Input,
    ModelOutputSpec? Embedding,
    ModelOutputSpec? Logits,
    IReadOnlyList<string> Labels,
    double Temperature,
    Drift.DriftModel? Drift = null)
{
    /// <summary>Most characters of a <see cref="Version"/>.</summary>
    public const int MaxVersionLength = 32;

    /// <summary>
    /// The model's version (models.json <c>"version"</c>, default <c>"1"</c>): 1 to <see cref="MaxVersionLength"/>
    /// characters of letters, digits and <c>. _ - +</c>. Results name it (<see cref="OnnxEncoder.Tag"/>).
    /// </summary>
    public string Version
    {
        get => _version;
        init
        {
            if (!IsValidVersion(value))
                throw new ArgumentException($"model '{Name}': version must be 1 to {MaxVersionLength} letters, digits or . _ - +", nameof(Version));
            _version = value;
        }
    }
    private readonly string _version = "1";

    /// <summary>Whether <paramref name="version"/> is a version models.json may declare.</summary>
    public static bool IsValidVersion(string? version) =>
        version is { Length: > 0 and <= MaxVersionLength } && version.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or '+');

    /// <summary>Number of classes (0 when the model has no logits).</summary>
    public int ClassCount => Logits?.Size ?? 0;

    /// <summary>Further graph inputs: constant tensors and recurrent state (models.json <c>"inputs"</c>). Default none.</summary>
    public IReadOnlyList<ExtraInputSpec> ExtraInputs { get; init; } = [];

    /// <summary>A model that turns the payload into this model's input (models.json <c>"frontEnd"</c>); null = none.</summary>
    public FrontEndSpec? FrontEnd { get; init; }

    /// <summary>Whether an input's outputs depend on the stream's earlier inputs (a recurrent state input).</summary>
    public bool IsStateful => ExtraInputs.Any(i => i.StateFrom is not null);
}

/// <summary>Element type of a graph input.</summary>
public enum TensorElementKind
{
    Float32,
    Int64,
    Int32,
}

/// <summary>
/// The model's payload input: <paramref name="Shape"/> has -1 for the batch axis (first); <paramref name="Min"/> and
/// <paramref name="Max"/> bound every value. <paramref name="SampleRate"/> is set for audio inputs.
/// <paramref name="Name"/> is the model's graph input; with a <see cref="ModelSpec.FrontEnd"/> the payload binds to the
/// front-end's input and <paramref name="Name"/> receives the front-end's output.
/// </summary>
public sealed record ModelInputSpec(string Name, IReadOnlyList<int> Shape, float Min, float Max, int? SampleRate)
{
    /// <summary>Number of values in one input: the product of the non-batch dimensions.</summary>
    public int Length => Shape.Skip(1).Aggregate(1, (a, b) => a * b);

    /// <summary>Element type of the graph input (payload values are converted; integer types need integral values). Default float32.</summary>
    public TensorElementKind ElementType { get; init; } = TensorElementKind.Float32;

    /// <summary>Applied in order to each input before the model sees it (models.json <c>"transforms"</c>). Default none.</summary>
    public IReadOnlyList<InputTransform> Transforms { get; init; } = [];
}

/// <summary>
/// A graph output read as [batch, <paramref name="Size"/>] after optional pooling named <paramref name="Name"/> in the graph.
/// </summary>
public sealed record ModelOutputSpec(string Name, int Size)
{
    /// <summary>Pooling over a time axis of a sequence output; null = the output already has <see cref="Size"/> values per input.</summary>
    public OutputPooling? Pool { get; init; }

    /// <summary>Whether the (logits) output holds probabilities, not logits: then its logarithm is taken. Default false.</summary>
    public bool Probabilities { get; init; }
}

/// <summary>How a sequence output is reduced to one vector: <paramref name="Op"/> over <paramref name="Axis"/> (counting the batch axis as 0).</summary>
public sealed record OutputPooling(int Axis, PoolOp Op);

/// <summary>Pooling operator.</summary>
public enum PoolOp
{
    Mean,
    Max,
}

/// <summary>
/// A further graph input: a constant tensor (<paramref name="Values"/>) or a recurrent state (<paramref name="StateFrom"/>
/// names the output fed back to this input at the stream's next input; it starts at <paramref name="Values"/> or zeros).
/// <paramref name="Shape"/> is the tensor's full shape (no batch axis is added).
/// </summary>
public sealed record ExtraInputSpec(string Name, TensorElementKind ElementType, IReadOnlyList<int> Shape, IReadOnlyList<double> Values,
    string? StateFrom)
{
    /// <summary>Number of values of the tensor.</summary>
    public int Length => Shape.Aggregate(1, (a, b) => a * b);
}

/// <summary>
/// A front-end model (<paramref name="FilePath"/>) run first: the payload binds to <paramref name="Input"/>, its output
/// <paramref name="Output"/> goes through <paramref name="Transforms"/> and is reshaped to the main model's input.
/// </summary>
public sealed record FrontEndSpec(string FilePath, string Input, string Output, IReadOnlyList<InputTransform> Transforms)
{
    /// <summary>
    /// Whether one call may carry several inputs (models.json <c>"batched"</c>, default false: one call per input).
    /// A graph that normalises over its whole input tensor (openWakeWord's melspectrogram floors at the batch's
    /// maximum) makes another output per input in a batch; only a front-end known to be batch-independent batches.
    /// </summary>
    public bool Batched { get; init; }
}
