using FusionActors.Eval;
using FusionActors.Inference;
using FusionActors.Inference.Data;
using FusionActors.Inference.Tests;
using FusionActors.Runtime.Hosting;
using FusionActors.Scenarios;
using FusionActors.Scenarios.Sessions;
using Xunit;
using Xunit.Abstractions;

namespace FusionActors.Eval.Tests;

/// <summary>
/// The harness on session description files: the built-in session's file gives the very frames the built-in session
/// does; a condition aimed at one modality faults only that modality's streams; and sessions of three modalities (the
/// committed models: a second camera stream of modality "image2") and of four (PaddleOCR and Silero VAD, pretrained)
/// run through the actors of a real node and report every posterior modality's weight and its M-only baseline.
/// </summary>
public sealed class EvalSessionSpec(ITestOutputHelper output)
{
    private static readonly IReadOnlyList<AvDigitsItem> Sample = AvDigitsDataset.LoadSample().Items;

    private static string Root
    {
        get
        {
            for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
                if (File.Exists(Path.Combine(d.FullName, "FusionActors.sln"))) return d.FullName;
            throw new DirectoryNotFoundException("the repository root (FusionActors.sln) above the test's folder");
        }
    }

    /// <summary>Audio, the camera at 10 fps (modality image) and the camera again at 5 fps as modality image2, on the committed models.</summary>
    private static EvalSession ThreeModalities()
    {
        const string json = """
            {
              "streams": [
                { "id": "audio", "modality": "audio", "model": "audio-digits", "source": "audio",
                  "frameLength": 320, "sampleRateHz": 16000, "window": { "lengthUs": 1000000, "hopUs": 1000000 }, "priority": 1 },
                { "id": "camera", "modality": "image", "model": "image-digits", "source": "image", "frameLength": 64, "fps": 10 },
                { "id": "camera2", "modality": "image2", "model": "image-digits", "source": "image", "frameLength": 64, "fps": 5 }
              ]
            }
            """;
        var d = SessionDescription.Parse(json, "three-modalities.json", Root);
        return EvalSession.From(d, ModelCatalog.FindDefault());
    }

    private static IEnumerable<FrameAction> Frames(EvalScript s) => s.Chunks.SelectMany(c => c).OfType<FrameAction>();

    [Fact]
    public void The_built_in_session_file_must_give_the_frames_and_heartbeats_of_the_built_in_session()
    {
        var file = EvalSession.From(SessionDescription.Load(Path.Combine(Root, "config", "sessions", "av-digits.json")), ModelCatalog.FindDefault());
        Assert.Equal(["audio", "image"], file.Modalities);
        Assert.True(file.IsAudioImage);
        var items = Sample.Take(20).ToArray();
        foreach (var c in EvalCondition.All)
        {
            var a = EvalScript.Build(c, items);
            var b = EvalScript.Build(c, items, file);
            Assert.Equal(a.Chunks.Count, b.Chunks.Count);
            for (var k = 0; k < a.Chunks.Count; k++)
            {
                Assert.Equal(a.Chunks[k].Count, b.Chunks[k].Count);
                for (var i = 0; i < a.Chunks[k].Count; i++)
                {
                    switch ((a.Chunks[k][i], b.Chunks[k][i]))
                    {
                        case (FrameAction x, FrameAction y):
                            Assert.Equal((x.StreamId, x.Seq, x.EventTimeUs), (y.StreamId, y.Seq, y.EventTimeUs));
                            Assert.Equal(x.Payload, y.Payload);
                            break;
                        case (HeartbeatAction x, HeartbeatAction y):
                            Assert.Equal(x, y);
                            break;
                        default:
                            Assert.Fail($"{c.Name} chunk {k} action {i}: {a.Chunks[k][i]} vs {b.Chunks[k][i]}");
                            break;
                    }
                }
            }
        }
    }

