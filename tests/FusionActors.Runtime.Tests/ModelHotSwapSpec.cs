using System.Text.Json.Nodes;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using Xunit;
using FusionActors.Inference;
using FusionActors.Protocol;
using FusionActors.Protocol.Specs;
using FusionActors.Runtime.Encoders;
using static FusionActors.Runtime.Tests.TestSessions;

namespace FusionActors.Runtime.Tests;

/// <summary>
/// Running sessions across a reload, on the committed models copied to a temporary catalog (a copy of a model's file
/// at another version is its "new version"): unpinned streams move to the new version at their switch point, the next
/// window boundary of the session's grid, with no frame lost or refused and no tumbling window fused from two versions, pinned ones stay, a retired version is closed after its last stream, a version that does not load
/// changes nothing.
/// </summary>
public sealed class ModelHotSwapSpec() : TestKit(LocalConfig), IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private readonly string _dir = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "fusion-hotswap-" + Guid.NewGuid().ToString("N"))).FullName;

    /// <summary>
    /// The committed catalog with <paramref name="model"/> at <paramref name="version"/>, its file a copy of the committed
    /// one in the temporary directory (or <paramref name="file"/>); the other model at its committed file and version.
    /// </summary>
    private string WriteCatalog(string model, string version, string? file = null)
    {
        var committed = ModelCatalog.FindDefault();
        var root = JsonNode.Parse(File.ReadAllText(committed.Path))!;
        foreach (var m in root["models"]!.AsArray())
        {
            var name = (string)m!["name"]!;
            m["file"] = committed.Get(name).FilePath;
            if (name != model) continue;
            m["version"] = version;
            var copy = Path.Combine(_dir, $"{name}-{version}.onnx");
            if (file is null && !File.Exists(copy)) File.Copy(committed.Get(name).FilePath, copy);
            m["file"] = file ?? copy;
        }
        var path = Path.Combine(_dir, "models.json");
        File.WriteAllText(path, root.ToJsonString());
        return path;
    }

    private readonly List<IDisposable> _owned = [];

    /// <summary>The registry's provider; <paramref name="batched"/>: through the node's batcher, as a node runs it.</summary>
    private IEncoderProvider Provider(ModelRegistry registry, bool batched)
    {
        var provider = new RegistryEncoderProvider(registry);
        if (!batched) return provider;
        var node = new NodeEncoding(new Encoders.Batching.EncoderBatcher(new Encoders.Batching.BatchingOptions(), TimeSpan.FromSeconds(10)),
            new PendingEncoderInputs(100_000));
        _owned.Add(node);
        return new NodeEncoderProvider(provider, node);
    }

    private static SessionSpec Pinned(string id, string stream, string version) => Spec(id) with
    {
        Streams = [.. Spec(id).Streams.Select(s => s.StreamId == stream ? s with { ModelVersion = version } : s)],
    };

    private (IActorRef Session, Akka.TestKit.TestProbe Results) Open(SessionSpec spec, IEncoderProvider encoders)
    {
        var session = Sys.ActorOf(SessionProps(spec.SessionId, encoders));
        session.Tell(new OpenSession(spec, 0), TestActor);
        ExpectMsg<SessionOpened>(Wait);
        var probe = CreateTestProbe();
        session.Tell(new Subscribe(spec.SessionId, probe.Ref), TestActor);
        ExpectMsg<Subscribed>(Wait);
        return (session, probe);
    }

    // Window w: its 50 audio frames and 10 camera frames, seqs continuing window by window. Refusals come to the test actor.
    private void Send(IActorRef session, string id, int from, int to)
    {
        for (var w = from; w < to; w++)
        {
            foreach (var f in AudioFrames(id, w, Sample[w % Sample.Count], w * 50L)) session.Tell(f, TestActor);
            foreach (var f in CameraFrames(id, w, Sample[w % Sample.Count], w * 10L)) session.Tell(f, TestActor);
        }
    }

    /// <summary>The first results of windows [from, to), each window once (its first revision); fails on a window skipped.</summary>
    private static Dictionary<int, FusedResult> Windows(Akka.TestKit.TestProbe probe, int from, int to)
    {
        var results = new Dictionary<int, FusedResult>();
        while (results.Count < to - from)
        {
            var r = (FusedResult)probe.FishForMessage(m => m is FusedResult, Wait);
            var w = (int)(r.WindowStartUs / 1_000_000);
            Assert.InRange(w, from, to - 1);
            results.TryAdd(w, r);
        }
        return results;
    }

    private SessionStatus Status(IActorRef session, string id)
    {
        session.Tell(new GetSessionStatus(id), TestActor);
        return ExpectMsg<SessionStatus>(Wait);
    }

    // Nothing lost or refused: every frame sent was taken, every input encoded, none shed or quarantined.
    private void AssertNothingLost(IActorRef session, string id, int windows)
    {
        AwaitAssert(() =>
        {
            var streams = Status(session, id).Streams.ToDictionary(s => s.StreamId);
            foreach (var (stream, frames, inputs) in new[] { (Audio, 50L * windows, (long)windows), (Camera, 10L * windows, 10L * windows) })
            {
                var c = streams[stream].Counters;
                Assert.Equal(frames, c.FramesIn);
                Assert.Equal(frames, c.FramesAccepted);
                Assert.Equal(0, c.RejectedTotal);
                Assert.Equal(0, c.InputsShed);
                Assert.Equal(0, c.Quarantined);
                Assert.Equal(0, c.EncoderFailures);
                // The last window's audio input is made when the stream is closed or the next frame comes: at most one short.
                Assert.InRange(c.InputsEncoded, inputs - (stream == Audio ? 1 : 0), inputs);
            }
        }, Wait, TimeSpan.FromMilliseconds(50));
    }

    private static ModelEncoderUse Retiring(ModelRegistry registry, string version) => registry.Encoders.Single(e => !e.Current && e.Version == version);

    private static string AudioVersion(FusedResult r) => Assert.Single(r.Models, m => m.StartsWith("audio-digits@", StringComparison.Ordinal));

    // The registry's encoder of the version now current, looked up without holding it (a use counted and given back).
    private static OnnxEncoder CurrentEncoder(ModelRegistry registry, string model)
    {
        var encoder = registry.Use(model)!;
        registry.Release(encoder);
        return encoder;
    }

    [Fact]
    public void A_sleeping_stream_must_keep_the_retired_version_it_is_pinned_to_open_and_run_it_again_when_woken()
    {
        using var registry = new ModelRegistry(ModelCatalog.Load(WriteCatalog("audio-digits", "v1")));
        var encoders = Provider(registry, batched: false);
        var (p, results) = Open(Pinned("sleep-p", Audio, "v1"), encoders);
        var v1 = CurrentEncoder(registry, "audio-digits");
        Send(p, "sleep-p", 0, 2);
        // Heartbeats past the frames: every window closes and is committed, so the session may sleep.
        foreach (var stream in new[] { Audio, Camera }) p.Tell(new StreamHeartbeat("sleep-p", stream, 2_100_000), TestActor);
        Assert.All(Windows(results, 0, 2).Values, r => Assert.Equal("audio-digits@v1", AudioVersion(r)));

        WriteCatalog("audio-digits", "v2");
        Assert.Equal(ModelReloadOutcome.Loaded, registry.Reload().Single(r => r.Name == "audio-digits").Outcome);
        AwaitAssert(() =>
        {
            p.Tell(new Sessions.HibernateSession("sleep-p"), TestActor);
            Assert.True(ExpectMsg<Sessions.HibernateResult>(Wait).Hibernated);
        }, Wait, TimeSpan.FromMilliseconds(50));

        // Its stream actors are gone, yet the session holds the pinned version's use: v1 stays open, not freed.
        var retiring = registry.Encoders.Single(e => !e.Current);
        Assert.Equal(("v1", 1), (retiring.Version, retiring.Uses));
        Assert.False(v1.IsReleased);
        Assert.Equal(0, registry.FreedEncoders);

        // The next frames wake it on the same version: no frame refused, every window fused by v1.
        Send(p, "sleep-p", 2, 5);
        var woken = Windows(results, 2, 4);
        Assert.All(woken.Values, r => Assert.Equal("audio-digits@v1", AudioVersion(r)));
        for (var w = 2; w < 4; w++) Assert.Equal(Sample[w % Sample.Count].Label, woken[w].TopClass);
        AssertNothingLost(p, "sleep-p", 5);

        // Asleep again and stopped: the session gives the use back, and the retired version is closed.
        foreach (var stream in new[] { Audio, Camera }) p.Tell(new StreamHeartbeat("sleep-p", stream, 5_100_000), TestActor);
        AwaitAssert(() =>
        {
            p.Tell(new Sessions.HibernateSession("sleep-p"), TestActor);
            Assert.True(ExpectMsg<Sessions.HibernateResult>(Wait).Hibernated);
        }, Wait, TimeSpan.FromMilliseconds(50));
        Assert.False(v1.IsReleased);
        Watch(p);
        Sys.Stop(p);
        ExpectTerminated(p, Wait);
        AwaitAssert(() => Assert.True(v1.IsReleased), Wait, TimeSpan.FromMilliseconds(20));
        Assert.Equal(1, registry.FreedEncoders);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_running_session_must_move_to_the_new_version_at_its_switch_point_with_no_frame_lost_and_a_pinned_one_must_stay(bool batched)
    {
        using var registry = new ModelRegistry(ModelCatalog.Load(WriteCatalog("audio-digits", "v1")));
        var encoders = Provider(registry, batched);
        var (a, resultsA) = Open(Spec("swap-a"), encoders);
        var (p, resultsP) = Open(Pinned("swap-p", Audio, "v1"), encoders);
        var v1 = CurrentEncoder(registry, "audio-digits");

        Send(a, "swap-a", 0, 3);
        Send(p, "swap-p", 0, 3);
        var before = Windows(resultsA, 0, 2);
        Assert.All(before.Values, r => Assert.Equal("audio-digits@v1", AudioVersion(r)));
        Assert.Equal("audio-digits@v1", AudioVersion(Windows(resultsP, 0, 2)[1]));
        // Nothing waits for an encoder at the reload: the next input either stream makes is the first after the switch.
        foreach (var (session, id) in new[] { (a, "swap-a"), (p, "swap-p") })
            AwaitAssert(() => Assert.All(Status(session, id).Streams, st => Assert.Equal(0, st.PendingInputs)), Wait, TimeSpan.FromMilliseconds(20));

        WriteCatalog("audio-digits", "v2");
        Assert.Equal(ModelReloadOutcome.Loaded, registry.Reload().Single(r => r.Name == "audio-digits").Outcome);
        // Both sessions' audio streams still run v1: it is retiring, not closed.
        Assert.Equal(2, registry.Encoders.Single(e => !e.Current).Uses);
        Assert.False(v1.IsDisposed);

        Send(a, "swap-a", 3, 8);
        Send(p, "swap-p", 3, 8);
        var after = Windows(resultsA, 2, 7);
        // Window 2's audio input may have been made before the reload (v1) or after it (v2); every later one is v2.
        Assert.Contains(AudioVersion(after[2]), new[] { "audio-digits@v1", "audio-digits@v2" });
        for (var w = 3; w < 7; w++) Assert.Equal("audio-digits@v2", AudioVersion(after[w]));
        // The versions switch once, at a window boundary: no window names both (each audio input is a whole window).
        Assert.All(after.Values, r => Assert.Equal(2, r.Models.Count));
        // The digits are still recognised (the new version is a copy of the same model).
        for (var w = 2; w < 7; w++) Assert.Equal(Sample[w % Sample.Count].Label, after[w].TopClass);
        AssertNothingLost(a, "swap-a", 8);

        var pinned = Windows(resultsP, 2, 7);
        Assert.All(pinned.Values, r => Assert.Equal("audio-digits@v1", AudioVersion(r)));
        AssertNothingLost(p, "swap-p", 8);

        // swap-a gave v1 back when it moved; the pinned session holds it open alone.
        var retiring = registry.Encoders.Single(e => !e.Current);
        Assert.Equal(("v1", 1), (retiring.Version, retiring.Uses));
        Assert.False(v1.IsDisposed);
        Assert.Equal(1, registry.Encoders.Single(e => e.Current && e.Name == "audio-digits").Uses);

        // Its last stream stops: the retired version is closed (its native session released), and no longer listed.
        Watch(p);
        Sys.Stop(p);
        ExpectTerminated(p, Wait);
        AwaitAssert(() => Assert.True(v1.IsReleased), Wait, TimeSpan.FromMilliseconds(20));
        Assert.DoesNotContain(registry.Encoders, e => !e.Current);
        Assert.Equal(1, registry.FreedEncoders);
        // No new session can pin the closed version.
        var late = Sys.ActorOf(SessionProps("swap-late", encoders));
        late.Tell(new OpenSession(Pinned("swap-late", Audio, "v1"), 0), TestActor);
        Assert.Contains("version 'v1' is not on this node (it serves 'v2')", ExpectMsg<CommandRejected>(Wait).Reason);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_reload_inside_a_camera_window_must_switch_at_the_next_window_so_no_window_names_two_versions(bool batched)
    {
        // The camera makes one input per frame, ten per window: the reload comes after five of window 0's inputs.
        using var registry = new ModelRegistry(ModelCatalog.Load(WriteCatalog("image-digits", "v1")));
        var encoders = Provider(registry, batched);
        var (s, results) = Open(Spec("straddle"), encoders);
        foreach (var f in AudioFrames("straddle", 0, Sample[0], 0)) s.Tell(f, TestActor);
        foreach (var f in CameraFrames("straddle", 0, Sample[0], 0, count: 5)) s.Tell(f, TestActor);
        AwaitAssert(() => Assert.Equal(5, Status(s, "straddle").Streams.Single(x => x.StreamId == Camera).Counters.InputsEncoded), Wait, TimeSpan.FromMilliseconds(20));

        WriteCatalog("image-digits", "v2");
        Assert.Equal(ModelReloadOutcome.Loaded, registry.Reload().Single(r => r.Name == "image-digits").Outcome);
        var v1 = registry.Encoders.Single(e => !e.Current);
        Assert.Equal(("v1", 1), (v1.Version, v1.Uses));
        // The rest of window 0, but its last frame (0.96 s, seq 9) comes after window 1's first one (1.0 s, seq 10):
        // out of order within the stream's 50 ms bound, it is not late, and belongs to window 0.
        foreach (var f in CameraFrames("straddle", 0, Sample[0], 0).Skip(5).Take(4)) s.Tell(f, TestActor);
        foreach (var f in AudioFrames("straddle", 1, Sample[1], 50)) s.Tell(f, TestActor);
        var window1 = CameraFrames("straddle", 1, Sample[1], 10).ToList();
        s.Tell(window1[0], TestActor);
        s.Tell(new Frame("straddle", Camera, 9, 960_000, Sample[0].Image), TestActor);
        foreach (var f in window1.Skip(1)) s.Tell(f, TestActor);
        Send(s, "straddle", 2, 4);

        var windows = Windows(results, 0, 3);
        var audio = registry.Catalog.Get("audio-digits").Version;
        // The window in progress at the reload is entirely the old version, the later ones entirely the new one.
        Assert.Equal([$"audio-digits@{audio}", "image-digits@v1"], windows[0].Models);
        Assert.Equal([$"audio-digits@{audio}", "image-digits@v2"], windows[1].Models);
        Assert.Equal([$"audio-digits@{audio}", "image-digits@v2"], windows[2].Models);
        for (var w = 0; w < 3; w++) Assert.Equal(Sample[w].Label, windows[w].TopClass);
        AssertNothingLost(s, "straddle", 4);
        // Once the camera's watermark passed window 0, the stream gave v1 back; it had no other user and is closed.
        AwaitAssert(() => Assert.DoesNotContain(registry.Encoders, e => !e.Current), Wait, TimeSpan.FromMilliseconds(20));
        Assert.Equal(1, registry.FreedEncoders);
    }

    [Fact]
    public void A_late_input_of_the_window_before_the_switch_must_run_on_the_old_version_held_until_the_allowed_lateness_is_past()
    {
        // 3 s of allowed lateness: after the switch at 1 s the camera holds v1 until its watermark is at 1 + 3 s.
        using var registry = new ModelRegistry(ModelCatalog.Load(WriteCatalog("image-digits", "v1")));
        var (s, results) = Open(Spec("late", allowedLatenessUs: 3_000_000), new RegistryEncoderProvider(registry));
        foreach (var f in AudioFrames("late", 0, Sample[0], 0)) s.Tell(f, TestActor);
        foreach (var f in CameraFrames("late", 0, Sample[0], 0, count: 5)) s.Tell(f, TestActor);
        AwaitAssert(() => Assert.Equal(5, Status(s, "late").Streams.Single(x => x.StreamId == Camera).Counters.InputsEncoded), Wait, TimeSpan.FromMilliseconds(20));
        var v1 = CurrentEncoder(registry, "image-digits");
        static string Image(FusedResult r) => Assert.Single(r.Models, m => m.StartsWith("image-digits@", StringComparison.Ordinal));

        WriteCatalog("image-digits", "v2");
        Assert.Equal(ModelReloadOutcome.Loaded, registry.Reload().Single(r => r.Name == "image-digits").Outcome);
        foreach (var f in CameraFrames("late", 0, Sample[0], 0).Skip(5)) s.Tell(f, TestActor);
        Send(s, "late", 1, 2);
        foreach (var stream in new[] { Audio, Camera }) s.Tell(new StreamHeartbeat("late", stream, 2_100_000), TestActor);
        var windows = Windows(results, 0, 2);
        Assert.Equal("image-digits@v1", Image(windows[0]));
        Assert.Equal("image-digits@v2", Image(windows[1]));
        // Window 0 still takes late evidence, and the camera still holds v1 for it.
        AwaitAssert(() => Assert.Equal(0, Status(s, "late").Streams.Single(x => x.StreamId == Camera).PendingInputs), Wait, TimeSpan.FromMilliseconds(20));
        Assert.Equal(("v1", 1), (registry.Encoders.Single(e => !e.Current).Version, registry.Encoders.Single(e => !e.Current).Uses));

        // A frame of window 0 behind the watermark, within the allowed lateness: it revises window 0, on v1.
        s.Tell(new Frame("late", Camera, 20, 950_000, Sample[0].Image), TestActor);
        var revised = (FusedResult)results.FishForMessage(m => m is FusedResult { WindowStartUs: 0, Revision: > 0 }, Wait);
        Assert.Equal("image-digits@v1", Image(revised));
        Assert.Equal(Sample[0].Label, revised.TopClass);
        Assert.False(v1.IsReleased);

        // Just short of 4 s the camera still holds v1; past it no input before the switch can count any more, and v1 is closed.
        foreach (var stream in new[] { Audio, Camera }) s.Tell(new StreamHeartbeat("late", stream, 3_990_000), TestActor);
        AwaitAssert(() => Assert.Equal(3_990_000, Status(s, "late").Streams.Single(x => x.StreamId == Camera).WatermarkUs), Wait, TimeSpan.FromMilliseconds(20));
        Assert.Equal(1, Retiring(registry, "v1").Uses);
        foreach (var stream in new[] { Audio, Camera }) s.Tell(new StreamHeartbeat("late", stream, 5_100_000), TestActor);
        AwaitAssert(() => Assert.True(v1.IsReleased), Wait, TimeSpan.FromMilliseconds(20));
        Assert.DoesNotContain(registry.Encoders, e => !e.Current);

        // Asleep and woken: the stream runs v2.
        AwaitAssert(() =>
        {
            s.Tell(new Sessions.HibernateSession("late"), TestActor);
            Assert.True(ExpectMsg<Sessions.HibernateResult>(Wait).Hibernated);
        }, Wait, TimeSpan.FromMilliseconds(50));
        Assert.Equal(1, registry.Encoders.Single(e => e.Name == "image-digits").Uses);
        Send(s, "late", 6, 8);
        var woken = (FusedResult)results.FishForMessage(m => m is FusedResult { WindowStartUs: 6_000_000 }, Wait);
        Assert.Equal("image-digits@v2", Image(woken));
        Assert.Equal(Sample[6].Label, woken.TopClass);
        AwaitAssert(() =>
        {
            var camera = Status(s, "late").Streams.Single(x => x.StreamId == Camera).Counters;
            Assert.Equal((41L, 41L, 0L, 41L), (camera.FramesIn, camera.FramesAccepted, camera.RejectedTotal, camera.InputsEncoded));
        }, Wait, TimeSpan.FromMilliseconds(50));
    }

    [Fact]
    public void A_second_reload_while_the_old_version_is_held_must_give_it_back_and_switch_again_at_the_next_window()
    {
        using var registry = new ModelRegistry(ModelCatalog.Load(WriteCatalog("image-digits", "v1")));
        var (s, results) = Open(Spec("twice", allowedLatenessUs: 3_000_000), new RegistryEncoderProvider(registry));
        static string Image(FusedResult r) => Assert.Single(r.Models, m => m.StartsWith("image-digits@", StringComparison.Ordinal));
        void CameraEncoded(long n) =>
            AwaitAssert(() => Assert.Equal(n, Status(s, "twice").Streams.Single(x => x.StreamId == Camera).Counters.InputsEncoded), Wait, TimeSpan.FromMilliseconds(20));
        foreach (var f in AudioFrames("twice", 0, Sample[0], 0)) s.Tell(f, TestActor);
        foreach (var f in CameraFrames("twice", 0, Sample[0], 0, count: 5)) s.Tell(f, TestActor);
        CameraEncoded(5);

        WriteCatalog("image-digits", "v2");
        registry.Reload();
        foreach (var f in CameraFrames("twice", 0, Sample[0], 0).Skip(5)) s.Tell(f, TestActor);
        foreach (var f in AudioFrames("twice", 1, Sample[1], 50)) s.Tell(f, TestActor);
        foreach (var f in CameraFrames("twice", 1, Sample[1], 10, count: 5)) s.Tell(f, TestActor);
        CameraEncoded(15);
        // v1 is held for window 0's late inputs (until the camera's watermark is at 4 s).
        Assert.Equal(1, Retiring(registry, "v1").Uses);

        // Another reload in the middle of window 1: v1 goes back (and is closed), v2 is held for windows 0 and 1, and
        // the camera runs v3 from window 2.
        WriteCatalog("image-digits", "v3");
        registry.Reload();
        foreach (var f in CameraFrames("twice", 1, Sample[1], 10).Skip(5)) s.Tell(f, TestActor);
        Send(s, "twice", 2, 4);
        var windows = Windows(results, 0, 3);
        Assert.Equal(["image-digits@v1", "image-digits@v2", "image-digits@v3"], windows.OrderBy(w => w.Key).Select(w => Image(w.Value)));
        for (var w = 0; w < 3; w++) Assert.Equal(Sample[w].Label, windows[w].TopClass);
        Assert.DoesNotContain(registry.Encoders, e => !e.Current && e.Version == "v1");
        Assert.Equal(1, Retiring(registry, "v2").Uses);
        AssertNothingLost(s, "twice", 4);
        // Past 2 + 3 s, v2 goes back too.
        foreach (var stream in new[] { Audio, Camera }) s.Tell(new StreamHeartbeat("twice", stream, 6_100_000), TestActor);
        AwaitAssert(() => Assert.DoesNotContain(registry.Encoders, e => !e.Current), Wait, TimeSpan.FromMilliseconds(20));
        Assert.Equal(2, registry.FreedEncoders);
    }

    [Fact]
    public void With_sliding_windows_the_switch_must_be_at_the_next_window_start_and_only_windows_across_it_name_both_versions()
    {
        // 1 s windows every 0.5 s: the camera's input at 0.4 s is in the windows starting at −0.5 s and 0 s.
        using var registry = new ModelRegistry(ModelCatalog.Load(WriteCatalog("image-digits", "v1")));
        var spec = Spec("sliding") with { Window = WindowSpec.Sliding(1_000_000, 500_000) };
        var (s, results) = Open(spec, new RegistryEncoderProvider(registry));
        foreach (var f in AudioFrames("sliding", 0, Sample[0], 0)) s.Tell(f, TestActor);
        foreach (var f in CameraFrames("sliding", 0, Sample[0], 0, count: 5)) s.Tell(f, TestActor);
        AwaitAssert(() => Assert.Equal(5, Status(s, "sliding").Streams.Single(x => x.StreamId == Camera).Counters.InputsEncoded), Wait, TimeSpan.FromMilliseconds(20));

        WriteCatalog("image-digits", "v2");
        Assert.Equal(ModelReloadOutcome.Loaded, registry.Reload().Single(r => r.Name == "image-digits").Outcome);
        foreach (var f in CameraFrames("sliding", 0, Sample[0], 0).Skip(5)) s.Tell(f, TestActor);
        Send(s, "sliding", 1, 4);

        // The switch point is 0.5 s, the next window start after the last input sent on v1 (0.4 s): the window that
        // starts before it and ends after it holds inputs of both versions; every window from 0.5 s on holds only v2's.
        var byStart = new Dictionary<long, FusedResult>();
        while (byStart.Count < 5)
        {
            var r = (FusedResult)results.FishForMessage(m => m is FusedResult, Wait);
            byStart.TryAdd(r.WindowStartUs, r);
        }
        Assert.Equal([0L, 500_000, 1_000_000, 1_500_000, 2_000_000], byStart.Keys.Order());
        var audio = registry.Catalog.Get("audio-digits").Version;
        Assert.Equal([$"audio-digits@{audio}", "image-digits@v1", "image-digits@v2"], byStart[0].Models);
        foreach (var start in byStart.Keys.Where(k => k >= 500_000))
            Assert.DoesNotContain("image-digits@v1", byStart[start].Models);
        AssertNothingLost(s, "sliding", 4);
        AwaitAssert(() => Assert.DoesNotContain(registry.Encoders, e => !e.Current), Wait, TimeSpan.FromMilliseconds(20));
    }

    [Fact]
    public void A_new_version_that_does_not_load_must_keep_the_old_one_serving_running_and_new_sessions()
    {
        using var registry = new ModelRegistry(ModelCatalog.Load(WriteCatalog("audio-digits", "v1")));
        var encoders = new RegistryEncoderProvider(registry);
        var (a, results) = Open(Spec("broken-a"), encoders);
        Send(a, "broken-a", 0, 2);
        Assert.Equal("audio-digits@v1", AudioVersion(Windows(results, 0, 1)[0]));
        var generation = registry.Generation;

        var broken = Path.Combine(_dir, "broken.onnx");
        File.WriteAllText(broken, "not a graph");
        WriteCatalog("audio-digits", "v2", broken);
        var entry = registry.Reload().Single(r => r.Name == "audio-digits");
        Assert.Equal((ModelReloadOutcome.Failed, "v1", "v2"), (entry.Outcome, entry.OldVersion, entry.NewVersion));
        Assert.False(string.IsNullOrEmpty(entry.Error));
        // Nothing changed: running streams have nothing to look at, and v1 is still the current version.
        Assert.Equal(generation, registry.Generation);
        Assert.Equal("v1", registry.Catalog.Get("audio-digits").Version);
        Assert.DoesNotContain(registry.Encoders, e => !e.Current);

        Send(a, "broken-a", 2, 5);
        Assert.All(Windows(results, 1, 4).Values, r => Assert.Equal("audio-digits@v1", AudioVersion(r)));
        AssertNothingLost(a, "broken-a", 5);
        var (b, resultsB) = Open(Spec("broken-b"), encoders);
        Send(b, "broken-b", 0, 2);
        Assert.Equal("audio-digits@v1", AudioVersion(Windows(resultsB, 0, 1)[0]));
    }

    [Fact]
    public void A_session_that_closes_before_moving_must_give_its_version_back()
    {
        using var registry = new ModelRegistry(ModelCatalog.Load(WriteCatalog("audio-digits", "v1")));
        var encoders = new RegistryEncoderProvider(registry);
        var (a, results) = Open(Spec("idle-a"), encoders);
        Send(a, "idle-a", 0, 2);
        Windows(results, 0, 1);
        var v1 = CurrentEncoder(registry, "audio-digits");
        WriteCatalog("audio-digits", "v2");
        registry.Reload();
        // An idle stream sends no batch, so it stays on v1 until it does, or stops.
        Assert.Equal(1, registry.Encoders.Single(e => !e.Current).Uses);
        a.Tell(new CloseSession("idle-a"), TestActor);
        AwaitAssert(() => Assert.True(v1.IsReleased), Wait, TimeSpan.FromMilliseconds(20));
        Assert.DoesNotContain(registry.Encoders, e => !e.Current);
    }

    [Fact]
    public void A_stream_rebuilt_from_its_sessions_resolution_must_count_its_own_use_and_move_to_the_current_version()
    {
        using var registry = new ModelRegistry(ModelCatalog.Load(WriteCatalog("audio-digits", "v1")));
        var encoders = new RegistryEncoderProvider(registry);
        var audio = Spec("rebuilt").Streams.Single(s => s.StreamId == Audio);
        var resolved = encoders.Resolve(audio, Labels);
        var pinned = encoders.Resolve(audio with { ModelVersion = "v1" }, Labels);
        Assert.Null(pinned.Renew);
        var first = resolved.Use!.Take()!;
        Assert.Same(resolved.Use, first);
        Assert.Same(pinned.Use, pinned.Use!.Take());

        WriteCatalog("audio-digits", "v2");
        registry.Reload();
        // A stream started again from the same resolution (its actor restarted, its session rebuilt it) counts its own use
        // and sees the reload that happened since the resolution, so it moves on at its first batch; the pinned one does not.
        var again = resolved.Use.Take()!;
        Assert.NotSame(first, again);
        Assert.Equal(3, registry.Encoders.Single(e => !e.Current).Uses);
        Assert.True(again.MayBeReplaced);
        Assert.True(again.Replaced());
        Assert.False(again.MayBeReplaced); // asked once per reload
        Assert.False(pinned.Use.MayBeReplaced);
        var renewed = resolved.Renew!();
        Assert.Equal("audio-digits@v2", renewed.Model);
        Assert.Same(renewed.Use, renewed.Use!.Take());

        // Uses given back once each, whatever the callers do twice.
        Assert.False(again.Release());
        Assert.False(again.Release());
        Assert.False(first.Release());
        Assert.True(pinned.Use.Release());
        Assert.True(first.Encoder.IsReleased);
        // A stream rebuilt after its version was closed gets no use: it resolves the current version at its first batch.
        Assert.Null(resolved.Use.Take());
        renewed.Use.Release();
        Assert.Equal(0, registry.Encoders.Single().Uses);
    }

    [Fact]
    public void A_stream_started_from_a_resolution_whose_version_was_closed_must_run_the_current_version()
    {
        using var registry = new ModelRegistry(ModelCatalog.Load(WriteCatalog("image-digits", "v1")));
        var spec = Spec("restarted");
        var camera = spec.Streams.Single(s => s.StreamId == Camera);
        var resolved = new RegistryEncoderProvider(registry).Resolve(camera, Labels);
        var alignment = CreateTestProbe();
        Props Stream() => Streams.StreamActor.Props("restarted", camera, spec, alignment.Ref, resolved, FastBackoff, clockOffsetUs: 0);
        string? ModelOfNextEvidence(IActorRef stream, long seq)
        {
            stream.Tell(new Frame("restarted", Camera, seq, seq * 100_000, Sample[0].Image), TestActor);
            var batch = (Alignment.AlignmentActor.EvidenceBatch)alignment.FishForMessage(m => m is Alignment.AlignmentActor.EvidenceBatch { Evidence.Count: > 0 }, Wait);
            return Assert.Single(batch.Evidence).Model;
        }

        var first = Sys.ActorOf(Stream());
        Assert.Equal("image-digits@v1", ModelOfNextEvidence(first, 0));
        var v1 = CurrentEncoder(registry, "image-digits");
        Watch(first);
        Sys.Stop(first);
        ExpectTerminated(first, Wait);
        // The stream gave its use back; the reload closes v1 at once: no stream runs it.
        WriteCatalog("image-digits", "v2");
        registry.Reload();
        Assert.True(v1.IsReleased);

        // The same resolution again (a stream its session rebuilt): its version is gone, it runs v2 from its first batch.
        var second = Sys.ActorOf(Stream());
        Assert.Equal("image-digits@v2", ModelOfNextEvidence(second, 0));
        Assert.Equal(1, registry.Encoders.Single(e => e.Name == "image-digits").Uses);
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        foreach (var d in _owned) d.Dispose();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
