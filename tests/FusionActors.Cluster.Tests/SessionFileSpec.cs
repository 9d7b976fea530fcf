using System.Text.Json;
using System.Text.Json.Nodes;
using FusionActors.Inference.Data;
using FusionActors.Inference.Tests;
using FusionActors.Scenarios;
using FusionActors.Scenarios.Demo;
using FusionActors.Scenarios.Faults;
using FusionActors.Scenarios.Playback;
using FusionActors.Scenarios.Push;
using FusionActors.Scenarios.Remote;
using FusionActors.Scenarios.Sessions;
using Xunit;
using Xunit.Abstractions;

namespace FusionActors.Cluster.Tests;

/// <summary>
/// Session description files (config/sessions): the committed ones parse, the built-in one is exactly the AV-Digits
/// session the programs played before files existed, a malformed one is refused naming its field, the sensors' frames
/// fan out to every stream a sensor feeds, and the four-modality file runs the demo (an in-process node) and push
/// (against a node process) end to end.
/// </summary>
public sealed class SessionFileSpec(ITestOutputHelper output)
{
    private static string Repo(string path) => Path.Combine(NodeProcess.RepoRoot(), path);
    private static string FourModalitiesPath => Repo("config/sessions/four-modalities.json");

    [Fact]
    public void The_built_in_file_is_the_av_digits_session_and_is_copied_next_to_the_programs()
    {
        Assert.Equal(File.ReadAllText(Repo("config/sessions/av-digits.json")), File.ReadAllText(SessionDescription.DefaultPath));
        var d = SessionDescription.LoadDefault();
        Assert.Null(d.Models);
        var spec = d.Spec("s", FusionActors.Protocol.Specs.FusionPolicy.Adaptive);
        var legacy = AvDigitsSession.Spec("s");
        Assert.Equal(legacy.Labels, spec.Labels);
        Assert.Equal(legacy.AllowedLatenessUs, spec.AllowedLatenessUs);
        Assert.Equal(legacy.Window, spec.Window);
        Assert.Equal(legacy.Streams.Count, spec.Streams.Count);
        for (var i = 0; i < legacy.Streams.Count; i++) Assert.Equal(legacy.Streams[i], spec.Streams[i]);
    }

    [Fact]
    public void The_built_in_file_plays_exactly_the_frames_and_drills_of_the_av_digits_timeline()
    {
        var items = AvDigitsDataset.LoadSample().Items.Take(12).ToArray();
        var plan = SensorFaults.Demo(items.Length);
        var legacy = Timeline.Build("s", items, plan);
        var described = Timeline.Build("s", items, plan, SessionDescription.LoadDefault());
        Assert.Equal(legacy.Count, described.Count);
        for (var i = 0; i < legacy.Count; i++)
        {
            Assert.Equal(legacy[i].SendAtUs, described[i].SendAtUs);
            switch (legacy[i], described[i])
            {
                case (SendFrame a, SendFrame b):
                    Assert.Equal((a.Frame.StreamId, a.Frame.Seq, a.Frame.EventTimeUs), (b.Frame.StreamId, b.Frame.Seq, b.Frame.EventTimeUs));
                    Assert.Equal(a.Frame.Payload.ToArray(), b.Frame.Payload.ToArray());
                    break;
                case (CrashEncoderAt a, CrashEncoderAt b):
                    Assert.Equal(a.StreamId, b.StreamId);
                    break;
                case (CloseStreams, CloseStreams b):
                    Assert.Equal(["audio", "camera"], b.StreamIds!);
                    break;
                default:
                    Assert.Fail($"event {i}: {legacy[i]} against {described[i]}");
                    break;
            }
        }
    }

