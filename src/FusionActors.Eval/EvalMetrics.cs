using FusionActors.Core.Streams;
using FusionActors.Inference;
using FusionActors.Protocol;
using FusionActors.Runtime.Encoders;

namespace FusionActors.Eval;

/// <summary>Scores of one policy in one condition. A window without a Fused result counts as wrong.</summary>
public sealed record PolicyMetrics
{
    public double Accuracy { get; init; }
    public double MacroF1 { get; init; }

    /// <summary>ECE (15 bins) over the windows with a Fused result, confidence = the fused posterior's max; null if none.</summary>
    public double? Ece { get; init; }

    /// <summary>Fraction of windows with a Fused result (not NoEvidence, not missing).</summary>
    public double Coverage { get; init; }

    /// <summary>Mean normalised weight per modality over the windows with a Fused result.</summary>
    public IReadOnlyDictionary<string, double> MeanWeights { get; init; } = new Dictionary<string, double>();

    /// <summary>
    /// Selective prediction: the windows ranked by fused confidence, the most confident kept first; at each coverage
    /// (the fraction of all windows kept, 10 % steps) the risk (error rate among the kept) and the confidence of the
    /// last window kept, i.e. the <c>UncertainBelow</c> threshold that would keep them. Windows without a Fused result
    /// rank last and count as errors.
    /// </summary>
    public IReadOnlyList<RiskCoveragePoint> RiskCoverage { get; init; } = [];

    /// <summary>Area under the risk–coverage curve (mean risk over every coverage 1/n … 1): lower is better.</summary>
    public double Aurc { get; init; }
}

/// <param name="Coverage">Fraction of the windows kept.</param>
/// <param name="Risk">Error rate among the kept windows.</param>
/// <param name="Threshold">Fused confidence of the least confident kept window.</param>
public sealed record RiskCoveragePoint(double Coverage, double Risk, double Threshold);

/// <summary>ECE and accuracy of the adaptive policy over windows of one availability pattern, pooled over conditions.</summary>
public sealed record PatternCalibration(string Pattern, int Windows, double Accuracy, double? Ece, double MeanConfidence);

public static class EvalMetrics
{
    public const int EceBins = 15;
    public const string Both = "both";
    public const string AudioOnly = "audio only";
    public const string ImageOnly = "image only";
    public static readonly string[] Modalities = ["audio", "image"];

    /// <param name="modalities">The modalities whose mean weights are reported; default audio and image.</param>
    public static PolicyMetrics Score(IReadOnlyList<FusedResult?> windows, IReadOnlyList<int> labels, int classes = 10, IReadOnlyList<string>? modalities = null)
    {
        var n = labels.Count;
        var predicted = new int[n];
        var fused = new List<(double, bool)>();
        var weightSums = (modalities ?? Modalities).ToDictionary(m => m, _ => 0.0);
        for (var i = 0; i < n; i++)
        {
            var r = windows[i];
            predicted[i] = r is { Status: FusedStatus.Fused } ? r.TopClass : -1;
            if (r is not { Status: FusedStatus.Fused }) continue;
            fused.Add((Math.Clamp(r.Confidence, 0, 1), r.TopClass == labels[i]));
            foreach (var m in weightSums.Keys) weightSums[m] += r.Weights.GetValueOrDefault(m);
        }
        return new PolicyMetrics
        {
            Accuracy = Round(n == 0 ? 0 : Enumerable.Range(0, n).Count(i => predicted[i] == labels[i]) / (double)n),
            MacroF1 = Round(MacroF1(predicted, labels, classes)),
            Ece = fused.Count == 0 ? null : Round(Calibration.ExpectedCalibrationError(fused, EceBins)),
            Coverage = Round(n == 0 ? 0 : fused.Count / (double)n),
            MeanWeights = weightSums.ToDictionary(kv => kv.Key, kv => Round(fused.Count == 0 ? 0 : kv.Value / fused.Count)),
            RiskCoverage = RiskCoverage(windows, labels, out var aurc),
            Aurc = Round(aurc),
        };
    }

