using FusionActors.Inference;
using FusionActors.Runtime.Encoders;

namespace FusionActors.Runtime.Encoders.Chaos;

/// <summary>
/// Wraps a real encoder and blocks for <paramref name="stall"/> on inputs the predicate marks, as a model stuck in a
/// kernel, a GPU that stopped answering or a page-faulting host would; then it answers as the inner encoder does.
/// Used by fault drills of the encode deadline.
/// </summary>
public sealed class StallingInputEncoder(IEncoder inner, Func<ReadOnlyMemory<float>, bool> stallsOn, TimeSpan stall) : FaultyEncoder(inner)
{
    public override IReadOnlyList<EncoderOutput> Encode(IReadOnlyList<ReadOnlyMemory<float>> inputs)
    {
        for (var i = 0; i < inputs.Count; i++)
            if (stallsOn(inputs[i]))
            {
                Thread.Sleep(stall);
                break;
            }
        return Inner.Encode(inputs);
    }
}
