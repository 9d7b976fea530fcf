using System.Text.Json;
using System.Text.Json.Serialization;
using FusionActors.Core.Streams;
using FusionActors.Protocol;

namespace FusionActors.Eval;

/// <summary>The evaluation's JSON report: {"items": N, "conditions": [{"name", "policies": {...}}], ...}.</summary>
public sealed record EvalReport
{
    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public int Items { get; init; }
    public string Dataset { get; init; } = "";
    public string Command { get; init; } = "";
    public IReadOnlyDictionary<string, double> FixedWeights { get; init; } = new Dictionary<string, double>();
    public string FixedWeightsSource { get; init; } = "";
    public IReadOnlyList<ConditionReport> Conditions { get; init; } = [];

    /// <summary>Adaptive policy, pooled over every condition run, per availability pattern.</summary>
    public IReadOnlyList<PatternCalibration> AdaptiveByPattern { get; init; } = [];

    public IReadOnlyList<TargetCheck> Targets { get; init; } = [];

    /// <summary>Each fused policy (adaptive, fixed, learned), pooled over every condition run, per availability pattern.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<PatternCalibration>> ByPolicyPattern { get; init; } = new Dictionary<string, IReadOnlyList<PatternCalibration>>();

    /// <summary><see cref="PolicyTargets"/> for adaptive and learned.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<TargetCheck>> PolicyTargets { get; init; } = new Dictionary<string, IReadOnlyList<TargetCheck>>();

    public double Seconds { get; init; }

    /// <summary>The session file played (repository-relative); null for the built-in audio + image session.</summary>
    public string? Session { get; init; }

    /// <summary>A session file's modalities that give a posterior (scored alone as M-only); null for the built-in session.</summary>
    public IReadOnlyList<string>? Modalities { get; init; }

    /// <summary>The policies a session file is not played with, and why; null for the built-in session.</summary>
    public IReadOnlyList<string>? Skipped { get; init; }

    /// <summary>With <c>--baseline</c>: this run against the baseline report, condition by condition.</summary>
    public IReadOnlyList<Comparison>? Comparisons { get; init; }

    /// <summary>
    /// One condition and policy of a run (<c>run</c>) against a baseline run (<c>baseline</c>) on the same items:
    /// accuracy and ECE with their 95 % bootstrap intervals, and the paired bootstrap interval of the accuracy
    /// difference (run − baseline, the same windows resampled in both). CPU: milliseconds of this process per window
    /// and per session played.
    /// </summary>
    public sealed record Comparison(string Baseline, string Condition, string Policy, int Windows,
        double BaselineAccuracy, double[] BaselineAccuracyCi95, double? BaselineEce, double[]? BaselineEceCi95,
        double RunAccuracy, double[] RunAccuracyCi95, double? RunEce, double[]? RunEceCi95,
        double AccuracyDifference, double[] AccuracyDifferenceCi95,
        double? BaselineCpuMsPerSessionWindow, double? RunCpuMsPerSessionWindow);

    /// <summary>What one policy decided in each window of a condition: the class (−1: no Fused result) and its confidence.</summary>
    public sealed record WindowOutcomes(
        [property: JsonConverter(typeof(CompactArray<int>))] int[] Predicted,
        [property: JsonConverter(typeof(CompactArray<double>))] double[] Confidence);

    /// <summary>A per-window array on one line of the indented report, not one line per value.</summary>
    public sealed class CompactArray<T> : JsonConverter<T[]>
    {
        private static readonly JsonSerializerOptions Plain = new();

        public override T[] Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            JsonSerializer.Deserialize<T[]>(ref reader, Plain) ?? [];

        public override void Write(Utf8JsonWriter writer, T[] value, JsonSerializerOptions options) =>
            writer.WriteRawValue(JsonSerializer.Serialize(value, Plain), skipInputValidation: true);
    }

    /// <summary>95 % bootstrap intervals of a policy's accuracy and ECE in one condition.</summary>
    public sealed record Intervals(double[] Accuracy, double[]? Ece);