    [Fact]
    public void The_four_modality_file_names_its_models_and_fans_each_sensor_out_to_its_streams()
    {
        var d = SessionDescription.Load(FourModalitiesPath);
        Assert.Equal(Path.GetFullPath(Repo("models/pretrained/four-modalities.json")), d.Models);
        Assert.Equal(["audio", "camera", "ocr", "voice"], d.Streams.Select(s => s.Id));
        Assert.Equal(["audio", "image", "ocr", "voice"], d.Spec("s").Streams.Select(s => s.Modality));
        Assert.Equal(FusionActors.Protocol.Specs.Framing.Windowed(36_000, 32_000), d.Spec("s").Streams[3].Framing);
        // The voice activity gates the audio's weight.
        var gate = Assert.Single(d.Spec("s").Gates);
        Assert.Equal(new FusionActors.Protocol.Specs.StreamGate { Gate = "voice", Gated = "audio", Floor = 0.1, Pooling = FusionActors.Protocol.Specs.GatePooling.Max }, gate);
        Assert.Empty(FusionActors.Core.Specs.SpecValidator.Problems(d.Spec("s")));

        // One more audio stream cut to 10 ms frames.
        var tenMs = d with
        {
            Streams = [.. d.Streams, d.Streams[0] with { Id = "audio10", FrameLength = 160, Window = null }],
        };
        var items = AvDigitsDataset.LoadSample().Items.Take(5).ToArray();
        var script = SensorScript.Build(SensorFaults.Parse("none", items.Length), items).Frames;
        var frames = SessionFrames.Of(tenMs, script);
        var per = frames.GroupBy(f => f.StreamId).ToDictionary(g => g.Key, g => g.ToArray());
        Assert.Equal(250, per["audio"].Length);
        Assert.Equal(250, per["voice"].Length);
        Assert.Equal(500, per["audio10"].Length);
        Assert.Equal(50, per["camera"].Length);
        Assert.Equal(25, per["ocr"].Length); // 5 fps of the camera's 10
        foreach (var (id, list) in per)
            Assert.Equal(Enumerable.Range(0, list.Length).Select(i => (long)i), list.Select(f => f.Seq).Order());
        // The 10 ms frames are the 20 ms frames' halves, 10 ms apart, and reach the server with them.
        var a = per["audio"].Single(f => f.Seq == 7);
        var halves = per["audio10"].Where(f => f.Seq is 14 or 15).OrderBy(f => f.Seq).ToArray();
        Assert.Equal(a.Payload, halves[0].Payload.Concat(halves[1].Payload));
        Assert.Equal([a.EventTimeUs, a.EventTimeUs + 10_000], halves.Select(f => f.EventTimeUs));
        Assert.All(halves, h => Assert.Equal(a.ArrivesAtUs, h.ArrivesAtUs));
        Assert.All(per["ocr"], f => Assert.Equal(0, f.EventTimeUs / 100_000 % 2));
        // In arrival order, as the script.
        Assert.Equal(frames.Select(f => f.ArrivesAtUs).Order(), frames.Select(f => f.ArrivesAtUs));
    }