    [Fact]
    public void A_condition_aimed_at_a_modality_must_fault_its_streams_only()
    {
        var session = ThreeModalities();
        Assert.Equal(["audio", "image", "image2"], session.Modalities);
        Assert.False(session.IsAudioImage);
        var names = EvalCondition.Targeted(session).Select(c => c.Name).ToArray();
        Assert.Equal(["image2-missing", "image2-noise-high", "image2-occlusion", "image2-stale", "image2-crashes"], names);
        var items = Sample.Take(12).ToArray();
        var clean = Frames(EvalScript.Build(EvalCondition.Get("clean", session), items, session)).ToList();

        var missing = EvalScript.Build(EvalCondition.Get("image2-missing", session), items, session);
        Assert.DoesNotContain(Frames(missing), f => f.StreamId == "camera2");
        Assert.Contains(missing.Chunks.SelectMany(c => c), a => a is HeartbeatAction { StreamId: "camera2" });
        // The camera stream is the clean camera of the same seed; the camera2 stream samples it at 5 fps.
        var camera = Frames(missing).Where(f => f.StreamId == "camera").ToList();
        Assert.Equal(items.Length * 10, camera.Count);
        Assert.Equal(items.Length * 5, clean.Count(f => f.StreamId == "camera2"));

        var noisy = Frames(EvalScript.Build(EvalCondition.Get("image2-noise-high", session), items, session)).ToList();
        var sensorNoisy = Frames(EvalScript.Build(EvalCondition.Get("image-noise-high"), items)).Where(f => f.StreamId == "camera").ToDictionary(f => f.EventTimeUs);
        // camera2 gets the very frames image-noise-high gives the camera; the camera stream stays far less noisy.
        foreach (var f in noisy.Where(f => f.StreamId == "camera2")) Assert.Equal(sensorNoisy[f.EventTimeUs].Payload, f.Payload);
        double Spread(string stream) => noisy.Where(f => f.StreamId == stream)
            .Average(f => f.Payload.Zip(items[(int)(f.EventTimeUs / EvalScript.SecondUs)].Image.ToArray(), (a, b) => Math.Abs(a - b)).Average());
        Assert.True(Spread("camera2") > 3 * Spread("camera"), $"camera2 {Spread("camera2"):0.000} vs camera {Spread("camera"):0.000}");

        Assert.Throws<ArgumentException>(() => EvalScript.Build(EvalCondition.Get("image2-missing", session), items));
        Assert.Throws<UsageException>(() => EvalCondition.Get("image2-missing"));
    }

    [Fact]
    public void A_session_of_other_modalities_must_not_play_the_fixed_weights_nor_the_learned_head()
    {
        var (policies, skipped) = ThreeModalities().PoliciesFor(ModelCatalog.FindDefaultPath());
        Assert.Equal([EvalPolicies.Adaptive, "audio-only", "image-only", "image2-only"], policies);
        Assert.Contains(skipped, s => s.StartsWith("fixed:", StringComparison.Ordinal) && s.Contains("two modalities"));
        Assert.Contains(skipped, s => s.StartsWith("learned:", StringComparison.Ordinal) && s.Contains("two modalities"));
        Assert.Equal(EvalPolicies.All, EvalSession.BuiltIn.PoliciesFor(ModelCatalog.FindDefaultPath()).Policies);
    }

    private async Task<(EvalReport Report, IReadOnlyList<ConditionRun> Runs)> RunAsync(EvalSession session, string[] conditions, int items)
    {
        var options = EvalHarness.ForEvaluation(FusionOptions.Load());
        if (session.ModelsPath is { } models) options = options with { ModelsPath = models };
        var (policies, skipped) = session.PoliciesFor(EvalHarness.ModelsJson(options.ModelsPath));
        var poison = new PoisonSwitch();
        await using var node = await FusionNode.StartAsync(options, wrapEncoders: poison.Wrap);
        var runner = new EvalRunner(node, poison, new Dictionary<string, double>()) { Session = session, Policies = policies };
        var runs = new List<ConditionRun>();
        foreach (var name in conditions) runs.Add(await runner.RunAsync(EvalCondition.Get(name, session), Sample.Take(items).ToArray(), CancellationToken.None));
        var report = EvalHarness.Build(runs, items, "sample", null, "not played", TimeSpan.Zero, "test", session, skipped);
        var text = new StringWriter();
        report.Print(text);
        output.WriteLine(text.ToString());
        return (report, runs);
    }