    public sealed record ConditionReport
    {
        public required string Name { get; init; }
        public string Description { get; init; } = "";
        public int Seed { get; init; }
        public required IReadOnlyDictionary<string, PolicyMetrics> Policies { get; init; }
        /// <summary>The adaptive session's counters; null for a replayed recording (its session's counters are not kept: see <see cref="Replay"/>).</summary>
        public PipelineCounters? Pipeline { get; init; }

        /// <summary>The adaptive session's windows without a Fused result, and why (what was missing, stream states).</summary>
        public IReadOnlyList<UncoveredWindow> AdaptiveUncovered { get; init; } = [];

        /// <summary>A replayed demo's windows by the faults scheduled over them (camera outage, audio noise, none), each policy scored on them alone.</summary>
        public IReadOnlyList<PhaseReport>? Phases { get; init; }

        /// <summary>What a replay condition read from its recording.</summary>
        public ReplayCounters? Replay { get; init; }

        public double Seconds { get; init; }

        /// <summary>Session files: the modality the condition's faults aim at (<see cref="EvalCondition.Target"/>); null: the sensors'.</summary>
        public string? Target { get; init; }

        /// <summary>Session files: the label of each window (for comparing runs window by window).</summary>
        [JsonConverter(typeof(CompactArray<int>))]
        public int[]? Labels { get; init; }

        /// <summary>Session files: each policy's decision per window.</summary>
        public IReadOnlyDictionary<string, WindowOutcomes>? Outcomes { get; init; }

        /// <summary>Session files: each policy's 95 % bootstrap intervals (<see cref="EvalMetrics.Bootstrap"/>).</summary>
        public IReadOnlyDictionary<string, Intervals>? Intervals { get; init; }

        /// <summary>Session files: CPU milliseconds of the process per window and per session (policy) played.</summary>
        public double? CpuMsPerSessionWindow { get; init; }
    }

    /// <summary>The windows of one fault phase, with the same metrics per policy as a condition's.</summary>
    public sealed record PhaseReport(string Phase, int Windows, IReadOnlyDictionary<string, PolicyMetrics> Policies);

    public sealed record UncoveredWindow(int Window, string Status, IReadOnlyList<string> Missing, IReadOnlyDictionary<string, string> States);

    /// <summary>What the adaptive session's pipeline counted: proof that the fault really went through the server.</summary>
    public sealed record PipelineCounters
    {
        public long FramesIn { get; init; }
        public long FramesLate { get; init; }
        public long FramesTooLate { get; init; }
        public long LateEvidence { get; init; }
        public long Revisions { get; init; }
        public long EncoderFailures { get; init; }
        public long EncoderRestarts { get; init; }
        public long Quarantined { get; init; }
        public long Rejected { get; init; }
        public long WindowsWithMissingModality { get; init; }
        public int FrozenFramesSent { get; init; }
        public int VeryLateFramesSent { get; init; }
    }

    public sealed record TargetCheck(string Target, bool Met, string Detail);

