using System.Diagnostics;
using OpenTelemetry.Trace;

namespace FusionActors.Runtime.Metrics;

/// <summary>
/// The node's sampler. A span under a local parent follows it. A span under a remote parent (the client's
/// <c>push</c>) is recorded only when the client sampled it <em>and</em> the node's own ratio keeps its trace id: a
/// client cannot make the node record more than <see cref="TelemetryOptions.SamplingRatio"/> of the traces, whatever
/// flags it sends. A root that links spans of this node that were recorded (a window's <c>fuse</c>, a model call's
/// <c>encode.batch</c>) is recorded, so that every recorded encode is reachable from its window; other roots pass the ratio.
/// </summary>
public sealed class FusionSampler : Sampler
{
    private static readonly SamplingResult Keep = new(SamplingDecision.RecordAndSample);
    private static readonly SamplingResult Drop = new(SamplingDecision.Drop);
    private readonly Sampler _ratio;

    public FusionSampler(double ratio)
    {
        _ratio = ratio >= 1 ? new AlwaysOnSampler() : ratio <= 0 ? new AlwaysOffSampler() : new TraceIdRatioBasedSampler(ratio);
        Description = $"FusionSampler{{{ratio}}}";
    }

    public override SamplingResult ShouldSample(in SamplingParameters parameters)
    {
        var parent = parameters.ParentContext;
        var sampled = (parent.TraceFlags & ActivityTraceFlags.Recorded) != 0;
        if (parent.TraceId != default)
            return !sampled ? Drop : parent.IsRemote ? _ratio.ShouldSample(parameters) : Keep;
        if (parameters.Links is { } links)
            foreach (var link in links)
                if (!link.Context.IsRemote && (link.Context.TraceFlags & ActivityTraceFlags.Recorded) != 0) return Keep;
        return _ratio.ShouldSample(parameters);
    }
}
