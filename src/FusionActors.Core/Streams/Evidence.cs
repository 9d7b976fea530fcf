using System.Diagnostics;
using FusionActors.Protocol;

namespace FusionActors.Core.Streams;

/// <summary>An encoder input: frames of one stream made into one tensor over an event-time span.</summary>
/// <param name="Coverage">Fraction of the span covered by frames (gaps are zero-filled).</param>
/// <param name="Revision">0 for the first emission; +1 each time a late frame changes it.</param>
/// <param name="ContentEndUs">
/// When the content was last seen to change, if earlier than <see cref="EndUs"/>: a frozen sensor that
/// repeats its last frame sends new event times but no new information. Null = <see cref="EndUs"/>.
/// </param>
public sealed record EncoderInput(
    string StreamId, long StartUs, long EndUs, float[] Values, double Coverage, long FirstSeq, long LastSeq, int Revision = 0,
    long? ContentEndUs = null);

/// <summary>
/// What an encoder made of one input. <see cref="LogProbs"/> are calibrated (log softmax of logits / T)
/// and empty when the model has no logits.
/// </summary>
/// <param name="Drift">
/// How unlike the model's training data the input is: 0 = typical (at or below the validation split's median score),
/// 1 = the validation split's 95th percentile, larger = less typical; NaN = not scored (the model has no drift
/// parameters). See docs/models.md, "Drift scores".
/// </param>
public sealed record Evidence(
    string StreamId,
    string Modality,
    long StartUs,
    long EndUs,
    float[] Embedding,
    double[] LogProbs,
    double Coverage,
    long LastSeq,
    int Revision = 0,
    long? ContentEndUs = null,
    double Drift = double.NaN)
{
    /// <summary>The time evidence is assigned to windows by: the start of its span.</summary>
    public long TimeUs => StartUs;

    /// <summary>Event time its information dates from, for freshness: the end of its span unless the content was frozen.</summary>
    public long FreshAsOfUs => ContentEndUs ?? EndUs;

    /// <summary>
    /// The <c>encode</c> span that made it, when the node traces (null otherwise: one reference, no allocation): the
    /// <c>fuse</c> span of every window it goes into links to it.
    /// </summary>
    public Activity? EncodeSpan { get; init; }

    /// <summary>
    /// <c>name@version</c> of the model that made it (the encoder's one shared string; null when unknown): a window's
    /// result names the versions of its evidence (<see cref="FusedResult.Models"/>).
    /// </summary>
    public string? Model { get; init; }
}