    /// <param name="session">The session played; null or the built-in one: the report as it always was.</param>
    public static ConditionReport FromRun(ConditionRun run, EvalSession? session = null)
    {
        var file = session is { IsBuiltIn: false };
        var weighed = file ? session!.AllModalities : null;
        var policies = run.Policies.ToDictionary(kv => kv.Key, kv => EvalMetrics.Score(kv.Value.Windows, run.Labels, modalities: weighed));
        var adaptive = run.Policies[EvalPolicies.Adaptive];
        var s = adaptive.Status;
        var outcomes = !file ? null : run.Policies.ToDictionary(kv => kv.Key, kv => new WindowOutcomes(
            kv.Value.Windows.Select(w => w is { Status: FusedStatus.Fused } ? w.TopClass : -1).ToArray(),
            kv.Value.Windows.Select(w => w is { Status: FusedStatus.Fused } ? EvalMetrics.Round(Math.Clamp(w.Confidence, 0, 1)) : 0).ToArray()));
        return new ConditionReport
        {
            Target = run.Condition.Target,
            Labels = file ? run.Labels : null,
            Outcomes = outcomes,
            Intervals = outcomes?.ToDictionary(kv => kv.Key, kv =>
            {
                var (accuracy, ece) = EvalMetrics.Bootstrap(kv.Value.Predicted, kv.Value.Confidence, run.Labels);
                return new Intervals(accuracy, ece);
            }),
            CpuMsPerSessionWindow = file && run.CpuTime is { } cpu && run.Labels.Length > 0
                ? Math.Round(cpu.TotalMilliseconds / run.Labels.Length / run.Policies.Count, 2) : null,
            Name = run.Condition.Name,
            Description = run.Condition.Description,
            Seed = run.Condition.Seed,
            Policies = policies,
            Seconds = Math.Round(run.Elapsed.TotalSeconds, 1),
            Phases = run.Phases is { } phases ? PhasesOf(run, phases) : null,
            Replay = run.Replay,
            AdaptiveUncovered = adaptive.Windows.Select((w, i) => (w, i)).Where(x => x.w is not { Status: FusedStatus.Fused })
                .Select(x => new UncoveredWindow(x.i, x.w?.Status.ToString() ?? "no result", x.w?.Missing ?? [],
                    x.w?.States.ToDictionary(kv => kv.Key, kv => kv.Value.ToString()) ?? new Dictionary<string, string>())).ToList(),
            Pipeline = run.IsReplay ? null : new PipelineCounters
            {
                FramesIn = s?.Streams.Sum(x => x.Counters.FramesIn) ?? 0,
                FramesLate = s?.Streams.Sum(x => x.Counters.FramesLate) ?? 0,
                FramesTooLate = s?.Streams.Sum(x => x.Counters.FramesTooLate) ?? 0,
                LateEvidence = adaptive.LateEvidence,
                Revisions = s?.Alignment?.Revisions ?? 0,
                EncoderFailures = s?.Streams.Sum(x => x.Counters.EncoderFailures) ?? 0,
                EncoderRestarts = s?.Streams.Sum(x => x.Counters.EncoderRestarts) ?? 0,
                Quarantined = s?.Streams.Sum(x => x.Counters.Quarantined) ?? 0,
                Rejected = s?.Streams.Sum(x => x.Counters.RejectedTotal) ?? 0,
                WindowsWithMissingModality = adaptive.Windows.Count(w => w is { Status: FusedStatus.Fused } && w.Missing.Count > 0),
                FrozenFramesSent = run.Script?.FrozenFrames ?? 0,
                VeryLateFramesSent = run.Script?.VeryLateFrames ?? 0,
            },
        };
    }

    /// <summary>Each phase's windows (in order of first appearance), every policy scored on them with <see cref="EvalMetrics.Score"/>.</summary>
    private static IReadOnlyList<PhaseReport> PhasesOf(ConditionRun run, IReadOnlyList<string> phases) =>
        phases.Distinct().Select(phase =>
        {
            var windows = Enumerable.Range(0, run.Labels.Length).Where(i => i < phases.Count && phases[i] == phase).ToArray();
            var labels = windows.Select(i => run.Labels[i]).ToArray();
            return new PhaseReport(phase, windows.Length, run.Policies.ToDictionary(kv => kv.Key,
                kv => EvalMetrics.Score(windows.Select(i => kv.Value.Windows[i]).ToArray(), labels)));
        }).ToList();