    /// <summary>The risk–coverage curve at coverages 0.1, 0.2, … 1.0 (see <see cref="PolicyMetrics.RiskCoverage"/>).</summary>
    public static IReadOnlyList<RiskCoveragePoint> RiskCoverage(IReadOnlyList<FusedResult?> windows, IReadOnlyList<int> labels, out double aurc)
    {
        var n = labels.Count;
        aurc = 0;
        if (n == 0) return [];
        // Most confident first; windows without a decision last. Ties keep window order (a stable sort), so the curve
        // is the same on every run of the same results.
        var ranked = Enumerable.Range(0, n)
            .Select(i => (Confidence: windows[i] is { Status: FusedStatus.Fused } r ? Math.Clamp(r.Confidence, 0, 1) : double.NegativeInfinity,
                Correct: windows[i] is { Status: FusedStatus.Fused } f && f.TopClass == labels[i]))
            .OrderByDescending(x => x.Confidence).ToArray();
        var errors = new int[n + 1];
        for (var k = 0; k < n; k++) errors[k + 1] = errors[k] + (ranked[k].Correct ? 0 : 1);
        for (var k = 1; k <= n; k++) aurc += errors[k] / (double)k;
        aurc /= n;
        var points = new List<RiskCoveragePoint>();
        for (var step = 1; step <= 10; step++)
        {
            var kept = Math.Max(1, (int)Math.Round(n * step / 10.0));
            var threshold = ranked[kept - 1].Confidence;
            points.Add(new RiskCoveragePoint(Round(kept / (double)n), Round(errors[kept] / (double)kept), double.IsFinite(threshold) ? Round(threshold) : 0));
        }
        return points;
    }

    /// <summary>Mean over classes of F1; a missing prediction (-1) is a false negative of the true class only.</summary>
    public static double MacroF1(IReadOnlyList<int> predicted, IReadOnlyList<int> labels, int classes)
    {
        var sum = 0.0;
        var counted = 0;
        for (var k = 0; k < classes; k++)
        {
            int tp = 0, fp = 0, fn = 0;
            for (var i = 0; i < labels.Count; i++)
            {
                if (predicted[i] == k && labels[i] == k) tp++;
                else if (predicted[i] == k) fp++;
                else if (labels[i] == k) fn++;
            }
            if (tp + fp + fn == 0) continue; // a class absent from labels and predictions says nothing
            sum += 2.0 * tp / (2.0 * tp + fp + fn);
            counted++;
        }
        return counted == 0 ? 0 : sum / counted;
    }

    /// <summary>The pattern of a window with evidence of every one of a session's (more than two or other) modalities.</summary>
    public const string All = "all";

    /// <summary>
    /// Which modalities a Fused window had evidence for. Audio + image (the default): <see cref="Both"/>,
    /// <see cref="AudioOnly"/>, <see cref="ImageOnly"/>. Other modalities: <see cref="All"/>, "M only" for one, else the
    /// present ones joined by '+' in the session's order ("audio+ocr").
    /// </summary>
    public static string? PatternOf(FusedResult r, IReadOnlyList<string>? modalities = null)
    {
        if (modalities is not null && !IsAudioImage(modalities))
        {
            if (r.Status != FusedStatus.Fused) return null;
            var present = modalities.Where(m => !r.Missing.Contains(m)).ToArray();
            return present.Length == 0 ? null
                : present.Length == modalities.Count ? All
                : present.Length == 1 ? $"{present[0]} only"
                : string.Join('+', present);
        }
        if (r.Status != FusedStatus.Fused) return null;
        var audio = !r.Missing.Contains("audio");
        var image = !r.Missing.Contains("image");
        return (audio, image) switch
        {
            (true, true) => Both,
            (true, false) => AudioOnly,
            (false, true) => ImageOnly,
            _ => null,
        };
    }

