using FusionActors.Core.Specs;
using FusionActors.Inference;
using FusionActors.Protocol.Specs;
using FusionActors.Runtime.Encoders;

namespace FusionActors.Runtime.Encoders.Chaos;

/// <summary>Resolves encoders through another provider and wraps the chosen streams' encoders with a poison predicate.</summary>
public sealed class PoisonEncoderProvider(IEncoderProvider inner, Func<StreamSpec, Func<ReadOnlyMemory<float>, bool>?> poisonFor) : IEncoderProvider
{
    public ResolvedEncoder Resolve(StreamSpec stream, int classCount) => Poison(stream, inner.Resolve(stream, classCount));

    public ResolvedEncoder Resolve(StreamSpec stream, IReadOnlyList<string> labels) => Poison(stream, inner.Resolve(stream, labels));

    private ResolvedEncoder Poison(StreamSpec stream, ResolvedEncoder resolved)
    {
        return poisonFor(stream) is { } predicate
            // A new version the stream moves to is poisoned the same way.
            ? resolved with { Encoder = new PoisonInputEncoder(resolved.Encoder, predicate), Renew = resolved.Renew is { } renew ? () => Poison(stream, renew()) : null }
            : resolved;
    }

    public FusionActors.Core.Fusion.FusionModels Fusion => inner.Fusion;
}