    public static TheoryData<string, string> Malformed => new()
    {
        { "not json", "$" },
        { "[]", "$" },
        { """{"streams": []}""", "$.streams" },
        { """{"about": "no streams"}""", "$.streams" },
        { """{"stream": []}""", "$.stream" },
        { Four(s => s[0]!["colour"] = "red"), "$.streams[0].colour" },
        { Four(s => s[1]!["source"] = "lidar"), "$.streams[1].source" },
        { Four(s => s[1]!.AsObject().Remove("model")), "$.streams[1].model" },
        { Four(s => s[0]!["frameLength"] = 300), "$.streams[0].frameLength" },
        { Four(s => s[0]!["frameLength"] = "320"), "$.streams[0].frameLength" },
        { Four(s => s[0]!["frameLength"] = 320.5), "$.streams[0].frameLength" },
        { Four(s => s[0]!["sampleRateHz"] = 8000), "$.streams[0].sampleRateHz" },
        { Four(s => s[1]!["frameLength"] = 256), "$.streams[1].frameLength" },
        { Four(s => s[2]!["fps"] = 3), "$.streams[2].fps" },
        { Four(s => s[2]!["fps"] = 0), "$.streams[2].fps" },
        { Four(s => s[1]!["window"] = new JsonObject { ["lengthUs"] = 1_000_000, ["hopUs"] = 1_000_000 }), "$.streams[1].window" },
        { Four(s => s[3]!["window"]!.AsObject().Remove("hopUs")), "$.streams[3].window.hopUs" },
        { Four(s => s[3]!["window"]!["lengthUs"] = -1), "$.streams[3].window.lengthUs" },
        { Four(s => s[3]!["id"] = "camera"), "$.streams[3].id" },
        { Four(s => s[0]!["id"] = "../audio"), "$.streams[0].id" },
        { Four(s => s[0]!["modality"] = ""), "$.streams[0].modality" },
        { Four(s => s[0]!["priorWeight"] = 0), "$.streams[0].priorWeight" },
        { Four(s => s[0]!["fps"] = 10), "$.streams[0].fps" },
        { Four(s => s[0] = 5), "$.streams[0]" },
        { Four(s => { for (var i = 0; i < 20; i++) s.Add(s[0]!.DeepClone()); }), "$.streams" },
        { Four(s => s.Parent!["labels"] = new JsonArray("a", "b")), "$.labels" },
        { Four(s => s.Parent!["models"] = 3), "$.models" },
        { """{"streams": [], "streams": []}""", "$.streams" },
        { Gates(g => g.Parent!["gates"] = new JsonObject()), "$.gates" },
        { Gates(g => g[0]!["colour"] = "red"), "$.gates[0].colour" },
        { Gates(g => g[0]!.AsObject().Remove("gated")), "$.gates[0].gated" },
        { Gates(g => g[0]!["gated"] = "lidar"), "$.gates[0].gated" },
        { Gates(g => g[0]!["gated"] = "voice"), "$.gates[0].gated" },
        { Gates(g => g[0]!["gate"] = 3), "$.gates[0].gate" },
        { Gates(g => g[0]!["floor"] = 1.5), "$.gates[0].floor" },
        { Gates(g => g[0]!["floor"] = "0.1"), "$.gates[0].floor" },
        { Gates(g => g[0]!["pool"] = "median"), "$.gates[0].pool" },
        { Gates(g => g.Add(new JsonObject { ["gate"] = "ocr", ["gated"] = "audio" })), "$.gates[1].gated" },
        // Refused by the spec's rules: gates do not chain, a gate's modality holds gates only.
        { Gates(g => g.Add(new JsonObject { ["gate"] = "audio", ["gated"] = "camera" })), "$.gates" },
        { Gates(g => g.Parent!["streams"]![2]!["modality"] = "voice"), "$.gates" },
        { Gates(g => g.Parent!["streams"]![3]!["modality"] = "audio"), "$.gates" },
        { Gates(g => { for (var i = 0; i < 17; i++) g.Add(g[0]!.DeepClone()); }), "$.gates" },
    };

    private static string Gates(Action<JsonArray> change)
    {
        var root = JsonNode.Parse(File.ReadAllText(FourModalitiesPath))!;
        change(root["gates"]!.AsArray());
        return root.ToJsonString();
    }

    private static string Four(Action<JsonArray> change)
    {
        var root = JsonNode.Parse(File.ReadAllText(FourModalitiesPath))!;
        change(root["streams"]!.AsArray());
        return root.ToJsonString();
    }

    [Theory]
    [MemberData(nameof(Malformed))]
    public void A_malformed_file_is_refused_naming_its_field(string json, string field)
    {
        var e = Assert.Throws<SessionFileException>(() => SessionDescription.Parse(json, "bad.json", "."));
        output.WriteLine(e.Message);
        Assert.Equal(field, e.Field);
        Assert.StartsWith($"session file bad.json: {field}: ", e.Message);
        Assert.IsAssignableFrom<UsageException>(e); // the command line prints it as a usage error
    }

