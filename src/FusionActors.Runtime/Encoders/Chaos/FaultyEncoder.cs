using FusionActors.Inference;
using FusionActors.Runtime.Encoders;

namespace FusionActors.Runtime.Encoders.Chaos;

/// <summary>A real encoder with a fault of a drill's choosing on some inputs; everything else is the inner encoder's.</summary>
public abstract class FaultyEncoder(IEncoder inner) : IEncoder
{
    public string Name => inner.Name;
    public int InputLength => inner.InputLength;
    public int EmbeddingLength => inner.EmbeddingLength;
    public int ClassCount => inner.ClassCount;

    protected IEncoder Inner => inner;

    public abstract IReadOnlyList<EncoderOutput> Encode(IReadOnlyList<ReadOnlyMemory<float>> inputs);
}
