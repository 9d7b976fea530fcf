using System.Text.Json;
using FusionActors.Eval;
using FusionActors.Inference.Data;
using FusionActors.Protocol;
using FusionActors.Runtime.Hosting;
using FusionActors.Runtime.Recording;
using FusionActors.Scenarios;
using FusionActors.Scenarios.Demo;
using Xunit;

namespace FusionActors.Eval.Tests;

/// <summary>
/// The <c>replay:demo</c> condition: the committed recording of a demo session, replayed through the session's real
/// actors and ONNX encoders once per policy, scored against the demo's truth file.
/// </summary>
public sealed class ReplayConditionSpec
{
    private static ReplayCondition Demo() => ReplayCondition.Demo() ?? throw new FileNotFoundException("samples/recordings/demo.frec with demo.truth.json");

    private static IReadOnlyDictionary<string, double> Weights() =>
        FixedWeights.Load(FixedWeights.FindCommitted() ?? throw new FileNotFoundException("config/eval-fixed-weights.json")).AsDictionary();

    private static async Task<ConditionRun> RunOnce(ReplayCondition condition)
    {
        await using var runner = new ReplayRunner(FusionOptions.Load(), Weights());
        return await runner.RunAsync(condition, CancellationToken.None);
    }

    [Fact]
    public async Task Replaying_the_recording_twice_must_give_identical_numbers()
    {
        var condition = Demo();
        var a = await RunOnce(condition);
        var b = await RunOnce(condition);

        Assert.Equal(EvalPolicies.All.Order(), a.Policies.Keys.Order());
        foreach (var policy in EvalPolicies.All)
        {
            var (x, y) = (a.Policies[policy].Windows, b.Policies[policy].Windows);
            Assert.Equal(x.Length, y.Length);
            for (var k = 0; k < x.Length; k++)
            {
                Assert.NotNull(x[k]);
                Assert.NotNull(y[k]);
                Assert.Equal((x[k]!.Status, x[k]!.TopClass, x[k]!.Revision, x[k]!.Confidence), (y[k]!.Status, y[k]!.TopClass, y[k]!.Revision, y[k]!.Confidence));
                Assert.Equal(x[k]!.Posterior, y[k]!.Posterior); // bit for bit
                Assert.Equal(x[k]!.Weights.OrderBy(w => w.Key), y[k]!.Weights.OrderBy(w => w.Key));
            }
        }
        // Every number of the report, timings aside.
        string Json(ConditionRun run) => JsonSerializer.Serialize(EvalReport.FromRun(run) with { Seconds = 0 }, EvalReport.Json);
        Assert.Equal(Json(a), Json(b));
    }

    [Fact]
    public async Task The_windows_must_be_scored_against_the_demo_truth_with_a_breakdown_by_fault_phase()
    {
        var condition = Demo();
        var truth = DemoTruth.Load(condition.Truth);
        var run = await RunOnce(condition);
        var report = EvalReport.FromRun(run);

        Assert.Equal(truth.Windows.Select(w => w.Label), run.Labels);
        Assert.True(run.IsReplay);
        Assert.Null(report.Pipeline);
        Assert.Equal(1.0, report.Policies[EvalPolicies.Adaptive].Coverage);

        var phases = report.Phases!.ToDictionary(p => p.Phase);
        Assert.Equal(truth.Windows.Count(w => w.Faults.Contains(DemoTruth.CameraOutage)), phases[DemoTruth.CameraOutage].Windows);
        Assert.Equal(truth.Windows.Count(w => w.Faults.Contains(DemoTruth.AudioNoise)), phases[DemoTruth.AudioNoise].Windows);
        Assert.True(phases[DemoTruth.CameraOutage].Windows > 0 && phases[DemoTruth.AudioNoise].Windows > 0);
        Assert.Equal(truth.Windows.Count, report.Phases!.Sum(p => p.Windows));
        foreach (var phase in report.Phases!)
            Assert.Equal(EvalPolicies.All.Order(), phase.Policies.Keys.Order());

        // The faults really are in the recorded frames: the camera sent nothing in its outage, so image-only has no
        // decision there, while adaptive fuses every window of it from the audio alone.
        var outage = phases[DemoTruth.CameraOutage].Policies;
        Assert.Equal(0.0, outage[EvalPolicies.ImageOnly].Coverage);
        Assert.Null(outage[EvalPolicies.ImageOnly].Ece);
        Assert.Equal(1.0, outage[EvalPolicies.Adaptive].Coverage);
        Assert.Equal(1.0, outage[EvalPolicies.Adaptive].MeanWeights["audio"]);
        Assert.NotNull(outage[EvalPolicies.Adaptive].Ece);
        // -10 dB audio noise: adaptive leans on the camera there more than in the windows without a fault.
        Assert.True(phases[DemoTruth.AudioNoise].Policies[EvalPolicies.Adaptive].MeanWeights["image"] >
                    phases[ReplayPhases.NoFault].Policies[EvalPolicies.Adaptive].MeanWeights["image"]);
    }

