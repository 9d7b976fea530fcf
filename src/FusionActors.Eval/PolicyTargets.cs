namespace FusionActors.Eval;

/// <summary>
/// The targets of the out-of-distribution fusion work, checked for one fused policy (adaptive, learned) on whatever
/// conditions a run has: ECE ≤ 3 % in every availability pattern; ≥ fixed − 0.5 pt in every condition; ≥ fixed + 3 pt
/// in the worst one-modality corruption; ≥ the better single modality − 0.5 pt in every condition; a missing
/// modality keeps ≥ 90 % of clean accuracy.
/// </summary>
public static class PolicyTargets
{
    public const double FixedMargin = 0.005;

    public static IReadOnlyList<EvalReport.TargetCheck> Check(
        IReadOnlyList<EvalReport.ConditionReport> conditions, IReadOnlyList<PatternCalibration> patterns, string policy, IReadOnlyList<string>? singles = null)
    {
        singles ??= [EvalPolicies.AudioOnly, EvalPolicies.ImageOnly];
        var checks = new List<EvalReport.TargetCheck>();
        var byName = conditions.Where(c => c.Policies.ContainsKey(policy)).ToDictionary(c => c.Name);
        if (byName.Count == 0) return checks;
        double Acc(string condition, string p) => byName[condition].Policies[p].Accuracy;

        foreach (var p in patterns.Where(p => p.Windows > 0))
            checks.Add(new($"{policy} ECE <= 3 % ({p.Pattern})", p.Ece <= EvalTargets.MaxEce + 1e-9,
                $"ECE {p.Ece * 100:0.00}% over {p.Windows} windows (accuracy {Pct(p.Accuracy)}, mean confidence {p.MeanConfidence:0.000})"));

        var belowFixed = byName.Values.Where(c => Acc(c.Name, policy) < Acc(c.Name, EvalPolicies.Fixed) - FixedMargin - 1e-9)
            .Select(c => $"{c.Name} {Pct(Acc(c.Name, policy))} < {Pct(Acc(c.Name, EvalPolicies.Fixed))}").ToList();
        checks.Add(new($"{policy} >= fixed - 0.5 pt in every condition", belowFixed.Count == 0,
            belowFixed.Count == 0 ? $"all {byName.Count} conditions" : string.Join("; ", belowFixed)));

        var corruptions = EvalCondition.OneModalityCorruptions.Where(byName.ContainsKey).ToList();
        if (corruptions.Count > 0)
        {
            var worst = corruptions.OrderBy(n => Acc(n, n.StartsWith("audio", StringComparison.Ordinal) ? EvalPolicies.AudioOnly : EvalPolicies.ImageOnly)).First();
            var gain = Acc(worst, policy) - Acc(worst, EvalPolicies.Fixed);
            checks.Add(new($"{policy} >= fixed + 3 pt in the worst one-modality corruption", gain >= EvalTargets.FixedGainInWorst - 1e-9,
                $"{worst}: {policy} {Pct(Acc(worst, policy))}, fixed {Pct(Acc(worst, EvalPolicies.Fixed))} ({gain * 100:+0.0;-0.0} pt)"));
        }

        double Best(string condition) => singles.Max(p => Acc(condition, p));
        var belowSingle = byName.Values.Where(c => Acc(c.Name, policy) < Best(c.Name) - EvalTargets.SingleMargin - 1e-9)
            .Select(c => $"{c.Name} {Pct(Acc(c.Name, policy))} < {Pct(Best(c.Name))}").ToList();
        checks.Add(new($"{policy} >= better single modality - 0.5 pt in every condition", belowSingle.Count == 0,
            belowSingle.Count == 0 ? $"all {byName.Count} conditions" : string.Join("; ", belowSingle)));

        if (byName.ContainsKey("clean"))
            foreach (var missing in new[] { "audio-missing", "image-missing" }.Where(byName.ContainsKey))
            {
                var ratio = Acc(missing, policy) / Math.Max(1e-9, Acc("clean", policy));
                checks.Add(new($"{policy}: {missing} keeps >= 90 % of clean accuracy", ratio >= EvalTargets.MissingKeeps - 1e-9,
                    $"{Pct(Acc(missing, policy))} vs clean {Pct(Acc("clean", policy))} ({ratio * 100:0.0} %)"));
            }
        return checks;
    }

    private static string Pct(double v) => $"{v * 100:0.0}%";
}