    private static EvalReport.ConditionReport Condition(EvalReport report, string name) => report.Conditions.Single(c => c.Name == name);

    [Fact]
    public async Task A_three_modality_session_must_run_through_the_actors_and_report_every_modality()
    {
        var (report, runs) = await RunAsync(ThreeModalities(), ["clean", "image-missing", "image2-missing", "image2-crashes"], 12);
        Assert.Equal(["audio", "image", "image2"], report.Modalities);
        Assert.Contains(report.Skipped!, s => s.StartsWith("fixed:", StringComparison.Ordinal));
        foreach (var c in report.Conditions)
        {
            Assert.Equal([EvalPolicies.Adaptive, "audio-only", "image-only", "image2-only"], c.Policies.Keys);
            Assert.Equal(1.0, c.Policies[EvalPolicies.Adaptive].Coverage);
            Assert.Equal(12, c.Labels!.Length);
            Assert.Equal(12, c.Outcomes![EvalPolicies.Adaptive].Predicted.Length);
            var ci = c.Intervals![EvalPolicies.Adaptive].Accuracy;
            Assert.InRange(c.Policies[EvalPolicies.Adaptive].Accuracy, ci[0], ci[1]);
            Assert.True(c.CpuMsPerSessionWindow > 0);
        }
        var clean = Condition(report, "clean");
        foreach (var m in report.Modalities!) Assert.True(clean.Policies[EvalPolicies.Adaptive].MeanWeights[m] > 0.1, $"{m} weighed on clean");
        Assert.True(clean.Policies["image2-only"].Accuracy >= 0.9);
        // The camera sensor missing silences both camera streams; image2-missing only the second one.
        var sensor = Condition(report, "image-missing");
        Assert.Equal(0, sensor.Policies["image-only"].Coverage);
        Assert.Equal(0, sensor.Policies["image2-only"].Coverage);
        var aimed = Condition(report, "image2-missing");
        Assert.Equal(0, aimed.Policies["image2-only"].Coverage);
        Assert.Equal(1, aimed.Policies["image-only"].Coverage);
        Assert.Equal(0, aimed.Policies[EvalPolicies.Adaptive].MeanWeights["image2"]);
        Assert.True(aimed.Policies[EvalPolicies.Adaptive].MeanWeights["image"] > 0.1);
        // The aimed crash reaches the camera2 encoder, never the camera's (the same frames, sampled at 5 fps).
        var crash = runs.Single(r => r.Condition.Name == "image2-crashes").Policies[EvalPolicies.Adaptive].Status!;
        Assert.True(crash.Streams.Single(s => s.StreamId == "camera2").Counters.EncoderFailures > 0);
        Assert.Equal(0, crash.Streams.Single(s => s.StreamId == "camera").Counters.EncoderFailures);
        // The report as written is a baseline: compared with itself, every difference is 0 and its interval [0, 0].
        var path = Path.Combine(Path.GetTempPath(), $"eval-session-{Guid.NewGuid():N}.json");
        try
        {
            File.WriteAllText(path, System.Text.Json.JsonSerializer.Serialize(report, EvalReport.Json));
            Assert.Contains("\"labels\": [", File.ReadAllText(path)); // a per-window array on one line
            var self = EvalComparison.Compare(path, report);
            Assert.Equal(report.Conditions.Count * 4, self.Count);
            foreach (var c in self)
            {
                Assert.Equal(c.BaselineAccuracy, c.RunAccuracy);
                Assert.Equal(c.BaselineEce, c.RunEce);
                Assert.Equal([0.0, 0.0], c.AccuracyDifferenceCi95);
            }
        }
        finally { File.Delete(path); }
        // The built-in session's report has no per-window outcomes; a file that is not a report is refused too, by a usage error.
        Assert.Contains("per-window outcomes", Assert.Throws<UsageException>(() => EvalComparison.Compare(Path.Combine(Root, "docs", "eval", "report.json"), report)).Message);
        var garbage = Path.Combine(Path.GetTempPath(), $"eval-garbage-{Guid.NewGuid():N}.json");
        try
        {
            File.WriteAllText(garbage, """{"conditions": [{"name": 3}]}""");
            Assert.Contains("not a report", Assert.Throws<UsageException>(() => EvalComparison.Compare(garbage, report)).Message);
        }
        finally { File.Delete(garbage); }
        // The plots draw every policy played (image2-only too) and do not need fixed.
        var plots = Path.Combine(Path.GetTempPath(), $"eval-session-plots-{Guid.NewGuid():N}");
        try
        {
            var written = EvalPlots.Write(plots, report, runs);
            Assert.Contains(written, f => f.EndsWith("accuracy-per-condition.png", StringComparison.Ordinal));
            Assert.Contains(written, f => f.EndsWith("ece-per-condition.png", StringComparison.Ordinal));
            Assert.All(written, f => Assert.True(new FileInfo(f).Length > 1000, f));
        }
        finally { Directory.Delete(plots, recursive: true); }
        Assert.Contains(report.AdaptiveByPattern, p => p.Pattern == EvalMetrics.All && p.Windows > 0);
        Assert.Contains(report.AdaptiveByPattern, p => p.Pattern == "audio only" && p.Windows >= 12);
        Assert.Contains(report.AdaptiveByPattern, p => p.Pattern == "audio+image" && p.Windows >= 12);
    }

