using FusionActors.Inference;
using FusionActors.Runtime.Encoders;

namespace FusionActors.Runtime.Encoders.Chaos;

/// <summary>Thrown by <see cref="PoisonInputEncoder"/>: the encoder crashed on an input.</summary>
public sealed class EncoderCrashedException(string message) : Exception(message);

/// <summary>
/// Wraps a real encoder and crashes on inputs the predicate marks as poison, as a model that hits a
/// bad kernel or runs out of memory would. Used by fault drills and the evaluation's encoder-crashes scenario.
/// </summary>
public sealed class PoisonInputEncoder(IEncoder inner, Func<ReadOnlyMemory<float>, bool> isPoison) : FaultyEncoder(inner)
{
    public override IReadOnlyList<EncoderOutput> Encode(IReadOnlyList<ReadOnlyMemory<float>> inputs)
    {
        for (var i = 0; i < inputs.Count; i++)
            if (isPoison(inputs[i]))
                throw new EncoderCrashedException($"encoder '{Inner.Name}' crashed on input {i} of a batch of {inputs.Count}");
        return Inner.Encode(inputs);
    }
}
