namespace FusionActors.Eval;

/// <summary>The evaluation's targets, checked on whatever conditions a run has.</summary>
public static class EvalTargets
{
    /// <summary>Half a point: the margin the issue allows for "adaptive >= better single modality".</summary>
    public const double SingleMargin = 0.005;
    public const double FixedGainInWorst = 0.03;
    public const double CleanMarginVsFixed = 0.005;
    public const double MaxEce = 0.03;
    public const double MissingKeeps = 0.90;

    /// <param name="singles">The single-modality policies (default audio-only and image-only); the checks against fixed are
    /// made only when the conditions played fixed.</param>
    public static IReadOnlyList<EvalReport.TargetCheck> Check(IReadOnlyList<EvalReport.ConditionReport> conditions, IReadOnlyList<PatternCalibration> patterns,
        IReadOnlyList<string>? singles = null)
    {
        var checks = new List<EvalReport.TargetCheck>();
        var byName = conditions.ToDictionary(c => c.Name);
        double Acc(string condition, string policy) => byName[condition].Policies[policy].Accuracy;
        singles ??= [EvalPolicies.AudioOnly, EvalPolicies.ImageOnly];
        var hasFixed = conditions.Count > 0 && conditions.All(c => c.Policies.ContainsKey(EvalPolicies.Fixed));

        var below = new List<string>();
        foreach (var c in conditions)
        {
            var best = singles.Max(p => Acc(c.Name, p));
            if (Acc(c.Name, EvalPolicies.Adaptive) < best - SingleMargin - 1e-9)
                below.Add($"{c.Name} {Pct(Acc(c.Name, EvalPolicies.Adaptive))} < {Pct(best)}");
        }
        checks.Add(new("adaptive >= better single modality - 0.5 pt in every condition", below.Count == 0,
            below.Count == 0 ? $"all {conditions.Count} conditions" : string.Join("; ", below)));

        var corruptions = EvalCondition.OneModalityCorruptions.Where(byName.ContainsKey).ToList();
        if (corruptions.Count > 0 && hasFixed)
        {
            // The worst corruption: the one that hurts its own modality most (lowest single-modality accuracy).
            var worst = corruptions.OrderBy(n => Acc(n, n.StartsWith("audio") ? EvalPolicies.AudioOnly : EvalPolicies.ImageOnly)).First();
            var gain = Acc(worst, EvalPolicies.Adaptive) - Acc(worst, EvalPolicies.Fixed);
            checks.Add(new("adaptive >= fixed + 3 pt in the worst one-modality corruption", gain >= FixedGainInWorst - 1e-9,
                $"{worst}: adaptive {Pct(Acc(worst, EvalPolicies.Adaptive))}, fixed {Pct(Acc(worst, EvalPolicies.Fixed))} ({gain * 100:+0.0;-0.0} pt)"));
        }
        if (byName.ContainsKey("clean") && hasFixed)
        {
            var d = Acc("clean", EvalPolicies.Adaptive) - Acc("clean", EvalPolicies.Fixed);
            checks.Add(new("adaptive no more than 0.5 pt below fixed on clean", d >= -CleanMarginVsFixed - 1e-9,
                $"adaptive {Pct(Acc("clean", EvalPolicies.Adaptive))}, fixed {Pct(Acc("clean", EvalPolicies.Fixed))}"));
        }
        foreach (var p in patterns.Where(p => p.Windows > 0))
            checks.Add(new($"adaptive ECE <= 3 % ({p.Pattern})", p.Ece <= MaxEce + 1e-9,
                $"ECE {p.Ece * 100:0.00}% over {p.Windows} windows (accuracy {Pct(p.Accuracy)}, mean confidence {p.MeanConfidence:0.000})"));
        if (byName.ContainsKey("clean"))
            foreach (var missing in new[] { "audio-missing", "image-missing" }.Where(byName.ContainsKey)
                         .Concat(conditions.Where(c => c.Target is not null && c.Name.EndsWith("-missing", StringComparison.Ordinal)).Select(c => c.Name)))
            {
                var ratio = Acc(missing, EvalPolicies.Adaptive) / Math.Max(1e-9, Acc("clean", EvalPolicies.Adaptive));
                checks.Add(new($"{missing} keeps >= 90 % of clean accuracy (adaptive)", ratio >= MissingKeeps - 1e-9,
                    $"{Pct(Acc(missing, EvalPolicies.Adaptive))} vs clean {Pct(Acc("clean", EvalPolicies.Adaptive))} ({ratio * 100:0.0} %)"));
            }
        if (byName.ContainsKey("stale-video"))
            checks.Add(new("stale-video: adaptive >= audio-only", Acc("stale-video", EvalPolicies.Adaptive) >= Acc("stale-video", EvalPolicies.AudioOnly) - 1e-9,
                $"adaptive {Pct(Acc("stale-video", EvalPolicies.Adaptive))}, audio-only {Pct(Acc("stale-video", EvalPolicies.AudioOnly))}"));
        return checks;
    }

    private static string Pct(double v) => $"{v * 100:0.0}%";
}
