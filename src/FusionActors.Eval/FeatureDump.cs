using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using FusionActors.Core.Fusion;
using FusionActors.Core.Fusion.Policies;
using FusionActors.Core.Specs;
using FusionActors.Inference.Data;
using FusionActors.Protocol;
using FusionActors.Protocol.Specs;
using FusionActors.Runtime.Encoders;
using FusionActors.Runtime.Hosting;
using FusionActors.Scenarios.Faults;

namespace FusionActors.Eval;

/// <summary>What <see cref="FeatureDump"/> plays and where it writes.</summary>
public sealed record FeatureDumpOptions
{
    /// <summary>The items played (the val split: never test, never an OOD split).</summary>
    public required IReadOnlyList<AvDigitsItem> Items { get; init; }

    /// <summary>The data set's folder and split, recorded in the output.</summary>
    public required string Source { get; init; }

    public required string Output { get; init; }
    public required IReadOnlyDictionary<string, double> FixedWeights { get; init; }
    public IReadOnlyList<EvalCondition> Conditions { get; init; } = FeatureDump.Curriculum;
    public string? Config { get; init; }
}

/// <summary>
/// Plays a fault curriculum over train/val items through the real pipeline (the evaluation's node, runner and
/// faults) and writes what the fusion saw, per window, for <c>tools/train/train_fusion.py</c>:
/// <list type="bullet">
/// <item><c>features.csv</c>: one row per window and modality with evidence: the condition, the window, its label, the
/// modality, its <see cref="LearnedFeatures"/> and its pooled calibrated log-posterior, as the learned head receives
/// them (recorded by a head that records and weighs every modality 1).</item>
/// <item><c>fused.csv</c>: one row per window and compared policy (adaptive, fixed) with a Fused result: its
/// availability pattern and fused log-posterior, uncalibrated (the node runs this with no fusion calibration).</item>
/// </list>
/// </summary>
public static class FeatureDump
{
    /// <summary>
    /// The evaluation's in-distribution conditions, plus compositions of a missing modality with a corruption of the
    /// other (and of two corruptions), so that every availability pattern is also seen under the faults of its
    /// remaining modality, and heavier ones (σ 0.7 camera noise, 5×5 and 6×6 occluders, −10 dB), so that it is also
    /// seen far from the val split's drift. Their seeds differ from the evaluation's.
    /// </summary>
    public static IReadOnlyList<EvalCondition> Curriculum { get; } =
    [
        .. EvalCondition.All,
        Compose("audio-missing+image-noise-high", new() { Seed = 201, AudioMissing = true, CameraNoiseSigma = 0.5 }),
        Compose("audio-missing+image-occlusion", new() { Seed = 202, AudioMissing = true, OcclusionSide = 4 }),
        Compose("audio-missing+stale-video", new() { Seed = 203, AudioMissing = true, CameraFreezes = new(8, 2, 6) }),
        Compose("image-missing+audio-snr-0", new() { Seed = 204, CameraMissing = true, AudioNoise = new(0) }),
        Compose("image-missing+audio-snr-neg5", new() { Seed = 205, CameraMissing = true, AudioNoise = new(-5) }),
        Compose("audio-snr-0+image-noise-high", new() { Seed = 206, AudioNoise = new(0), CameraNoiseSigma = 0.5 }),
        Compose("audio-snr-neg5+image-occlusion", new() { Seed = 207, AudioNoise = new(-5), OcclusionSide = 4 }),
        Compose("audio-dropout+image-occlusion", new() { Seed = 208, AudioDropouts = new(6, 1, 6), OcclusionSide = 4 }),
        Compose("camera-outage+audio-snr-0", new() { Seed = 209, CameraOutages = new(6, 2, 8), AudioNoise = new(0) }),
        // Heavier shifts of a lone or of both modalities, so that the head sees evidence far from the val split's drift
        // (drift well above 1) with the accuracy that goes with it: synthetic corruptions of val, never an OOD split.
        Compose("audio-missing+image-noise-s70", new() { Seed = 210, AudioMissing = true, CameraNoiseSigma = 0.7 }),
        Compose("audio-missing+image-occlusion-6", new() { Seed = 211, AudioMissing = true, OcclusionSide = 6 }),
        Compose("image-missing+audio-snr-neg10", new() { Seed = 212, CameraMissing = true, AudioNoise = new(-10) }),
        Compose("audio-snr-neg10+image-occlusion-5", new() { Seed = 213, AudioNoise = new(-10), OcclusionSide = 5 }),
        Compose("audio-snr-0+image-noise-s70", new() { Seed = 214, AudioNoise = new(0), CameraNoiseSigma = 0.7 }),
    ];

    private static EvalCondition Compose(string name, SensorFaults faults) =>
        new() { Name = name, Faults = faults, Extra = true, Description = "curriculum only: " + name.Replace("+", " and ", StringComparison.Ordinal) };

