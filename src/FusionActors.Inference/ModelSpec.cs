namespace FusionActors.Inference;

/// <summary>One model of models.json, with its file path already resolved against the catalog's directory.</summary>
/// <param name="Name">Unique name, e.g. <c>audio-digits</c>.</param>
/// <param name="FilePath">Absolute path of the ONNX file.</param>
/// <param name="Modality">What the model sees, e.g. <c>audio</c> or <c>image</c>.</param>
/// <param name="Input">The single input tensor.</param>
/// <param name="Embedding">The embedding output.</param>
/// <param name="Logits">The class-logits output; null when the model has none.</param>
/// <param name="Labels">Class labels in logit order; empty when the model has no logits.</param>
/// <param name="Temperature">Softmax temperature fitted on the validation split (1 when uncalibrated).</param>
/// <param name="Drift">How atypical an input is (models.json <c>"drift"</c>); null = the model's inputs get no drift score.</param>
public sealed record ModelSpec(
    string Name,
    string FilePath,
    string Modality,
    ModelInputSpec Input,
    ModelOutputSpec Embedding,
    ModelOutputSpec? Logits,
    IReadOnlyList<string> Labels,
    double Temperature,
    Drift.DriftModel? Drift = null)
{
    /// <summary>Number of classes (0 when the model has no logits).</summary>
    public int ClassCount => Logits?.Size ?? 0;
}

/// <summary>
/// The model's input: <paramref name="Shape"/> has -1 for the batch axis (first); <paramref name="Min"/> and
/// <paramref name="Max"/> bound every value. <paramref name="SampleRate"/> is set for audio inputs.
/// </summary>
public sealed record ModelInputSpec(string Name, IReadOnlyList<int> Shape, float Min, float Max, int? SampleRate)
{
    /// <summary>Number of values in one input: the product of the non-batch dimensions.</summary>
    public int Length => Shape.Skip(1).Aggregate(1, (a, b) => a * b);
}

/// <summary>A 2-D output [batch, <paramref name="Size"/>] named <paramref name="Name"/> in the graph.</summary>
public sealed record ModelOutputSpec(string Name, int Size);