    [Fact]
    public void The_truth_must_name_the_items_whose_frames_the_recording_holds()
    {
        var condition = Demo();
        var truth = DemoTruth.Load(condition.Truth);
        var sample = AvDigitsDataset.LoadSample().Items.ToDictionary(i => i.Id);
        var contents = RecordingReader.Read(condition.Recording);
        Assert.True(contents.Complete, contents.StoppedBecause);
        var audio = contents.Records.OfType<RecordedFrame>().Where(f => f.StreamId == AvDigitsSession.AudioStream).ToList();
        var compared = 0;
        foreach (var w in truth.Windows)
        {
            var item = sample[w.Item];
            Assert.Equal(item.Label, w.Label);
            if (w.Faults.Contains(DemoTruth.AudioNoise)) continue; // noise was added to those samples
            var pcm = audio.Where(f => f.EventTimeUs >= w.Window * 1_000_000L && f.EventTimeUs < (w.Window + 1) * 1_000_000L)
                .OrderBy(f => f.EventTimeUs).SelectMany(f => f.Payload).ToArray();
            Assert.Equal(item.Pcm, pcm);
            compared++;
        }
        Assert.True(compared >= truth.Windows.Count - 3, $"compared {compared} windows");
        // The demo's encoder crash drill is in it, as the operator command the replay repeats.
        Assert.Contains(contents.Records, r => r is RecordedOperator);
    }

    [Fact]
    public async Task A_recording_that_does_not_read_whole_must_be_refused_not_scored_on_its_prefix()
    {
        var condition = Demo();
        var dir = Directory.CreateTempSubdirectory("replay-cond-");
        try
        {
            var bytes = await File.ReadAllBytesAsync(condition.Recording);
            var cut = Path.Combine(dir.FullName, "cut.frec");
            await File.WriteAllBytesAsync(cut, bytes.AsSpan(0, bytes.Length / 2).ToArray());
            await using var runner = new ReplayRunner(FusionOptions.Load(), Weights());
            var e = await Assert.ThrowsAsync<InvalidDataException>(() => runner.RunAsync(condition with { Recording = cut }, CancellationToken.None));
            Assert.Contains("reading stopped", e.Message);
        }
        finally { dir.Delete(true); }
    }

