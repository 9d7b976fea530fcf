using FusionActors.Inference;

namespace FusionActors.Runtime.Encoders;

/// <summary>
/// An encoder that does no inference: uniform logits and no embedding. It measures the cost of the
/// actor path alone (benchmark (a)); it still validates its inputs like a real model.
/// </summary>
public sealed class NoOpEncoder(int inputLength, int classCount) : IEncoder
{
    // Its output never varies: one instance serves every input (they shared one logits array already).
    private readonly EncoderOutput _output = new([], new float[classCount]);

    public string Name => RegistryEncoderProvider.NoOpModel;
    public int InputLength => inputLength;
    public int EmbeddingLength => 0;
    public int ClassCount => classCount;

    public IReadOnlyList<EncoderOutput> Encode(IReadOnlyList<ReadOnlyMemory<float>> inputs)
    {
        if (inputs.Count == 0) throw new EncoderInputException(Name, 0, EncoderInputError.EmptyBatch, "no inputs");
        for (var i = 0; i < inputs.Count; i++)
            if (inputs[i].Length != inputLength)
                throw new EncoderInputException(Name, i, EncoderInputError.WrongLength, $"{inputs[i].Length} values, expected {inputLength}");
        return Outputs(inputs.Count);
    }

    // The answer to a batch of n inputs is n times the one output: one read-only list per batch size, made once.
    private readonly IReadOnlyList<EncoderOutput>?[] _bySize = new IReadOnlyList<EncoderOutput>?[65];

    private IReadOnlyList<EncoderOutput> Outputs(int count)
    {
        if (count >= _bySize.Length) return Array.AsReadOnly(Enumerable.Repeat(_output, count).ToArray());
        return _bySize[count] ??= Array.AsReadOnly(Enumerable.Repeat(_output, count).ToArray());
    }
}