    [PretrainedFact]
    public async Task A_four_modality_session_with_ocr_and_a_vad_gate_must_run_through_the_actors()
    {
        _ = PretrainedModels.CatalogPath; // fetched and verified, or fails under FUSION_REQUIRE_PRETRAINED=1
        var session = EvalHarness.LoadSession(Path.Combine(Root, "config", "sessions", "four-modalities.json"), null);
        Assert.Equal(["audio", "image", "ocr"], session.Modalities);
        Assert.Equal(["audio", "image", "ocr", "voice"], session.AllModalities);
        Assert.Contains("ocr-occlusion", EvalCondition.Targeted(session).Select(c => c.Name));
        Assert.Contains("voice-snr-neg5", EvalCondition.Targeted(session).Select(c => c.Name));
        // The VAD's inputs are 36 ms windows, never a whole sensor frame or item: no crash condition for it.
        Assert.DoesNotContain("voice-crashes", EvalCondition.Targeted(session).Select(c => c.Name));

        var (report, _) = await RunAsync(session, ["clean", "ocr-missing", "voice-missing"], 8);
        Assert.Contains(report.Skipped!, s => s.StartsWith("learned:", StringComparison.Ordinal));
        var clean = Condition(report, "clean");
        Assert.Equal([EvalPolicies.Adaptive, "audio-only", "image-only", "ocr-only"], clean.Policies.Keys);
        Assert.Equal(1.0, clean.Policies[EvalPolicies.Adaptive].Coverage);
        Assert.True(clean.Policies["ocr-only"].Coverage == 1 && clean.Policies["ocr-only"].Accuracy >= 0.5, $"ocr-only {clean.Policies["ocr-only"].Accuracy}");
        Assert.True(clean.Policies[EvalPolicies.Adaptive].MeanWeights["ocr"] > 0.05);
        // The VAD gates the audio and has no posterior: no weight of its own.
        Assert.Equal(0, clean.Policies[EvalPolicies.Adaptive].MeanWeights["voice"]);
        Assert.Equal(0, Condition(report, "ocr-missing").Policies["ocr-only"].Coverage);
        Assert.Equal(1, Condition(report, "ocr-missing").Policies[EvalPolicies.Adaptive].Coverage);
        // On spoken digits the VAD's speech probability is near 1, so the gate barely discounts the audio: without the
        // gate's evidence (voice-missing) the audio keeps about the weight it has on clean, and the voice has none.
        var ungated = Condition(report, "voice-missing").Policies[EvalPolicies.Adaptive].MeanWeights;
        Assert.True(Math.Abs(ungated["audio"] - clean.Policies[EvalPolicies.Adaptive].MeanWeights["audio"]) < 0.05,
            $"audio weight ungated {ungated["audio"]:0.0000}, gated {clean.Policies[EvalPolicies.Adaptive].MeanWeights["audio"]:0.0000}");
        Assert.Equal(0, ungated["voice"]);
    }
}
