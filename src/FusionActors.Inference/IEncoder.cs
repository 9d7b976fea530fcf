namespace FusionActors.Inference;

/// <summary>
/// Turns encoder inputs (flat float32 tensors of <see cref="InputLength"/> values each) into evidence.
/// Implementations are thread-safe: one instance is shared by every stream of every session on a node.
/// </summary>
public interface IEncoder
{
    /// <summary>Name of the model in models.json (or of the synthetic encoder).</summary>
    string Name { get; }

    /// <summary>Number of float values in one input (product of the non-batch dimensions).</summary>
    int InputLength { get; }

    /// <summary>Length of the embedding output.</summary>
    int EmbeddingLength { get; }

    /// <summary>Number of classes of the logits output; 0 when the model has no logits.</summary>
    int ClassCount { get; }

    /// <summary>
    /// Encodes a batch. Every input must have exactly <see cref="InputLength"/> finite values;
    /// otherwise an <see cref="EncoderInputException"/> names the offending input and reason.
    /// The caller may reuse <paramref name="inputs"/> once this returns: an encoder keeps no reference to it.
    /// </summary>
    IReadOnlyList<EncoderOutput> Encode(IReadOnlyList<ReadOnlyMemory<float>> inputs);
}

/// <summary>What a model makes of one input. <see cref="Logits"/> is empty when the model has none.</summary>
public sealed record EncoderOutput(float[] Embedding, float[] Logits);
