using Akka.Actor;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using Xunit;
using FusionActors.Core.Streams;
using FusionActors.Core.Time;
using FusionActors.Protocol;
using FusionActors.Protocol.Specs;
using FusionActors.Runtime.Alignment;
using FusionActors.Runtime.Fusion;
using static FusionActors.Runtime.Tests.TestSessions;

namespace FusionActors.Runtime.Tests;

/// <summary>
/// The alignment actor alone: a probe stands in for the fusion actor, the test plays the stream actors, and a
/// manual clock is the server's wall clock. Every check that nothing happened is made after a status reply,
/// which the actor sends only once it has handled everything sent before.
/// </summary>
public sealed class AlignmentActorSpec() : TestKit(LocalConfig)
{
    private const long Sec = 1_000_000;
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);

    private static Evidence Ev(string stream, long startUs, long lengthUs = 100_000, long lastSeq = 0) =>
        new(stream, stream == Audio ? "audio" : "image", startUs, startUs + lengthUs, [], [], 1.0, lastSeq);

    private static AlignmentActor.EvidenceBatch Batch(string stream, long completeThroughUs, double reliability = 1.0, params Evidence[] evidence) =>
        new(stream, evidence, completeThroughUs, reliability);

    private (IActorRef Alignment, TestProbe Fusion, ManualClock Clock) Start(SessionSpec spec, long clockUs = 0)
    {
        var clock = new ManualClock(clockUs);
        var fusion = CreateTestProbe();
        var alignment = Sys.ActorOf(AlignmentActor.Props(spec, fusion.Ref, clockOffsetUs: 0, clock: clock));
        return (alignment, fusion, clock);
    }

    private AlignmentStatus Status(IActorRef alignment)
    {
        alignment.Tell(AlignmentActor.GetStatus.Instance, TestActor);
        return ExpectMsg<AlignmentStatus>(Wait);
    }

    private static FusionActor.FuseWindow ExpectWindow(TestProbe fusion, long startUs, int revision = 0) =>
        (FusionActor.FuseWindow)fusion.FishForMessage(m => m is FusionActor.FuseWindow w && w.Window.StartUs == startUs && w.Window.Revision == revision, Wait);

    private static StreamStateChanged ExpectState(TestProbe fusion, string stream, StreamState to) =>
        (StreamStateChanged)fusion.FishForMessage(m => m is StreamStateChanged s && s.StreamId == stream && s.To == to, Wait);

    [Fact]
    public void A_window_closes_once_every_live_stream_is_complete_past_it_and_its_frames_are_committed_after()
    {
        var (alignment, fusion, _) = Start(Spec("a-close"));
        alignment.Tell(Batch(Audio, Sec, 1.0, Ev(Audio, 0, Sec)));
        // The camera has completed nothing: the window waits for it.
        Assert.Equal(0, Status(alignment).WindowsClosed);
        fusion.ExpectNoMsg(TimeSpan.Zero);

        alignment.Tell(Batch(Camera, Sec, 0.9, Ev(Camera, 100_000), Ev(Camera, 1_100_000)));
        var w = fusion.ExpectMsg<FusionActor.FuseWindow>(Wait);
        Assert.Equal((0, Sec, 0), (w.Window.StartUs, w.Window.EndUs, w.Window.Revision));
        Assert.Single(w.Window.Evidence[Audio]);
        Assert.Equal(100_000, Assert.Single(w.Window.Evidence[Camera]).StartUs);
        Assert.Equal(0.9, w.Streams[Camera].ReliabilityOfEvidence);
        Assert.Equal(Sec, fusion.ExpectMsg<FramesCommitted>(Wait).ThroughUs);

        var status = Status(alignment);
        Assert.Equal((1L, Sec, Sec), (status.WindowsClosed, status.WatermarkUs, status.CommittedThroughUs));
        fusion.ExpectNoMsg(TimeSpan.Zero); // the window at 1 s is not complete yet
    }

    [Fact]
    public void Late_evidence_revises_a_closed_window_within_the_allowed_lateness_and_goes_to_the_side_output_after()
    {
        var (alignment, fusion, _) = Start(Spec("a-late", allowedLatenessUs: 500_000));
        alignment.Tell(Batch(Audio, Sec, 1.0, Ev(Audio, 0, Sec)));
        alignment.Tell(Batch(Camera, Sec));
        Assert.Empty(ExpectWindow(fusion, 0).Window.Evidence[Camera]);

        alignment.Tell(Batch(Camera, Sec, 1.0, Ev(Camera, 600_000, lastSeq: 6)));
        var revised = ExpectWindow(fusion, 0, revision: 1);
        Assert.Equal(600_000, Assert.Single(revised.Window.Evidence[Camera]).StartUs);
        Assert.Single(revised.Window.Evidence[Audio]);

        // Past the lateness of window 0 (its end − 1 + 500 ms): it is no longer open to revision.
        alignment.Tell(Batch(Audio, 2 * Sec));
        alignment.Tell(Batch(Camera, 2 * Sec));
        ExpectWindow(fusion, Sec);
        alignment.Tell(Batch(Camera, 2 * Sec, 1.0, Ev(Camera, 300_000, lastSeq: 3)));
        var late = (LateEvidence)fusion.FishForMessage(m => m is LateEvidence, Wait);
        Assert.Equal((Camera, 300_000L, 3L, 2 * Sec), (late.StreamId, late.StartUs, late.LastSeq, late.SessionWatermarkUs));

        var status = Status(alignment);
        Assert.Equal((2L, 1L, 1L), (status.WindowsClosed, status.Revisions, status.LateEvidence));
    }

    [Fact]
    public void An_idle_stream_is_missing_from_windows_and_with_no_live_stream_the_clock_closes_them()
    {
        var (alignment, fusion, clock) = Start(Spec("a-idle"));
        alignment.Tell(new AlignmentActor.StreamHealthChanged(Camera, StreamState.Idle, 0.5, "idle"));
        var changed = ExpectState(fusion, Camera, StreamState.Idle);
        Assert.Equal((StreamState.Active, "idle"), (changed.From, changed.Reason));

        // The idle camera does not hold the watermark back.
        alignment.Tell(Batch(Audio, Sec, 1.0, Ev(Audio, 0, Sec)));
        var w = ExpectWindow(fusion, 0);
        Assert.Empty(w.Window.Evidence[Camera]);
        Assert.Equal((StreamState.Idle, 0.5), (w.Streams[Camera].State, w.Streams[Camera].Reliability));
        Assert.Equal(Sec, fusion.ExpectMsg<FramesCommitted>(Wait).ThroughUs);

        // No stream live: the session clock (the wall clock less the offset) drives the watermark, by ticks.
        alignment.Tell(new AlignmentActor.StreamHealthChanged(Audio, StreamState.Idle, 0.5, "idle"));
        ExpectState(fusion, Audio, StreamState.Idle);
        Assert.Equal(Sec, Status(alignment).WatermarkUs); // the clock at 0 is behind the watermark: nothing moves
        clock.Set(3 * Sec + 50_000); // + the largest out-of-orderness (50 ms)
        var first = ExpectWindow(fusion, Sec);
        var second = ExpectWindow(fusion, 2 * Sec);
        Assert.True(first.Window.IsEmpty && second.Window.IsEmpty);
        var status = Status(alignment);
        Assert.Equal((3L, 3 * Sec), (status.WindowsClosed, status.WatermarkUs));
        // Windows closed by the clock commit no frames: a reconnecting client may still hold some for them.
        Assert.Equal(Sec, status.CommittedThroughUs);
        fusion.ExpectNoMsg(TimeSpan.Zero);
    }

    [Fact]
    public void The_session_clock_is_the_injected_clock_less_the_client_offset()
    {
        var (alignment, fusion, clock) = Start(Spec("a-offset"), clockUs: 10 * Sec);
        alignment.Tell(new ClockOffsetChanged(8 * Sec));
        alignment.Tell(new AlignmentActor.StreamHealthChanged(Audio, StreamState.Idle, 1.0, "idle"));
        alignment.Tell(new AlignmentActor.StreamHealthChanged(Camera, StreamState.Idle, 1.0, "idle"));
        // Session now = 10 s − 8 s = 2 s; less the out-of-orderness the watermark is just short of 2 s: one window.
        ExpectWindow(fusion, 0);
        var status = Status(alignment);
        Assert.Equal((1L, 2 * Sec - 50_000), (status.WindowsClosed, status.WatermarkUs));
        clock.Advance(50_000);
        ExpectWindow(fusion, Sec);
    }

    [Fact]
    public void A_failed_stream_stops_holding_windows_back_and_holds_them_again_once_restored()
    {
        var (alignment, fusion, _) = Start(Spec("a-detach"));
        alignment.Tell(new AlignmentActor.StreamHealthChanged(Camera, StreamState.Failed, 0.0, "disabled"));
        ExpectState(fusion, Camera, StreamState.Failed);
        alignment.Tell(Batch(Audio, Sec, 1.0, Ev(Audio, 0, Sec)));
        var w = ExpectWindow(fusion, 0);
        Assert.Empty(w.Window.Evidence[Camera]);
        Assert.Equal((StreamState.Failed, 0.0), (w.Streams[Camera].State, w.Streams[Camera].Reliability));

        alignment.Tell(new AlignmentActor.StreamHealthChanged(Camera, StreamState.Active, 1.0, "enabled"));
        Assert.Equal(StreamState.Failed, ExpectState(fusion, Camera, StreamState.Active).From);
        // Restored, the camera holds the watermark again until it reports progress.
        alignment.Tell(Batch(Audio, 2 * Sec, 1.0, Ev(Audio, Sec, Sec)));
        Assert.Equal(1, Status(alignment).WindowsClosed);
        fusion.ExpectNoMsg(TimeSpan.Zero);

        alignment.Tell(Batch(Camera, 2 * Sec, 0.8, Ev(Camera, 1_500_000)));
        var next = ExpectWindow(fusion, Sec);
        Assert.Equal(1_500_000, Assert.Single(next.Window.Evidence[Camera]).StartUs);
        Assert.Equal((StreamState.Active, 0.8), (next.Streams[Camera].State, next.Streams[Camera].ReliabilityOfEvidence));
    }

    [Fact]
    public void Anchor_windows_close_one_tolerance_after_each_anchor()
    {
        var spec = Spec("a-anchor") with { Window = WindowSpec.Anchored(Camera, 100_000) };
        var (alignment, fusion, _) = Start(spec);
        alignment.Tell(Batch(Audio, Sec, 1.0, Ev(Audio, 420_000, 20_000), Ev(Audio, 560_000, 20_000)));
        alignment.Tell(Batch(Camera, 550_000, 1.0, Ev(Camera, 500_000)));
        // The anchor at 500 ms closes at 600 ms: the watermark (550 ms) is short of it. Evidence more than two
        // tolerances behind the watermark can match no anchor any more: committed.
        Assert.Equal(0, Status(alignment).WindowsClosed);
        Assert.Equal(350_000, fusion.ExpectMsg<FramesCommitted>(Wait).ThroughUs);
        fusion.ExpectNoMsg(TimeSpan.Zero);
        alignment.Tell(Batch(Camera, 600_000));
        var w = ExpectWindow(fusion, 400_000);
        Assert.Equal(600_001, w.Window.EndUs);
        Assert.Equal(560_000, Assert.Single(w.Window.Evidence[Audio]).StartUs); // the nearest within the tolerance
    }
}
