using FusionActors.Protocol.Specs;

namespace FusionActors.Runtime.Encoders;

/// <summary>
/// Resolves through another provider and gives every stream the node's <see cref="NodeEncoding"/>: its pending-input
/// cap, and its batcher, except for the no-op encoder (no model call to share: batching it would only add hops) and
/// stateful models (a recurrent state per stream: their inputs run in the stream's order, unbatched).
/// </summary>
public sealed class NodeEncoderProvider(IEncoderProvider inner, NodeEncoding node) : IEncoderProvider
{
    public NodeEncoding Node => node;

    public FusionActors.Core.Fusion.FusionModels Fusion => inner.Fusion;

    public ResolvedEncoder Resolve(StreamSpec stream, int classCount) => Share(inner.Resolve(stream, classCount));

    public ResolvedEncoder Resolve(StreamSpec stream, IReadOnlyList<string> labels) => Share(inner.Resolve(stream, labels));

    // A stateful model's inputs stay in their stream's order against its own state: the batcher, which mixes sessions'
    // inputs into shared calls, is not for it.
    private ResolvedEncoder Share(ResolvedEncoder resolved) =>
        resolved with
        {
            Node = resolved.Encoder is NoOpEncoder || resolved.Stateful ? node.Unbatched : node,
            Renew = resolved.Renew is { } renew ? () => Share(renew()) : null,
        };
}
