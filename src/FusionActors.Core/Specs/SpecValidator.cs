using FusionActors.Core.Alignment.Windows;
using FusionActors.Core.Fusion.Policies;
using FusionActors.Core.Streams;
using FusionActors.Protocol.Specs;

namespace FusionActors.Core.Specs;

/// <summary>A session spec that cannot run; <see cref="SpecException.Problems"/> lists every reason.</summary>
public sealed class SpecException(IReadOnlyList<string> problems)
    : ArgumentException("invalid session spec: " + string.Join("; ", problems))
{
    public IReadOnlyList<string> Problems { get; } = problems;
}

/// <summary>Checks a session spec before any actor is created for it.</summary>
public static class SpecValidator
{
    /// <summary>Every reason the spec cannot run; <paramref name="limits"/> default <see cref="SpecLimits.Default"/>.</summary>
    public static IReadOnlyList<string> Problems(SessionSpec spec, SpecLimits? limits = null)
    {
        var l = limits ?? SpecLimits.Default;
        var p = new List<string>();
        // Specs may come from JSON, where nothing stops a null: check before any field is read.
        if (spec is null) return ["a session spec is required"];
        if (spec.Streams is null || spec.Window is null || spec.Policy is null || spec.Labels is null || spec.FixedWeights is null || spec.Gates is null)
            return ["a session spec needs its streams, window, policy, labels, fixed weights and gates (empty ones are fine)"];
        Name(p, "sessionId", spec.SessionId, l);
        if (spec.Streams.Count == 0) p.Add("a session needs at least one stream");
        if (spec.Streams.Count > l.MaxStreams) p.Add($"{spec.Streams.Count} streams, more than {l.MaxStreams}");
        if (spec.Labels.Count > l.MaxLabels) p.Add($"{spec.Labels.Count} labels, more than {l.MaxLabels}");
        foreach (var label in spec.Labels)
            if (label is null || label.Length > l.MaxIdLength)
            {
                p.Add($"a label is null or longer than {l.MaxIdLength} characters");
                break;
            }
        var ids = new HashSet<string>();
        foreach (var s in spec.Streams)
        {
            if (s is null || s.Framing is null)
            {
                p.Add("a stream (or its framing) is null");
                continue;
            }
            var at = $"stream '{Shown(s.StreamId)}'";
            if (Name(p, "a stream id", s.StreamId, l) && !ids.Add(s.StreamId)) p.Add($"{at} is declared twice");
            Name(p, $"{at}: modality", s.Modality, l);
            Name(p, $"{at}: model", s.Model, l);
            if (s.ModelVersion is { } version && (version.Length is 0 or > StreamSpec.MaxModelVersionLength ||
                    !version.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or '+')))
                p.Add($"{at}: modelVersion must be 1 to {StreamSpec.MaxModelVersionLength} letters, digits or . _ - +");
            if (s.FrameLength <= 0) p.Add($"{at}: frameLength must be > 0");
            if (s.MaxFrameBytes <= 0 || s.MaxFrameBytes > l.MaxFrameBytes) p.Add($"{at}: maxFrameBytes must be in (0, {l.MaxFrameBytes}]");
            Duration(p, $"{at}: maxOutOfOrderness", s.MaxOutOfOrdernessUs, l.MaxDurationUs);
            if (s.IdleTimeout <= TimeSpan.Zero || s.IdleTimeout.Ticks / 10 > l.MaxDurationUs) p.Add($"{at}: idleTimeout must be in (0, {l.MaxDurationUs} us]");
            if (s.MaxFutureSkewUs < 0 || s.MaxFutureSkewUs > l.MaxFutureSkewUs) p.Add($"{at}: maxFutureSkew must be in [0, {l.MaxFutureSkewUs}] us");
            if (s.MaxPendingInputs <= 0 || s.MaxPendingInputs > l.MaxPendingInputs) p.Add($"{at}: maxPendingInputs must be in (0, {l.MaxPendingInputs}]");
            if (s.MaxBatch <= 0 || s.MaxBatch > l.MaxBatch) p.Add($"{at}: maxBatch must be in (0, {l.MaxBatch}]");
            if (s.MaxSeqAhead <= 0 || s.MaxSeqAhead > l.MaxSeqAhead) p.Add($"{at}: maxSeqAhead must be in (0, {l.MaxSeqAhead}]");
            if (s.Priority < 0 || s.Priority > l.MaxPriority) p.Add($"{at}: priority must be in [0, {l.MaxPriority}]");
            if (!(s.PriorWeight >= 0 && s.PriorWeight <= l.MaxWeight)) p.Add($"{at}: priorWeight must be a number in [0, {l.MaxWeight}]");
            if (s.FreshnessTauUs <= 0 || s.FreshnessTauUs > l.MaxDurationUs) p.Add($"{at}: freshnessTau must be in (0, {l.MaxDurationUs}] us");
            Duration(p, $"{at}: frameDuration", s.FrameDurationUs, l.MaxDurationUs);
            if (!(s.SampleRateHz >= 0 && s.SampleRateHz <= l.MaxSampleRateHz)) p.Add($"{at}: sampleRateHz must be a number in [0, {l.MaxSampleRateHz}]");
            if (s.FrameLength * 4L > s.MaxFrameBytes) p.Add($"{at}: a frame of {s.FrameLength} floats exceeds maxFrameBytes {s.MaxFrameBytes}");
            if (s.Framing.Kind == FramingKind.Windowed)
            {
                if (s.SampleRateHz <= 0) p.Add($"{at}: windowed framing needs sampleRateHz > 0");
                if (s.Framing.LengthUs <= 0 || s.Framing.HopUs <= 0) p.Add($"{at}: windowed framing needs length and hop > 0");
                else if (s.Framing.HopUs > s.Framing.LengthUs) p.Add($"{at}: hop longer than length would skip samples");
                else if (s.SampleRateHz > 0)
                {
                    // A hop shorter than a sample makes inputs that differ by nothing: thousands per frame.
                    if (s.Framing.HopUs * s.SampleRateHz < 1e6) p.Add($"{at}: windowed hop {s.Framing.HopUs} us is shorter than one sample");
                    if (s.Framing.LengthUs > l.MaxDurationUs) p.Add($"{at}: windowed length must be at most {l.MaxDurationUs} us");
                    else if (s.Framing.LengthUs * s.SampleRateHz / 1e6 > l.MaxInputSamples) p.Add($"{at}: an input of {s.InputLength} samples is more than {l.MaxInputSamples}");
                    if (s.Framing.LengthUs / s.Framing.HopUs > l.MaxInputsPerFrame) p.Add($"{at}: length / hop over {l.MaxInputsPerFrame} inputs per instant");
                }
            }
        }
        WindowAssigners.Validate(spec, l, p);
        Duration(p, "allowedLateness", spec.AllowedLatenessUs, l.MaxDurationUs);
        Retained(p, spec, l);
        Duration(p, "imputeHorizon", spec.ImputeHorizonUs, l.MaxDurationUs);
        if (!(spec.UncertainBelow >= 0 && spec.UncertainBelow <= 1)) p.Add("uncertainBelow must be a number in [0, 1]");
        if (spec.MaxBufferedEvidence <= 0 || spec.MaxBufferedEvidence > l.MaxBufferedEvidence) p.Add($"maxBufferedEvidence must be in (0, {l.MaxBufferedEvidence}]");
        if (spec.FixedWeights.Count > l.MaxStreams) p.Add($"{spec.FixedWeights.Count} fixed weights, more than {l.MaxStreams}");
        foreach (var (modality, weight) in spec.FixedWeights)
            if (modality.Length > l.MaxIdLength || !(weight >= 0 && weight <= l.MaxWeight))
            {
                p.Add($"fixed weight of '{Shown(modality)}' must be a number in [0, {l.MaxWeight}]");
                break;
            }
        Gates(p, spec, l);
        Delivery(p, spec, l);
        if (!WeightingPolicies.IsKnown(spec.Policy)) p.Add($"policy kind {spec.Policy.Kind} is not one this node runs");
        else if (WeightingPolicies.NamesUnknownModality(spec.Policy, spec.Streams))
            p.Add($"policy {spec.Policy} names a modality no stream has");
        return p;
    }

    /// <summary>
    /// A gate names two different streams of the spec; a stream is gated at most once; a gate is not itself gated and
    /// its modality holds gates only (the modality takes no weight in the posterior); the floor is in [0, 1].
    /// </summary>
    private static void Gates(List<string> p, SessionSpec spec, SpecLimits l)
    {
        if (spec.Gates.Count == 0) return;
        if (spec.Gates.Count > l.MaxStreams)
        {
            p.Add($"{spec.Gates.Count} gates, more than {l.MaxStreams}");
            return;
        }
        var gates = new HashSet<string>();
        var gated = new HashSet<string>();
        foreach (var g in spec.Gates)
        {
            if (g is null || g.Gate is null || g.Gated is null)
            {
                p.Add("a gate (or its gate or gated stream) is null");
                continue;
            }
            var at = $"gate '{Shown(g.Gate)}' of '{Shown(g.Gated)}'";
            var gate = spec.FindStream(g.Gate);
            var target = spec.FindStream(g.Gated);
            if (gate is null) p.Add($"{at}: the gate is not a stream of the session");
            if (target is null) p.Add($"{at}: the gated stream is not a stream of the session");
            if (!(g.Floor >= 0 && g.Floor <= 1)) p.Add($"{at}: floor must be a number in [0, 1]");
            if (!Enum.IsDefined(g.Pooling)) p.Add($"{at}: pooling {(int)g.Pooling} is not max or mean");
            if (gate is null || target is null) continue;
            if (g.Gate == g.Gated)
            {
                p.Add($"{at}: a stream cannot gate itself");
                continue;
            }
            if (gate.Modality == target.Modality) p.Add($"{at}: the gate and the gated stream share the modality '{Shown(gate.Modality)}'");
            if (!gated.Add(g.Gated)) p.Add($"{at}: stream '{Shown(g.Gated)}' is gated twice");
            gates.Add(g.Gate);
        }
        foreach (var g in gates)
            if (gated.Contains(g)) p.Add($"stream '{Shown(g)}' is a gate and gated: gates do not chain");
        var gateModalities = new HashSet<string>();
        foreach (var s in spec.Streams)
            if (s is not null && gates.Contains(s.StreamId)) gateModalities.Add(s.Modality);
        foreach (var s in spec.Streams)
            if (s?.Modality is { } m && gateModalities.Contains(m) && !gates.Contains(s.StreamId))
                p.Add($"stream '{Shown(s.StreamId)}' shares the modality '{Shown(m)}' of a gate: a gate's modality holds gates only");
    }

    /// <summary>What the session's windowed framers would hold for its lateness and out-of-orderness, at most <see cref="SpecLimits.MaxRetainedInputBytes"/>.</summary>
    private static void Retained(List<string> p, SessionSpec spec, SpecLimits l)
    {
        if (spec.AllowedLatenessUs < 0) return;
        double bytes = 0;
        foreach (var s in spec.Streams)
            if (s?.Framing is not null && s.MaxOutOfOrdernessUs >= 0) bytes += WindowedFramer.RetainedBytes(s, spec);
        if (bytes > l.MaxRetainedInputBytes)
            p.Add($"the windowed streams would hold {bytes:0} bytes of input samples for the allowed lateness and out-of-orderness " +
                  $"((out-of-orderness + length + lateness) / hop inputs each), more than {l.MaxRetainedInputBytes}");
    }

    /// <summary>
    /// The delivery policy is a defined one; a latency-constrained session's budget is within the node's bounds, and
    /// a lossless one's (unused) at least not beyond the longest.
    /// </summary>
    private static void Delivery(List<string> p, SessionSpec spec, SpecLimits l)
    {
        if (!Enum.IsDefined(spec.Delivery))
        {
            p.Add($"delivery {(int)spec.Delivery} is not lossless or latency-constrained");
            return;
        }
        var (min, max) = spec.Delivery == DeliveryPolicy.LatencyConstrained ? (l.MinLatencyBudgetUs, l.MaxLatencyBudgetUs) : (0, l.MaxLatencyBudgetUs);
        if (spec.LatencyBudgetUs < min || spec.LatencyBudgetUs > max)
            p.Add($"latencyBudget must be in [{min}, {max}] us for {DeliveryPolicies.Name(spec.Delivery)} delivery, not {spec.LatencyBudgetUs}");
    }

    private static bool Name(List<string> p, string what, string? value, SpecLimits l)
    {
        if (string.IsNullOrWhiteSpace(value)) p.Add($"{what} is empty");
        else if (value.Length > l.MaxIdLength) p.Add($"{what} is longer than {l.MaxIdLength} characters");
        else return true;
        return false;
    }

    private static void Duration(List<string> p, string what, long us, long max)
    {
        if (us < 0 || us > max) p.Add($"{what} must be in [0, {max}] us");
    }

    /// <summary>A name as a refusal may quote it: never more than a short prefix of what a peer sent.</summary>
    internal static string Shown(string? s) => s is null ? "(null)" : s.Length <= 64 ? s : s[..64] + "...";

    /// <summary>
    /// What the rule classes require of a spec to work at all (no node's limits: those are checked at open, with
    /// the node's own <see cref="SpecLimits"/>).
    /// </summary>
    public static void EnsureValid(SessionSpec spec)
    {
        var problems = Problems(spec, SpecLimits.Unbounded);
        if (problems.Count > 0) throw new SpecException(problems);
    }
}