    [Theory]
    [InlineData("""{"seed":7,"seconds":1,"windows":[{"window":0,"item":"te-1","label":12,"faults":[]}]}""")]
    [InlineData("""{"seed":7,"seconds":1,"windows":[{"window":1,"item":"te-1","label":1,"faults":[]}]}""")]
    [InlineData("""{"seed":7,"seconds":2,"windows":[{"window":0,"item":"te-1","label":1,"faults":[]}]}""")]
    [InlineData("""{"seed":7,"seconds":1,"windows":[{"window":0,"item":"te-1","label":1,"faults":["meteor"]}]}""")]
    [InlineData("""{"seed":7,"seconds":1,"windows":[{"window":0,"item":"te-1","label":1,"faults":[]}],"labelsFrom":"elsewhere"}""")]
    [InlineData("""{"seed":7,"seconds":1,"windows":[null]}""")]
    [InlineData("""not json""")]
    public void A_malformed_truth_file_must_be_refused(string text)
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, text);
            Assert.Throws<InvalidDataException>(() => DemoTruth.Load(path));
        }
        finally { File.Delete(path); }
    }

    [Theory]
    [InlineData("replay:../../etc/passwd")]
    [InlineData("replay:")]
    [InlineData("replay:no-such-recording")]
    public void A_replay_condition_must_name_a_committed_recording(string name) =>
        Assert.Throws<UsageException>(() => ReplayCondition.Get(name));

    [Fact]
    public async Task A_demo_recorded_now_must_leave_its_truth_beside_its_recordings_and_replay_against_it()
    {
        var dir = Directory.CreateTempSubdirectory("demo-record-");
        try
        {
            var sample = AvDigitsDataset.LoadSample();
            var rc = await DemoScenario.RunAsync(new DemoOptions
            {
                Dataset = sample, Seconds = 5, Seed = 11, Quiet = true, Record = dir.FullName,
            }, CancellationToken.None);
            Assert.Equal(0, rc);

            var truth = DemoTruth.Load(Path.Combine(dir.FullName, DemoTruth.FileName));
            Assert.Equal((11, 5), (truth.Seed, truth.Seconds));
            Assert.Equal(sample.Items.Take(5).Select(i => (i.Id, i.Label)), truth.Windows.Select(w => (w.Item, w.Label)));
            Assert.Contains(truth.Windows, w => w.Faults.Contains(DemoTruth.CameraOutage));

            // The adaptive session's file (not demo-audio-only-*, demo-image-only-*).
            var recording = Assert.Single(Directory.GetFiles(dir.FullName, "demo-2*.frec"));
            Assert.Equal(3, Directory.GetFiles(dir.FullName, "*.frec").Length);
            await using var runner = new ReplayRunner(FusionOptions.Load(), Weights()) { Policies = [EvalPolicies.Adaptive, EvalPolicies.ImageOnly] };
            var run = await runner.RunAsync(new ReplayCondition { Name = "replay:now", Recording = recording, Truth = Path.Combine(dir.FullName, DemoTruth.FileName) },
                CancellationToken.None);
            Assert.Equal(truth.Windows.Select(w => w.Label), run.Labels);
            Assert.All(run.Policies[EvalPolicies.Adaptive].Windows, w => Assert.Equal(FusedStatus.Fused, w?.Status));
            // The camera's outage is in the recording: no image evidence for image-only in those windows.
            foreach (var w in truth.Windows.Where(w => w.Faults.Contains(DemoTruth.CameraOutage)))
                Assert.NotEqual(FusedStatus.Fused, run.Policies[EvalPolicies.ImageOnly].Windows[w.Window]?.Status);
            Assert.Contains(truth.Windows.Where(w => w.Faults.Count == 0), w => run.Policies[EvalPolicies.ImageOnly].Windows[w.Window]?.Status == FusedStatus.Fused);
        }
        finally { dir.Delete(true); }
    }

    [Fact]
    public async Task A_replay_must_take_no_part_in_the_targets_or_the_pooled_patterns()
    {
        var run = await RunOnce(Demo());
        var report = EvalHarness.Build([run], 0, "sample", FixedWeights.Load(FixedWeights.FindCommitted()!), "committed", TimeSpan.Zero, "test");
        Assert.Single(report.Conditions);
        Assert.All(report.AdaptiveByPattern, p => Assert.Equal(0, p.Windows));
        Assert.Contains(report.Targets, t => t.Detail == "all 0 conditions");
    }
}
