using FusionActors.Core.Specs;
using FusionActors.Inference;
using FusionActors.Protocol.Specs;

namespace FusionActors.Runtime.Encoders;

/// <summary>
/// An encoder ready for a stream, with the temperature that calibrates its logits, the input values it accepts and
/// the drift model that scores its outputs (null: its evidence carries no drift score).
/// </summary>
public sealed record ResolvedEncoder(IEncoder Encoder, double Temperature, FusionActors.Core.Streams.ValueRange? InputRange = null,
    FusionActors.Inference.Drift.DriftModel? Drift = null)
{
    /// <summary>The stream's sliding window and alert over its inputs' drift; null = not watched (nothing is scored).</summary>
    public FusionActors.Runtime.Metrics.DriftOptions? DriftMonitoring { get; init; }

    /// <summary>
    /// <c>name@version</c> of the model, one string shared by every session of that encoder (results name it:
    /// <see cref="FusionActors.Protocol.FusedResult.Models"/>); null when the provider does not know it.
    /// </summary>
    public string? Model { get; init; }

    /// <summary>
    /// The use of the node's registry encoder this resolution counted (null: the encoder is not the registry's, e.g. the
    /// no-op one). The stream that runs it takes it (<see cref="ModelUse.Take"/>) and gives it back when it stops or moves
    /// to another version; a retired version is freed when its last use is given back.
    /// </summary>
    public ModelUse? Use { get; init; }

    /// <summary>
    /// Resolves the stream's model again, at its current version, through the same providers (null: the stream does
    /// not follow new versions: it is pinned, or a provider cannot resolve it again). A stream calls it after a reload
    /// replaced its encoder's version (<see cref="ModelUse.MayBeReplaced"/>). Throws <see cref="UnknownModelException"/> as
    /// <see cref="IEncoderProvider.Resolve(StreamSpec, int)"/> does.
    /// </summary>
    public Func<ResolvedEncoder>? Renew { get; init; }

    /// <summary>The node's batcher and pending-input cap, when the node shares them (<see cref="NodeEncoderProvider"/>); null: neither.</summary>
    public NodeEncoding? Node { get; init; }

    /// <summary>
    /// The model's classes mapped onto the session's labels by name; null = the logits are the session's classes in
    /// order (or the model has none, or the session has no labels).
    /// </summary>
    public LabelMap? Labels { get; init; }

    /// <summary>
    /// The model keeps a recurrent state between a stream's inputs: its encoder actor owns one <see cref="EncoderStream"/>
    /// (fresh at every start, so a restart resets it) and runs the stream's inputs in order, never through the batcher.
    /// </summary>
    public bool Stateful => Encoder is OnnxEncoder { IsStateful: true };
}

/// <summary>A stream names a model the node cannot run, or one whose input does not fit the stream's framing.</summary>
public sealed class UnknownModelException(string message) : Exception(message);

/// <summary>Finds the encoder of a stream on this node. Implementations share encoders across sessions.</summary>
public interface IEncoderProvider
{
    /// <exception cref="UnknownModelException">no such model, or its input length differs from the stream's.</exception>
    ResolvedEncoder Resolve(StreamSpec stream, int classCount);

    /// <summary>
    /// Resolves for a session with <paramref name="labels"/>: a provider that knows its models' class names maps them
    /// by name (<see cref="ResolvedEncoder.Labels"/>). Default: <see cref="Resolve(StreamSpec, int)"/> by count.
    /// </summary>
    /// <exception cref="UnknownModelException">as <see cref="Resolve(StreamSpec, int)"/>, or the model has none of the labels; the message names the model.</exception>
    ResolvedEncoder Resolve(StreamSpec stream, IReadOnlyList<string> labels) => Resolve(stream, labels.Count);

    /// <summary>
    /// The node's fusion calibration and learned head (models/fusion.json beside the encoders' models.json);
    /// <see cref="FusionActors.Core.Fusion.FusionModels.None"/> for none. No default: a provider that wraps another
    /// must pass the inner one's on, or the node silently loses its calibration and its learned policy.
    /// </summary>
    FusionActors.Core.Fusion.FusionModels Fusion { get; }
}
