using System.Text.Json;
using FusionActors.Inference;
using FusionActors.Scenarios;

namespace FusionActors.Eval;

/// <summary>
/// A session-file run against a baseline report of another session on the same items and conditions (<c>eval
/// --session FILE --baseline REPORT</c>): per condition and per policy both played, accuracy and ECE with 95 %
/// bootstrap intervals, and the paired bootstrap interval of the accuracy difference (the same windows resampled in
/// both runs, so the items' own difficulty cancels).
/// </summary>
public static class EvalComparison
{
    /// <summary>The most bytes of a baseline report read.</summary>
    public const long MaxBaselineBytes = 64L * 1024 * 1024;

    /// <summary>The comparisons with each baseline report, in order.</summary>
    public static IReadOnlyList<EvalReport.Comparison> Compare(IEnumerable<string> baselinePaths, EvalReport run) =>
        baselinePaths.SelectMany(p => Compare(p, run)).ToList();

    public static IReadOnlyList<EvalReport.Comparison> Compare(string baselinePath, EvalReport run)
    {
        var info = new FileInfo(baselinePath);
        if (!info.Exists) throw new UsageException($"--baseline {baselinePath} does not exist");
        if (info.Length > MaxBaselineBytes) throw new UsageException($"--baseline {baselinePath}: {info.Length} bytes, more than {MaxBaselineBytes}");
        (string Name, Dictionary<string, Condition> Conditions) read;
        try { read = Read(baselinePath); }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new UsageException($"--baseline {baselinePath}: not a report of eval --session FILE ({e.GetType().Name}: {e.Message})");
        }
        var (name, baseline) = read;
        var list = new List<EvalReport.Comparison>();
        foreach (var c in run.Conditions)
        {
            if (c.Labels is null || c.Outcomes is null || !baseline.TryGetValue(c.Name, out var b)) continue;
            if (!b.Labels.SequenceEqual(c.Labels))
                throw new UsageException($"--baseline {baselinePath}: condition '{c.Name}' has other items (labels differ): compare runs of the same data set and --items");
            foreach (var (policy, outcome) in c.Outcomes)
            {
                if (!b.Outcomes.TryGetValue(policy, out var bo)) continue;
                var (bAcc, bEce) = EvalMetrics.Bootstrap(bo.Predicted, bo.Confidence, b.Labels);
                var (rAcc, rEce) = EvalMetrics.Bootstrap(outcome.Predicted, outcome.Confidence, c.Labels);
                list.Add(new EvalReport.Comparison(name, c.Name, policy, c.Labels.Length,
                    Accuracy(bo.Predicted, b.Labels), bAcc, Ece(bo, b.Labels), bEce,
                    Accuracy(outcome.Predicted, c.Labels), rAcc, Ece(outcome, c.Labels), rEce,
                    EvalMetrics.Round(Accuracy(outcome.Predicted, c.Labels) - Accuracy(bo.Predicted, b.Labels)),
                    PairedDifference(outcome.Predicted, bo.Predicted, c.Labels),
                    b.CpuMsPerSessionWindow, c.CpuMsPerSessionWindow));
            }
        }
        return list;
    }

    private static double Accuracy(int[] predicted, int[] labels) =>
        EvalMetrics.Round(labels.Length == 0 ? 0 : labels.Where((l, i) => predicted[i] == l).Count() / (double)labels.Length);

    private static double? Ece(EvalReport.WindowOutcomes o, int[] labels)
    {
        var fused = labels.Select((l, i) => (i, l)).Where(x => o.Predicted[x.i] >= 0).Select(x => (o.Confidence[x.i], o.Predicted[x.i] == x.l)).ToList();
        return fused.Count == 0 ? null : EvalMetrics.Round(Calibration.ExpectedCalibrationError(fused, EvalMetrics.EceBins));
    }

    /// <summary>95 % interval of accuracy(run) − accuracy(baseline), both on the same resampled windows.</summary>
    public static double[] PairedDifference(int[] run, int[] baseline, int[] labels, int seed = 20261202)
    {
        var n = labels.Length;
        if (n == 0) return [0, 0];
        var rng = new Random(seed);
        var d = new double[EvalMetrics.BootstrapResamples];
        for (var b = 0; b < d.Length; b++)
        {
            var diff = 0;
            for (var k = 0; k < n; k++)
            {
                var i = rng.Next(n);
                diff += (run[i] == labels[i] ? 1 : 0) - (baseline[i] == labels[i] ? 1 : 0);
            }
            d[b] = diff / (double)n;
        }
        return EvalMetrics.Interval(d);
    }

    private sealed record Condition(int[] Labels, Dictionary<string, EvalReport.WindowOutcomes> Outcomes, double? CpuMsPerSessionWindow);

    /// <summary>The baseline's per-window outcomes, read strictly: a report written by a session-file run.</summary>
    private static (string Name, Dictionary<string, Condition> Conditions) Read(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { MaxDepth = 16 });
        var conditions = new Dictionary<string, Condition>(StringComparer.Ordinal);
        if (!doc.RootElement.TryGetProperty("conditions", out var cs) || cs.ValueKind != JsonValueKind.Array)
            throw new UsageException($"--baseline {path}: not an eval report (no conditions)");
        foreach (var c in cs.EnumerateArray())
        {
            var name = c.GetProperty("name").GetString()!;
            if (!c.TryGetProperty("labels", out var labels) || !c.TryGetProperty("outcomes", out var outcomes))
                throw new UsageException($"--baseline {path}: condition '{name}' has no per-window outcomes: the baseline must be a report of eval --session FILE");
            var l = labels.EnumerateArray().Select(x => x.GetInt32()).ToArray();
            var o = new Dictionary<string, EvalReport.WindowOutcomes>(StringComparer.Ordinal);
            foreach (var p in outcomes.EnumerateObject())
            {
                var predicted = p.Value.GetProperty("predicted").EnumerateArray().Select(x => x.GetInt32()).ToArray();
                var confidence = p.Value.GetProperty("confidence").EnumerateArray().Select(x => x.GetDouble()).ToArray();
                if (predicted.Length != l.Length || confidence.Length != l.Length)
                    throw new UsageException($"--baseline {path}: condition '{name}', policy '{p.Name}': {predicted.Length} outcomes for {l.Length} windows");
                o[p.Name] = new EvalReport.WindowOutcomes(predicted, confidence);
            }
            double? cpu = c.TryGetProperty("cpuMsPerSessionWindow", out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;
            conditions[name] = new Condition(l, o, cpu);
        }
        // Named by the session it played (and the node's models when the session file names them), else by the file.
        var session = doc.RootElement.TryGetProperty("session", out var s) && s.ValueKind == JsonValueKind.String
            ? s.GetString()! : EvalHarness.RepositoryRelative(path);
        return (session, conditions);
    }
}
