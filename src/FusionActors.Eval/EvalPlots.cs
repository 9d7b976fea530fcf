using ScottPlot;
using FusionActors.Core.Streams;
using FusionActors.Protocol;

namespace FusionActors.Eval;

/// <summary>The evaluation's PNG plots (ScottPlot): what a person looks at before reading the table.</summary>
public static class EvalPlots
{
    private static readonly Dictionary<string, Color> PolicyColors = new()
    {
        [EvalPolicies.Adaptive] = Color.FromHex("#1f77b4"),
        [EvalPolicies.Fixed] = Color.FromHex("#ff7f0e"),
        [EvalPolicies.AudioOnly] = Color.FromHex("#2ca02c"),
        [EvalPolicies.ImageOnly] = Color.FromHex("#d62728"),
        [EvalPolicies.Learned] = Color.FromHex("#9467bd"),
    };

    /// <summary>Colours of a session file's further policies (ocr-only, ...), in the order the report lists them.</summary>
    private static readonly Color[] Extra =
        [Color.FromHex("#8c564b"), Color.FromHex("#e377c2"), Color.FromHex("#7f7f7f"), Color.FromHex("#bcbd22"), Color.FromHex("#17becf")];

    /// <summary>The policies drawn: the built-in five, or those a session file's run played.</summary>
    private static IReadOnlyList<string> PoliciesOf(EvalReport report) =>
        report.Modalities is null || report.Conditions.Count == 0 ? EvalPolicies.All : report.Conditions[0].Policies.Keys.ToArray();

    private static Color ColorOf(EvalReport report, string policy)
    {
        if (PolicyColors.TryGetValue(policy, out var c)) return c;
        var others = PoliciesOf(report).Where(p => !PolicyColors.ContainsKey(p)).ToList();
        return Extra[Math.Max(0, others.IndexOf(policy)) % Extra.Length];
    }

    public static IReadOnlyList<string> Write(string directory, EvalReport report, IReadOnlyList<ConditionRun> runs)
    {
        Directory.CreateDirectory(directory);
        var written = new List<string>();
        written.Add(AccuracyPerCondition(Path.Combine(directory, "accuracy-per-condition.png"), report));
        if (AccuracyVsSnr(Path.Combine(directory, "accuracy-vs-snr.png"), report) is { } snr) written.Add(snr);
        if (AccuracyVsImageNoise(Path.Combine(directory, "accuracy-vs-image-noise.png"), report) is { } noise) written.Add(noise);
        if (AccuracyVsOcclusion(Path.Combine(directory, "accuracy-vs-occlusion.png"), report) is { } occlusion) written.Add(occlusion);
        written.Add(EcePerCondition(Path.Combine(directory, "ece-per-condition.png"), report));
        written.Add(RiskCoverage(Path.Combine(directory, "risk-coverage.png"), report));
        var outage = runs.FirstOrDefault(r => r.Condition.Name == "camera-outage-intermittent")
                     ?? runs.FirstOrDefault(r => r.Script is { } script && script.Faults.Any(f => f.CameraOff));
        if (outage is not null) written.Add(Timeline(Path.Combine(directory, "timeline-camera-outage.png"), outage, report));
        return written;
    }

    private static string AccuracyPerCondition(string path, EvalReport report)
    {
        var plt = new Plot();
        var n = report.Conditions.Count;
        var policies = PoliciesOf(report);
        var width = 0.8 / policies.Count;
        var bars = new List<Bar>();
        for (var i = 0; i < n; i++)
            for (var p = 0; p < policies.Count; p++)
            {
                var m = report.Conditions[i].Policies[policies[p]];
                bars.Add(new Bar
                {
                    Position = i + (p - (policies.Count - 1) / 2.0) * width,
                    Value = m.Accuracy * 100,
                    FillColor = ColorOf(report, policies[p]),
                    Size = width * 0.95,
                    LineWidth = 0,
                });
            }
        plt.Add.Bars(bars);
        Legend(plt, report, policies);
        ConditionTicks(plt, report);
        plt.Axes.SetLimitsY(0, 115);
        plt.Axes.SetLimitsX(-0.6, n - 0.4);
        plt.YLabel("accuracy (%)");
        plt.Title($"Accuracy per condition and policy ({report.Items} items per condition{Replayed(report)})");
        plt.SavePng(path, Math.Max(900, 75 * n), 560);
        return path;
    }

    private static string? AccuracyVsSnr(string path, EvalReport report) =>
        AccuracyVsSeverity(path, report, EvalCondition.SnrSweep, p => p.Name == "clean" ? "clean" : $"{p.Level:0} dB",
            "audio SNR (white noise over the 1 s window)", "Accuracy vs audio SNR (camera clean)", 40);