    private static bool IsAudioImage(IReadOnlyList<string> modalities) =>
        modalities.Count == 2 && modalities.Contains("audio") && modalities.Contains("image");

    /// <param name="modalities">The session's posterior modalities; default audio and image (patterns both, audio only, image only).</param>
    public static IReadOnlyList<PatternCalibration> ByPattern(IEnumerable<(FusedResult? Result, int Label)> windows, IReadOnlyList<string>? modalities = null)
    {
        var groups = windows.Where(w => w.Result is not null && PatternOf(w.Result, modalities) is not null)
            .GroupBy(w => PatternOf(w.Result!, modalities)!).ToDictionary(g => g.Key, g => g.ToList());
        var order = modalities is null || IsAudioImage(modalities)
            ? new[] { Both, AudioOnly, ImageOnly }
            // All first, then the patterns seen, most windows first (ties by name, so the order is the same on every run).
            : new[] { All }.Concat(groups.Where(g => g.Key != All).OrderByDescending(g => g.Value.Count).ThenBy(g => g.Key, StringComparer.Ordinal).Select(g => g.Key)).ToArray();
        return order.Select(p =>
        {
            var list = groups.GetValueOrDefault(p) ?? [];
            var preds = list.Select(w => (Math.Clamp(w.Result!.Confidence, 0, 1), w.Result!.TopClass == w.Label)).ToList();
            return new PatternCalibration(p, list.Count,
                Round(list.Count == 0 ? 0 : preds.Count(x => x.Item2) / (double)list.Count),
                list.Count == 0 ? null : Round(Calibration.ExpectedCalibrationError(preds, EceBins)),
                Round(list.Count == 0 ? 0 : preds.Average(x => x.Item1)));
        }).ToList();
    }

    public static double Round(double v) => Math.Round(v, 4);

    /// <summary>Bootstrap resamples of <see cref="Bootstrap"/>.</summary>
    public const int BootstrapResamples = 2000;

    /// <summary>
    /// 95 % percentile-bootstrap intervals of accuracy and ECE over the windows (resampled with replacement,
    /// <see cref="BootstrapResamples"/> times, seeded: the same outcomes give the same interval). A window without a
    /// Fused result (<paramref name="predicted"/> −1) counts as wrong for accuracy and is left out of ECE, as in
    /// <see cref="Score"/>. ECE is null when no resample has a Fused window.
    /// </summary>
    public static (double[] Accuracy, double[]? Ece) Bootstrap(IReadOnlyList<int> predicted, IReadOnlyList<double> confidence, IReadOnlyList<int> labels, int seed = 20261201)
    {
        var n = labels.Count;
        if (n == 0) return ([0, 0], null);
        var rng = new Random(seed);
        var acc = new double[BootstrapResamples];
        var ece = new List<double>(BootstrapResamples);
        var pick = new List<(double, bool)>(n);
        for (var b = 0; b < BootstrapResamples; b++)
        {
            pick.Clear();
            var correct = 0;
            for (var k = 0; k < n; k++)
            {
                var i = rng.Next(n);
                if (predicted[i] == labels[i]) correct++;
                if (predicted[i] >= 0) pick.Add((Math.Clamp(confidence[i], 0, 1), predicted[i] == labels[i]));
            }
            acc[b] = correct / (double)n;
            if (pick.Count > 0) ece.Add(Calibration.ExpectedCalibrationError(pick, EceBins));
        }
        return (Interval(acc), ece.Count == 0 ? null : Interval(ece.ToArray()));
    }

    /// <summary>The 2.5 % and 97.5 % percentiles (nearest rank), rounded as the report rounds.</summary>
    public static double[] Interval(double[] values)
    {
        var sorted = values.Order().ToArray();
        double At(double q) => sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1)];
        return [Round(At(0.025)), Round(At(0.975))];
    }
}