    [Fact]
    public void A_missing_or_oversized_file_is_a_usage_error()
    {
        Assert.Throws<UsageException>(() => SessionDescription.Load(Path.Combine(Path.GetTempPath(), $"none-{Guid.NewGuid():N}.json")));
        var big = Path.Combine(Path.GetTempPath(), $"big-{Guid.NewGuid():N}.json");
        File.WriteAllText(big, new string(' ', (int)SessionDescription.MaxFileBytes + 1));
        try { Assert.Equal("$", Assert.Throws<SessionFileException>(() => SessionDescription.Load(big)).Field); }
        finally { File.Delete(big); }
    }

    [PretrainedFact]
    public async Task The_demo_with_the_four_modality_file_fuses_every_window_with_weights_for_all_four()
    {
        _ = PretrainedModels.CatalogPath; // fetched and verified
        var report = Path.Combine(Path.GetTempPath(), $"fusion-session-file-demo-{Guid.NewGuid():N}.json");
        try
        {
            var rc = await DemoScenario.RunAsync(new DemoOptions
            {
                Dataset = AvDigitsDataset.LoadSample(), Seconds = 6, Quiet = true, Report = report,
                Session = SessionDescription.Load(FourModalitiesPath),
            }, CancellationToken.None);
            Assert.Equal(0, rc);
            var r = JsonSerializer.Deserialize<DemoReport>(await File.ReadAllTextAsync(report), DemoReport.Json)!;
            foreach (var row in r.Results)
                output.WriteLine($"window {row.Window}: label {row.Label} fused {row.Fused} {string.Join(" ", row.Weights.Select(w => $"{w.Key}={w.Value:0.00}"))} {row.Faults}");
            Assert.Equal(6, r.Results.Count);
            Assert.All(r.Results, row => Assert.Equal(["audio", "image", "ocr", "voice"], row.Weights.Keys.Order()));
            // Outside the camera outage every modality with a posterior carries weight; the voice gate has none of its own.
            Assert.All(r.Results, row => Assert.Equal(0.0, row.Weights["voice"]));
            Assert.Contains(r.Results, row => row.Faults == "" && row.Weights.Where(w => w.Key != "voice").All(w => w.Value > 0.01));
            Assert.True(r.Accuracy >= 0.5, $"accuracy {r.Accuracy}");
        }
        finally { File.Delete(report); }
    }

    [PretrainedFact]
    public async Task Push_with_the_four_modality_file_commits_every_frame_of_its_four_streams_on_a_node_process()
    {
        _ = PretrainedModels.CatalogPath;
        var logs = Path.Combine(Path.GetTempPath(), $"fusion-session-file-push-{Guid.NewGuid():N}");
        var port = NodeProcess.FreePort();
        var models = Repo("models/pretrained/four-modalities.json");
        using var node = NodeProcess.Start(port, [port], logs, $"fusion.models = \"{models}\"\n");
        await node.WaitUpAsync(TimeSpan.FromSeconds(90));
        var report = Path.Combine(logs, "push.json");
        using var push = HostProcess.Start(
            ["push", "--to", $"127.0.0.1:{port}", "--session-file", FourModalitiesPath, "--seconds", "4", "--rate", "2", "--report", report, "--quiet"],
            "pushing", output.WriteLine, workingDirectory: NodeProcess.RepoRoot());
        var exit = await push.WaitExitAsync(TimeSpan.FromSeconds(180));
        Assert.Equal(0, exit);
        var r = JsonSerializer.Deserialize<PushReport>(await File.ReadAllTextAsync(report), FailoverScenario.Json)!;
        output.WriteLine($"frames {r.FramesCommitted}/{r.FramesSent}, windows {r.WindowsFused}/{r.WindowsExpected}, accuracy {r.Accuracy}");
        // Per second: audio 50 + voice 50 (20 ms frames) + camera 10 + ocr 5.
        Assert.Equal(4 * (50 + 50 + 10 + 5), r.FramesSent);
        Assert.Equal(r.FramesSent, r.FramesCommitted);
        Assert.Equal(r.WindowsExpected, r.WindowsFused);
        Assert.False(node.Exited);
        await node.StopAsync(TimeSpan.FromSeconds(20));
        Directory.Delete(logs, recursive: true);
    }
}