    public void Print(TextWriter o)
    {
        if (Modalities is not null)
        {
            PrintSession(o);
            return;
        }
        o.WriteLine();
        o.WriteLine($"{"condition",-28} {"adaptive",9} {"fixed",9} {"audio",9} {"image",9}   {"ECE ad.",7} {"cov ad.",7}  w(audio/image) ad.");
        foreach (var c in Conditions)
        {
            string A(string p) => c.Policies.TryGetValue(p, out var m) ? $"{m.Accuracy * 100,8:0.0}%" : "        -";
            var a = c.Policies[EvalPolicies.Adaptive];
            o.WriteLine($"{c.Name,-28} {A(EvalPolicies.Adaptive)} {A(EvalPolicies.Fixed)} {A(EvalPolicies.AudioOnly)} {A(EvalPolicies.ImageOnly)}   " +
                        $"{(a.Ece is { } e ? $"{e * 100,6:0.0}%" : "      -")} {a.Coverage * 100,6:0}%  {a.MeanWeights.GetValueOrDefault("audio"):0.00}/{a.MeanWeights.GetValueOrDefault("image"):0.00}");
        }
        foreach (var c in Conditions.Where(c => c.Phases is not null))
        {
            o.WriteLine();
            o.WriteLine($"{c.Name}, per fault phase:");
            foreach (var ph in c.Phases!)
                o.WriteLine($"  {ph.Phase,-28} windows {ph.Windows,3}  " + string.Join("  ", ph.Policies.Select(kv =>
                    $"{kv.Key} {kv.Value.Accuracy * 100:0.0}% (ECE {(kv.Value.Ece is { } e ? $"{e * 100:0.00}%" : "-")})")));
        }
        o.WriteLine();
        o.WriteLine("adaptive, per availability pattern (scripted conditions pooled):");
        foreach (var p in AdaptiveByPattern)
            o.WriteLine($"  {p.Pattern,-11} windows {p.Windows,5}  accuracy {p.Accuracy * 100,5:0.0}%  ECE {(p.Ece is { } e ? $"{e * 100:0.00}%" : "-")}  mean confidence {p.MeanConfidence:0.000}");
        o.WriteLine();
        o.WriteLine("targets:");
        foreach (var t in Targets) o.WriteLine($"  [{(t.Met ? "met" : "MISSED")}] {t.Target}: {t.Detail}");
        if (ByPolicyPattern.ContainsKey(EvalPolicies.Learned))
        {
            o.WriteLine();
            o.WriteLine($"{"condition",-28} {"learned",9} {"adaptive",9} {"fixed",9}   {"ECE le.",7} {"cov le.",7}  w(audio/image) le.");
            foreach (var c in Conditions)
                if (c.Policies.TryGetValue(EvalPolicies.Learned, out var l))
                    o.WriteLine($"{c.Name,-28} {l.Accuracy * 100,8:0.0}% {c.Policies[EvalPolicies.Adaptive].Accuracy * 100,8:0.0}% {c.Policies[EvalPolicies.Fixed].Accuracy * 100,8:0.0}%   " +
                                $"{(l.Ece is { } e ? $"{e * 100,6:0.0}%" : "      -")} {l.Coverage * 100,6:0}%  {l.MeanWeights.GetValueOrDefault("audio"):0.00}/{l.MeanWeights.GetValueOrDefault("image"):0.00}");
        }
        foreach (var (policy, patterns) in ByPolicyPattern)
        {
            o.WriteLine();
            o.WriteLine($"{policy}, per availability pattern (all conditions pooled):");
            foreach (var p in patterns)
                o.WriteLine($"  {p.Pattern,-11} windows {p.Windows,5}  accuracy {p.Accuracy * 100,5:0.0}%  ECE {(p.Ece is { } e ? $"{e * 100:0.00}%" : "-")}  mean confidence {p.MeanConfidence:0.000}");
        }
        foreach (var (policy, checks) in PolicyTargets)
        {
            o.WriteLine();
            o.WriteLine($"out-of-distribution targets, {policy}:");
            foreach (var t in checks) o.WriteLine($"  [{(t.Met ? "met" : "MISSED")}] {t.Target}: {t.Detail}");
        }
    }

