using FusionActors.Core.Specs;
using FusionActors.Inference;
using FusionActors.Protocol.Specs;

namespace FusionActors.Runtime.Encoders;

/// <summary>An encoder ready for a stream, with the temperature that calibrates its logits and the input values it accepts.</summary>
public sealed record ResolvedEncoder(IEncoder Encoder, double Temperature, FusionActors.Core.Streams.ValueRange? InputRange = null)
{
    /// <summary>The node's batcher and pending-input cap, when the node shares them (<see cref="NodeEncoderProvider"/>); null: neither.</summary>
    public NodeEncoding? Node { get; init; }
}

/// <summary>A stream names a model the node cannot run, or one whose input does not fit the stream's framing.</summary>
public sealed class UnknownModelException(string message) : Exception(message);

/// <summary>Finds the encoder of a stream on this node. Implementations share encoders across sessions.</summary>
public interface IEncoderProvider
{
    /// <exception cref="UnknownModelException">no such model, or its input length differs from the stream's.</exception>
    ResolvedEncoder Resolve(StreamSpec stream, int classCount);
}
