using FusionActors.Protocol.Specs;

namespace FusionActors.Runtime.Encoders;

/// <summary>
/// Resolves through another provider and gives every stream the node's <see cref="NodeEncoding"/>: its pending-input
/// cap, and its batcher, except for the no-op encoder (no model call to share: batching it would only add hops).
/// </summary>
public sealed class NodeEncoderProvider(IEncoderProvider inner, NodeEncoding node) : IEncoderProvider
{
    public NodeEncoding Node => node;

    public FusionActors.Core.Fusion.FusionModels Fusion => inner.Fusion;

    public ResolvedEncoder Resolve(StreamSpec stream, int classCount)
    {
        var resolved = inner.Resolve(stream, classCount);
        return resolved with { Node = resolved.Encoder is NoOpEncoder ? node.Unbatched : node };
    }
}