    /// <summary>A session file's run: every policy played, per-modality weights, intervals, and the comparison.</summary>
    private void PrintSession(TextWriter o)
    {
        var modalities = Modalities!;
        var policies = Conditions.Count == 0 ? [] : Conditions[0].Policies.Keys.ToList();
        o.WriteLine();
        o.WriteLine($"session {Session}: modalities with a posterior {string.Join(", ", modalities)}");
        foreach (var skip in Skipped ?? []) o.WriteLine($"  skipped {skip}");
        o.WriteLine();
        o.WriteLine($"{"condition",-28} " + string.Join(" ", policies.Select(p => $"{p,11}")) + $"   {"ECE ad.",7} {"cov ad.",7}  cpu ms/window/session  w({string.Join('/', modalities)}) ad.");
        foreach (var c in Conditions)
        {
            var a = c.Policies[EvalPolicies.Adaptive];
            o.WriteLine($"{c.Name,-28} " + string.Join(" ", policies.Select(p => c.Policies.TryGetValue(p, out var m) ? $"{m.Accuracy * 100,10:0.0}%" : $"{"-",11}")) +
                        $"   {(a.Ece is { } e ? $"{e * 100,6:0.0}%" : "      -")} {a.Coverage * 100,6:0}%  {c.CpuMsPerSessionWindow,21:0.00}  " +
                        string.Join('/', modalities.Select(m => $"{a.MeanWeights.GetValueOrDefault(m):0.00}")));
        }
        o.WriteLine();
        o.WriteLine("adaptive, 95 % bootstrap intervals (accuracy; ECE):");
        foreach (var c in Conditions.Where(c => c.Intervals?.ContainsKey(EvalPolicies.Adaptive) == true))
        {
            var i = c.Intervals![EvalPolicies.Adaptive];
            o.WriteLine($"  {c.Name,-28} {i.Accuracy[0] * 100:0.0}-{i.Accuracy[1] * 100:0.0} %;  {(i.Ece is { } e ? $"{e[0] * 100:0.00}-{e[1] * 100:0.00} %" : "-")}");
        }
        o.WriteLine();
        o.WriteLine("adaptive, per availability pattern (scripted conditions pooled):");
        foreach (var p in AdaptiveByPattern)
            o.WriteLine($"  {p.Pattern,-20} windows {p.Windows,5}  accuracy {p.Accuracy * 100,5:0.0}%  ECE {(p.Ece is { } e ? $"{e * 100:0.00}%" : "-")}  mean confidence {p.MeanConfidence:0.000}");
        o.WriteLine();
        o.WriteLine("targets:");
        foreach (var t in Targets) o.WriteLine($"  [{(t.Met ? "met" : "MISSED")}] {t.Target}: {t.Detail}");
        if (Comparisons is { Count: > 0 } comparisons)
        {
            o.WriteLine();
            o.WriteLine("against the baseline (accuracy % [95 % CI]; ECE % [95 % CI]; difference run - baseline, paired bootstrap):");
            foreach (var group in comparisons.GroupBy(c => c.Baseline))
            {
            o.WriteLine();
            o.WriteLine($"baseline {group.Key}:");
            o.WriteLine("| condition | policy | baseline accuracy | run accuracy | difference (pt) | baseline ECE | run ECE | CPU ms per window and session, baseline / run |");
            o.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|");
            foreach (var c in group)
                o.WriteLine($"| `{c.Condition}` | {c.Policy} | {Pct(c.BaselineAccuracy, c.BaselineAccuracyCi95)} | {Pct(c.RunAccuracy, c.RunAccuracyCi95)} | " +
                            $"{c.AccuracyDifference * 100:+0.0;-0.0;0.0} [{c.AccuracyDifferenceCi95[0] * 100:+0.0;-0.0;0.0}, {c.AccuracyDifferenceCi95[1] * 100:+0.0;-0.0;0.0}] | " +
                            $"{Ece(c.BaselineEce, c.BaselineEceCi95)} | {Ece(c.RunEce, c.RunEceCi95)} | {c.BaselineCpuMsPerSessionWindow:0.0} / {c.RunCpuMsPerSessionWindow:0.0} |");
            }
        }
    }

    private static string Pct(double v, double[] ci) => $"{v * 100:0.0} [{ci[0] * 100:0.0}, {ci[1] * 100:0.0}]";

    private static string Ece(double? v, double[]? ci) => v is { } e ? $"{e * 100:0.00} [{ci?[0] * 100:0.00}, {ci?[1] * 100:0.00}]" : "-";
}
