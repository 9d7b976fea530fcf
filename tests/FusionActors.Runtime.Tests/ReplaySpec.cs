using Akka.Actor;
using Akka.TestKit.Xunit2;
using FusionActors.Protocol;
using FusionActors.Protocol.Specs;
using FusionActors.Runtime.Recording;
using FusionActors.Runtime.Sessions;
using Xunit;
using static FusionActors.Runtime.Tests.TestSessions;

namespace FusionActors.Runtime.Tests;

/// <summary>Sessions recorded live with the real models, then replayed through the same actors on recorded time.</summary>
public sealed class ReplaySpec() : TestKit(LocalConfig)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "fusion-recording-spec", Guid.NewGuid().ToString("N"));

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        try { Directory.Delete(_dir, recursive: true); }
        catch (DirectoryNotFoundException) { }
    }

    /// <summary>
    /// Records a live session: audio for <paramref name="windows"/> windows, the camera for the first
    /// <paramref name="cameraWindows"/> only (it then falls silent until idle), then both streams closed.
    /// </summary>
    private (string Path, List<FusedResult> Live) RecordLive(string id, int windows, int cameraWindows, TimeSpan cameraIdle)
    {
        using var recorder = new RecordingWriter(new RecordingOptions { Directory = _dir });
        var spec = Spec(id, cameraIdle) with { Record = true };
        var session = Sys.ActorOf(SessionActor.Props(id, TestSessions.Encoders, FastBackoff, sharded: false, recorder: recorder));
        session.Tell(new OpenSession(spec, 0), TestActor);
        ExpectMsg<SessionOpened>(Wait);
        var probe = CreateTestProbe();
        session.Tell(new Subscribe(id, probe.Ref), TestActor);
        ExpectMsg<Subscribed>(Wait);
        for (var w = 0; w < cameraWindows; w++)
            foreach (var f in CameraFrames(id, w, Sample[w % Sample.Count], w * 10L)) session.Tell(f, TestActor);
        for (var w = 0; w < windows; w++)
            foreach (var f in AudioFrames(id, w, Sample[w % Sample.Count], w * 50L)) session.Tell(f, TestActor);
        var live = new List<FusedResult>();
        var idle = cameraWindows == windows;
        var closed = false;
        while (live.Count < windows)
        {
            switch (probe.FishForMessage(m => m is FusedResult or StreamStateChanged { StreamId: Camera, To: StreamState.Idle }, Wait))
            {
                case FusedResult r: live.Add(r); break;
                default: idle = true; break;
            }
            if (idle && !closed)
            {
                // Closed only once the camera is idle: live, its silence must outlast its idle timeout.
                session.Tell(new CloseStream(id, Audio), TestActor);
                session.Tell(new CloseStream(id, Camera), TestActor);
                closed = true;
            }
        }
        Watch(session);
        session.Tell(new CloseSession(id), TestActor);
        ExpectMsg<SessionClosed>(Wait);
        ExpectTerminated(session, Wait);
        Assert.True(recorder.Flush(Wait));
        return (Assert.Single(Directory.GetFiles(_dir, id + "-*")), live);
    }

    private static void AssertSame(IReadOnlyList<ReplayedResult> a, IReadOnlyList<ReplayedResult> b)
    {
        Assert.Equal(a.Count, b.Count);
        for (var i = 0; i < a.Count; i++) Assert.True(a[i].SameAs(b[i]), $"result {i}: {a[i]} vs {b[i]}");
    }

    [Fact]
    public async Task A_recorded_session_replays_to_the_same_results_every_time_and_to_the_live_ones()
    {
        var (path, live) = RecordLive("s-replay", 4, 4, TimeSpan.FromSeconds(2));
        var recording = RecordingReader.Read(path);
        var first = await Replay.RunAsync(Sys, recording, TestSessions.Encoders);
        var second = await Replay.RunAsync(Sys, RecordingReader.Read(path), TestSessions.Encoders);
        Assert.Equal(4 * 60, first.FramesReplayed);
        Assert.Equal(4, first.Results.Count);
        AssertSame(first.Results, second.Results);
        // Live, every window was closed by the streams' watermarks alone (nothing went idle): the same decisions, bit for bit.
        AssertSame(live.Select(ReplayedResult.Of).ToList(), first.Results);
        AssertSame(recording.Records.OfType<RecordedResult>().Select(ReplayedResult.Of).ToList(), first.Results);
        // The report of either run is the same, byte for byte, and finds every recorded result again.
        Assert.Equal(ReplayReport.Build(path, "models", recording, first), ReplayReport.Build(path, "models", recording, second));
        Assert.Equal((4, 4), (ReplayReport.AgainstRecording(recording, first).Recorded, ReplayReport.AgainstRecording(recording, first).Same));
        Assert.Empty(ReplayReport.Compare(first, second));
    }

    [Fact]
    public async Task Idleness_follows_the_recorded_clock_not_the_replays_own()
    {
        // The camera falls silent after window 1: live, its idle timer found it idle after 300 ms of wall time, and the
        // windows after were fused without it. A replay takes milliseconds, so only the recorded clock can make it idle.
        var (path, live) = RecordLive("s-idle", 4, 2, TimeSpan.FromMilliseconds(300));
        var recording = RecordingReader.Read(path);
        Assert.Contains(recording.Records.OfType<RecordedStreamState>(), s => s is { StreamId: Camera, To: StreamState.Idle });
        var first = await Replay.RunAsync(Sys, recording, TestSessions.Encoders);
        var second = await Replay.RunAsync(Sys, recording, TestSessions.Encoders);
        Assert.True(first.ClockSteps > 0);
        AssertSame(first.Results, second.Results);
        Assert.Equal(live.Select(r => (r.WindowStartUs, r.Revision)), first.Results.Select(r => (r.WindowStartUs, r.Revision)));
        Assert.Contains(first.Results, r => r.Missing.Contains("image"));
        // The same windows lack the camera as live, and each decides the same, bit for bit.
        AssertSame(live.Select(ReplayedResult.Of).ToList(), first.Results);
    }

    [Fact]
    public async Task A_torn_recording_replays_its_prefix()
    {
        var (path, _) = RecordLive("s-torn", 4, 4, TimeSpan.FromSeconds(2));
        var whole = await Replay.RunAsync(Sys, RecordingReader.Read(path), TestSessions.Encoders);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length * 2 / 3)]);
        var torn = RecordingReader.Read(path);
        Assert.Contains("truncated", torn.StoppedBecause);
        var prefix = await Replay.RunAsync(Sys, torn, TestSessions.Encoders);
        Assert.Equal(torn.StoppedBecause, prefix.ReadStoppedBecause);
        Assert.InRange(prefix.FramesReplayed, 1, whole.FramesReplayed - 1);
        // What the prefix decides, it decides as the whole recording did.
        AssertSame(whole.Results.Take(prefix.Results.Count).ToList(), prefix.Results);
        // A comparison names the windows only the whole recording decided.
        Assert.Equal(whole.Results.Skip(prefix.Results.Count).Select(r => r.WindowStartUs), ReplayReport.Compare(whole, prefix).Select(d => d.WindowStartUs));
        Assert.All(ReplayReport.Compare(whole, prefix), d => Assert.Null(d.B));
    }

    [Fact]
    public async Task Another_policy_changes_the_decisions_the_replay_reports()
    {
        var (path, _) = RecordLive("s-policy", 3, 3, TimeSpan.FromSeconds(2));
        var recording = RecordingReader.Read(path);
        var adaptive = await Replay.RunAsync(Sys, recording, TestSessions.Encoders);
        var audio = await Replay.RunAsync(Sys, recording, TestSessions.Encoders, FusionPolicy.Single("audio"));
        Assert.Equal("single:audio", audio.Policy);
        Assert.All(audio.Results, r => Assert.Equal(1.0, r.Weights["audio"]));
        Assert.NotEqual(adaptive.Results.Select(r => r.Posterior[r.TopClass]), audio.Results.Select(r => r.Posterior[r.TopClass]));
    }
}
