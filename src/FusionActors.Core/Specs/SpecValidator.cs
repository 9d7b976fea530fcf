namespace FusionActors.Specs;

/// <summary>A session spec that cannot run; <see cref="SpecException.Problems"/> lists every reason.</summary>
public sealed class SpecException(IReadOnlyList<string> problems)
    : ArgumentException("invalid session spec: " + string.Join("; ", problems))
{
    public IReadOnlyList<string> Problems { get; } = problems;
}

/// <summary>Checks a session spec before any actor is created for it.</summary>
public static class SpecValidator
{
    public static IReadOnlyList<string> Problems(SessionSpec spec)
    {
        var p = new List<string>();
        if (string.IsNullOrWhiteSpace(spec.SessionId)) p.Add("sessionId is empty");
        if (spec.Streams.Count == 0) p.Add("a session needs at least one stream");
        var ids = new HashSet<string>();
        foreach (var s in spec.Streams)
        {
            var at = $"stream '{s.StreamId}'";
            if (string.IsNullOrWhiteSpace(s.StreamId)) p.Add("a stream id is empty");
            else if (!ids.Add(s.StreamId)) p.Add($"{at} is declared twice");
            if (string.IsNullOrWhiteSpace(s.Modality)) p.Add($"{at}: modality is empty");
            if (string.IsNullOrWhiteSpace(s.Model)) p.Add($"{at}: model is empty");
            if (s.FrameLength <= 0) p.Add($"{at}: frameLength must be > 0");
            if (s.MaxOutOfOrdernessUs < 0) p.Add($"{at}: maxOutOfOrderness must be >= 0");
            if (s.IdleTimeout <= TimeSpan.Zero) p.Add($"{at}: idleTimeout must be > 0");
            if (s.MaxPendingInputs <= 0) p.Add($"{at}: maxPendingInputs must be > 0");
            if (s.MaxBatch <= 0) p.Add($"{at}: maxBatch must be > 0");
            if (s.PriorWeight < 0 || double.IsNaN(s.PriorWeight)) p.Add($"{at}: priorWeight must be >= 0");
            if (s.FreshnessTauUs <= 0) p.Add($"{at}: freshnessTau must be > 0");
            if (s.FrameLength * 4L > s.MaxFrameBytes) p.Add($"{at}: a frame of {s.FrameLength} floats exceeds maxFrameBytes {s.MaxFrameBytes}");
            if (s.Framing.Kind == FramingKind.Windowed)
            {
                if (s.SampleRateHz <= 0) p.Add($"{at}: windowed framing needs sampleRateHz > 0");
                if (s.Framing.LengthUs <= 0 || s.Framing.HopUs <= 0) p.Add($"{at}: windowed framing needs length and hop > 0");
                if (s.Framing.HopUs > s.Framing.LengthUs) p.Add($"{at}: hop longer than length would skip samples");
            }
        }
        var w = spec.Window;
        switch (w.Kind)
        {
            case WindowKind.Tumbling or WindowKind.Sliding when w.LengthUs <= 0 || w.HopUs <= 0:
                p.Add("window length and hop must be > 0");
                break;
            case WindowKind.Sliding when w.HopUs > w.LengthUs:
                p.Add("sliding window hop must not exceed its length");
                break;
        }
        if (w.Kind == WindowKind.Anchor)
        {
            if (w.AnchorStream is null || spec.FindStream(w.AnchorStream) is null)
                p.Add($"anchor stream '{w.AnchorStream}' is not a stream of the session");
            if (w.ToleranceUs <= 0) p.Add("anchor tolerance must be > 0");
        }
        if (spec.AllowedLatenessUs < 0) p.Add("allowedLateness must be >= 0");
        if (spec.MaxBufferedEvidence <= 0) p.Add("maxBufferedEvidence must be > 0");
        if (spec.Policy.Kind == FusionPolicyKind.Single && spec.Streams.All(s => s.Modality != spec.Policy.Modality))
            p.Add($"policy {spec.Policy} names a modality no stream has");
        return p;
    }

    public static void EnsureValid(SessionSpec spec)
    {
        var problems = Problems(spec);
        if (problems.Count > 0) throw new SpecException(problems);
    }
}