    private static string? AccuracyVsImageNoise(string path, EvalReport report) =>
        AccuracyVsSeverity(path, report, EvalCondition.ImageNoiseSweep, p => p.Name == "clean" ? $"clean ({p.Level:0.00})" : $"σ {p.Level:0.0}",
            "camera sensor noise σ per frame", "Accuracy vs image noise (audio clean)", 0);

    private static string? AccuracyVsOcclusion(string path, EvalReport report) =>
        AccuracyVsSeverity(path, report, EvalCondition.OcclusionSweep, p => p.Name == "clean" ? "none" : $"{p.Level:0}×{p.Level:0}",
            "occluder side (of 8×8, black or white, random place per item)", "Accuracy vs image occlusion (audio clean)", 0);

    /// <summary>Accuracy of every policy along a severity sweep, from the conditions of it that were run; null with fewer than two.</summary>
    private static string? AccuracyVsSeverity(string path, EvalReport report, (string Name, double Level)[] sweep, Func<(string Name, double Level), string> tick,
        string xLabel, string title, double yMin)
    {
        var points = sweep.Where(p => report.Conditions.Any(c => c.Name == p.Name)).ToArray();
        if (points.Count(p => p.Name != "clean") < 2) return null;
        var plt = new Plot();
        foreach (var policy in PoliciesOf(report).Reverse()) // adaptive last, on top
        {
            var xs = points.Select(p => p.Level).ToArray();
            var ys = points.Select(p => report.Conditions.First(c => c.Name == p.Name).Policies[policy].Accuracy * 100).ToArray();
            var s = plt.Add.Scatter(xs, ys);
            s.Color = ColorOf(report, policy);
            s.LineWidth = policy == EvalPolicies.Adaptive ? 3 : 2;
            s.MarkerSize = 7;
            s.LegendText = policy;
        }
        plt.Axes.Bottom.SetTicks(points.Select(p => p.Level).ToArray(), points.Select(tick).ToArray());
        var lowest = report.Conditions.Where(c => points.Any(p => p.Name == c.Name)).Min(c => c.Policies.Values.Min(m => m.Accuracy)) * 100;
        plt.Axes.SetLimitsY(Math.Min(yMin, Math.Floor(lowest / 10) * 10), 102);
        plt.XLabel(xLabel);
        plt.YLabel("accuracy (%)");
        plt.Title(title);
        plt.ShowLegend(ScottPlot.Alignment.LowerLeft);
        plt.SavePng(path, 800, 500);
        return path;
    }

    /// <summary>The adaptive policy's risk–coverage curve in every condition, and fixed's pooled over all, for comparison.</summary>
    private static string RiskCoverage(string path, EvalReport report)
    {
        var plt = new Plot();
        var palette = new ScottPlot.Palettes.Category20();
        for (var i = 0; i < report.Conditions.Count; i++)
        {
            var c = report.Conditions[i];
            var curve = c.Policies[EvalPolicies.Adaptive].RiskCoverage;
            if (curve.Count == 0) continue;
            var s = plt.Add.Scatter(curve.Select(p => p.Coverage * 100).ToArray(), curve.Select(p => p.Risk * 100).ToArray());
            s.Color = palette.GetColor(i);
            s.LineWidth = 1.5f;
            s.MarkerSize = 3;
            s.LegendText = c.Name;
        }
        plt.XLabel("coverage: windows decided, most confident first (%)");
        plt.YLabel("risk: error rate among them (%)");
        plt.Title($"Risk–coverage of the adaptive policy per condition ({report.Items} items{Replayed(report)})");
        plt.Axes.SetLimitsX(5, 102);
        plt.ShowLegend(Edge.Right);
        plt.Legend.Orientation = Orientation.Vertical;
        // One legend row per condition, in one column.
        plt.SavePng(path, 1150, Math.Max(560, 110 + 21 * report.Conditions.Count));
        return path;
    }