    public static async Task<int> RunAsync(FeatureDumpOptions o, CancellationToken cancel)
    {
        var clock = Stopwatch.StartNew();
        Directory.CreateDirectory(o.Output);
        var recorder = new RecordingHead();
        var options = EvalHarness.ForEvaluation(FusionOptions.Load(o.Config));
        var poison = new PoisonSwitch();
        // No fusion calibration while dumping: the fits start from the uncalibrated fused posteriors.
        await using var node = await FusionNode.StartAsync(options,
            wrapEncoders: inner => new WithFusionModels(poison.Wrap(inner), new FusionModels(FusionCalibration.Identity, recorder)), cancel: cancel);
        var runner = new EvalRunner(node, poison, o.FixedWeights) { Policies = [EvalPolicies.Adaptive, EvalPolicies.Fixed, EvalPolicies.Learned] };

        await using var features = new StreamWriter(Path.Combine(o.Output, "features.csv"));
        await using var fused = new StreamWriter(Path.Combine(o.Output, "fused.csv"));
        var k = o.Items.Count > 0 ? 10 : 0;
        await features.WriteLineAsync("condition,window,label,modality," + string.Join(',', LearnedFeatures.Names) + "," +
                                      string.Join(',', Enumerable.Range(0, k).Select(i => $"logp{i}")));
        await fused.WriteLineAsync("condition,window,label,policy,pattern," + string.Join(',', Enumerable.Range(0, k).Select(i => $"logp{i}")));
        var rows = 0;
        foreach (var condition in o.Conditions)
        {
            recorder.Clear();
            var run = await runner.RunAsync(condition, o.Items, cancel);
            foreach (var ((window, modality), (_, f, logp)) in recorder.Final().OrderBy(kv => kv.Key.Window).ThenBy(kv => kv.Key.Modality, StringComparer.Ordinal))
            {
                if (window < 0 || window >= o.Items.Count || logp.Length != k) continue;
                await features.WriteLineAsync($"{condition.Name},{window},{run.Labels[window]},{modality},{Join(f)},{Join(logp)}");
                rows++;
            }
            foreach (var policy in new[] { EvalPolicies.Adaptive, EvalPolicies.Fixed })
            {
                var windows = run.Policies[policy].Windows;
                for (var w = 0; w < windows.Length; w++)
                {
                    if (windows[w] is not { Status: FusedStatus.Fused } r || r.Posterior.Length != k) continue;
                    var pattern = FusionCalibration.PatternOf(EvalMetrics.Modalities.Where(m => !r.Missing.Contains(m)));
                    await fused.WriteLineAsync($"{condition.Name},{w},{run.Labels[w]},{policy},{pattern},{Join(r.Posterior.Select(p => Math.Log(Math.Max(p, 1e-300))))}");
                }
            }
            var score = EvalReport.FromRun(run);
            Console.WriteLine($"  {condition.Name,-34} " + string.Join("  ", runner.Policies.Select(p => $"{p} {score.Policies[p].Accuracy * 100:0.0}%")) +
                              $"   ({run.Elapsed.TotalSeconds:0.0} s)");
        }
        await File.WriteAllTextAsync(Path.Combine(o.Output, "dump.txt"),
            $"source {o.Source}\nitems {o.Items.Count}\nconditions {string.Join(",", o.Conditions.Select(c => c.Name))}\n" +
            $"fixed weights {string.Join(",", o.FixedWeights.Select(kv => $"{kv.Key}={kv.Value.ToString(CultureInfo.InvariantCulture)}"))}\n" +
            $"feature rows {rows}\nseconds {clock.Elapsed.TotalSeconds:0.0}\n", cancel);
        Console.WriteLine($"feature dump: {rows} rows in {o.Output} ({clock.Elapsed.TotalSeconds:0.0} s)");
        return 0;
    }

    private static string Join(IEnumerable<double> xs) => string.Join(',', xs.Select(x => x.ToString("R", CultureInfo.InvariantCulture)));
    private static string Join(IEnumerable<float> xs) => string.Join(',', xs.Select(x => x.ToString("R", CultureInfo.InvariantCulture)));

    /// <summary>Every encoder as the node resolves it, with these fusion models instead of the node's own.</summary>
    private sealed class WithFusionModels(IEncoderProvider inner, FusionModels fusion) : IEncoderProvider
    {
        public ResolvedEncoder Resolve(StreamSpec stream, int classCount) => inner.Resolve(stream, classCount);
        public FusionModels Fusion => fusion;
    }

    /// <summary>
    /// A head that weighs every modality 1 and keeps, per (window, modality), the features and pooled posterior of the
    /// window's latest revision. One learned session per condition, conditions one after the other.
    /// </summary>
    private sealed class RecordingHead : ILearnedWeighting, IEvidenceObserver
    {
        private readonly ConcurrentDictionary<(int Window, string Modality), (int Revision, float[] Features, double[] LogP)> _rows = new();

        public int FeatureCount => LearnedFeatures.Count;

        public LearnedOutput Evaluate(ReadOnlySpan<float> features) => new(1.0, 0.0);

        public void Observe(in ModalityEvidence evidence, ReadOnlySpan<float> features)
        {
            var window = (int)(evidence.Window.StartUs / EvalScript.SecondUs);
            var row = (evidence.Window.Revision, features.ToArray(), evidence.LogP is { } lp ? (double[])lp.Clone() : []);
            _rows.AddOrUpdate((window, evidence.Modality), row, (_, prev) => prev.Revision <= row.Revision ? row : prev);
        }

        public void Clear() => _rows.Clear();

        /// <summary>Rows of each window's latest revision only (a revision may drop or add a modality).</summary>
        public IEnumerable<KeyValuePair<(int Window, string Modality), (int Revision, float[] Features, double[] LogP)>> Final()
        {
            var latest = _rows.GroupBy(kv => kv.Key.Window).ToDictionary(g => g.Key, g => g.Max(kv => kv.Value.Revision));
            return _rows.Where(kv => kv.Value.Revision == latest[kv.Key.Window]);
        }
    }
}