    private static string EcePerCondition(string path, EvalReport report)
    {
        var plt = new Plot();
        var n = report.Conditions.Count;
        // Adaptive and fixed; a session file's run without fixed draws adaptive alone (each bar still half a slot).
        var policies = new[] { EvalPolicies.Adaptive, EvalPolicies.Fixed }.Where(p => report.Conditions.All(c => c.Policies.ContainsKey(p))).ToArray();
        var width = 0.8 / 2;
        var bars = new List<Bar>();
        for (var i = 0; i < n; i++)
            for (var p = 0; p < policies.Length; p++)
                bars.Add(new Bar
                {
                    Position = i + (p - 0.5) * width,
                    Value = (report.Conditions[i].Policies[policies[p]].Ece ?? 0) * 100,
                    FillColor = ColorOf(report, policies[p]),
                    Size = width * 0.95,
                    LineWidth = 0,
                });
        plt.Add.Bars(bars);
        var target = plt.Add.HorizontalLine(EvalTargets.MaxEce * 100);
        target.LinePattern = LinePattern.Dashed;
        target.Color = Colors.Gray;
        Legend(plt, report, policies);
        ConditionTicks(plt, report);
        plt.Axes.SetLimitsX(-0.6, n - 0.4);
        plt.Axes.SetLimitsY(0, Math.Max(5, report.Conditions.Max(c => policies.Max(p => c.Policies[p].Ece ?? 0)) * 125));
        plt.YLabel("ECE, 15 bins (%)");
        plt.Title("Expected calibration error per condition (dashed: 3 % target)");
        plt.SavePng(path, Math.Max(900, 75 * n), 560);
        return path;
    }

    private static string Timeline(string path, ConditionRun run, EvalReport report)
    {
        var adaptive = run.Policies[EvalPolicies.Adaptive].Windows;
        var n = Math.Min(adaptive.Length, 80);
        var xs = Enumerable.Range(0, n).Select(i => i + 0.5).ToArray(); // a window [i, i+1) is drawn at its middle
        var plt = new Plot();
        for (var i = 0; i < n; i++)
            if (run.Script!.Faults[i].CameraOff)
            {
                var span = plt.Add.HorizontalSpan(i, i + 1);
                span.FillColor = Colors.Gray.WithAlpha(0.25);
                span.LineWidth = 0;
            }
        double[] Series(Func<FusedResult, double> f) => adaptive.Take(n).Select(r => r is { Status: FusedStatus.Fused } ? f(r) : 0).ToArray();
        // Each posterior modality's weight, in the colour of its M-only policy.
        foreach (var modality in report.Modalities ?? EvalMetrics.Modalities)
        {
            var w = plt.Add.ScatterLine(xs, Series(r => r.Weights.GetValueOrDefault(modality)));
            w.Color = ColorOf(report, EvalSession.OnlyOf(modality));
            w.LineWidth = 2;
            w.LegendText = $"weight {modality}";
        }
        var conf = plt.Add.ScatterLine(xs, Series(r => r.Confidence));
        conf.Color = Colors.Black;
        conf.LinePattern = LinePattern.Dashed;
        conf.LegendText = "fused confidence";
        var wrong = Enumerable.Range(0, n).Where(i => adaptive[i] is not { Status: FusedStatus.Fused } r || r.TopClass != run.Labels[i]).ToArray();
        if (wrong.Length > 0)
        {
            var m = plt.Add.ScatterPoints(wrong.Select(i => i + 0.5).ToArray(), wrong.Select(_ => 0.03).ToArray());
            m.Color = Colors.Red;
            m.MarkerShape = MarkerShape.Cross;
            m.MarkerSize = 9;
            m.LegendText = "wrong decision";
        }
        plt.Axes.SetLimitsY(-0.02, 1.1);
        plt.Axes.SetLimitsX(0, n);
        plt.XLabel("window (s)");
        plt.YLabel("normalised weight / confidence");
        plt.Title($"Adaptive session through {run.Condition.Name} (grey: camera sends nothing)");
        plt.ShowLegend(ScottPlot.Alignment.LowerLeft);
        plt.SavePng(path, 1100, 450);
        return path;
    }

    private static void Legend(Plot plt, EvalReport report, IEnumerable<string> policies)
    {
        foreach (var p in policies) plt.Legend.ManualItems.Add(new LegendItem { LabelText = p, FillColor = ColorOf(report, p) });
        plt.Legend.Orientation = Orientation.Horizontal;
        plt.ShowLegend(ScottPlot.Alignment.UpperCenter);
    }

    /// <summary>", replay:demo 15 windows" for each replayed recording in the report (its windows are the recording's, not the items).</summary>
    private static string Replayed(EvalReport report) =>
        string.Concat(report.Conditions.Where(c => c.Replay is not null).Select(c => $"; {c.Name} {c.Phases?.Sum(p => p.Windows) ?? 0} windows"));

    private static void ConditionTicks(Plot plt, EvalReport report)
    {
        plt.Axes.Bottom.SetTicks(Enumerable.Range(0, report.Conditions.Count).Select(i => (double)i).ToArray(),
            report.Conditions.Select(c => c.Name).ToArray());
        plt.Axes.Bottom.TickLabelStyle.Rotation = 40;
        plt.Axes.Bottom.TickLabelStyle.Alignment = ScottPlot.Alignment.MiddleLeft;
        plt.Axes.Bottom.MinimumSize = 170;
    }
}
