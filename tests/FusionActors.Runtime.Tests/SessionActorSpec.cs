using Akka.Actor;
using Akka.TestKit.Xunit2;
using Xunit;
using FusionActors.Core.Specs;
using FusionActors.Core.Streams;
using FusionActors.Inference;
using FusionActors.Protocol;
using FusionActors.Protocol.Specs;
using FusionActors.Runtime.Alignment;
using FusionActors.Runtime.Encoders;
using FusionActors.Runtime.Encoders.Chaos;
using FusionActors.Runtime.Fusion;
using FusionActors.Runtime.Gateway;
using FusionActors.Runtime.Sessions;
using FusionActors.Runtime.Streams;
using static FusionActors.Runtime.Tests.TestSessions;

namespace FusionActors.Runtime.Tests;

/// <summary>The actor tree of one session with the real ONNX encoders, in process.</summary>
public sealed class SessionActorSpec() : TestKit(LocalConfig)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);

    private (IActorRef Session, Akka.TestKit.TestProbe Results) Open(SessionSpec spec, Akka.Actor.Props? props = null)
    {
        var session = Sys.ActorOf(props ?? SessionProps(spec.SessionId));
        session.Tell(new OpenSession(spec, 0), TestActor);
        ExpectMsg<SessionOpened>(Wait);
        var results = CreateTestProbe();
        session.Tell(new Subscribe(spec.SessionId, results.Ref), TestActor);
        ExpectMsg<Subscribed>(Wait);
        return (session, results);
    }

    private FusedResult ExpectResult(Akka.TestKit.TestProbe probe, long windowStartUs, int? revision = null) =>
        (FusedResult)probe.FishForMessage(m => m is FusedResult r && r.WindowStartUs == windowStartUs && (revision is null || r.Revision == revision), Wait);

    private StreamStateChanged ExpectState(Akka.TestKit.TestProbe probe, string stream, StreamState to) =>
        (StreamStateChanged)probe.FishForMessage(m => m is StreamStateChanged s && s.StreamId == stream && s.To == to, Wait);

    private static void Send(IActorRef session, IEnumerable<Frame> frames, IActorRef sender)
    {
        foreach (var f in frames) session.Tell(f, sender);
    }

    /// <summary>Feeds windows [from, to) with both streams (camera optional) and returns the next seqs.</summary>
    private (long Audio, long Camera) Feed(IActorRef session, string id, int from, int to, long audioSeq, long cameraSeq, Func<int, bool>? cameraOn = null)
    {
        for (var w = from; w < to; w++)
        {
            var item = Sample[w % Sample.Count];
            Send(session, AudioFrames(id, w, item, audioSeq), TestActor);
            audioSeq += 50;
            if (cameraOn?.Invoke(w) ?? true)
            {
                Send(session, CameraFrames(id, w, item, cameraSeq), TestActor);
                cameraSeq += 10;
            }
        }
        return (audioSeq, cameraSeq);
    }

    [Fact]
    public void An_idle_open_session_asks_its_shard_to_passivate_it()
    {
        // The shard is this test (the session's parent); the session times its idleness itself.
        var session = ChildActorOf(SessionActor.Props("s-idle", TestSessions.Encoders, FastBackoff, sharded: true, passivateIdleAfter: TimeSpan.FromMilliseconds(300)));
        session.Tell(new OpenSession(Spec("s-idle"), 0), TestActor);
        FishForMessage(m => m is SessionOpened, Wait);
        FishForMessage(m => m is Akka.Cluster.Sharding.Passivate, Wait);
    }

    [Fact]
    public void A_client_clock_round_trip_moves_the_offset_that_the_future_skew_check_uses()
    {
        var spec = Spec("s-clock");
        spec = spec with { Streams = spec.Streams.Select(s => s with { MaxFutureSkewUs = 2_000_000 }).ToArray() };
        var client = CreateTestProbe();
        var session = Sys.ActorOf(SessionProps(spec.SessionId));
        // At open the client reads 0 on its session clock ...
        session.Tell(new OpenSession(spec, 0, Client: client.Ref), TestActor);
        ExpectMsg<SessionOpened>(Wait);
        var far = new Frame("s-clock", Camera, 0, 8_000_000, Sample[0].Image);
        session.Tell(far, TestActor);
        Assert.Equal(RejectReason.TooFarInFuture, ExpectMsg<FrameRejected>(Wait).Reason);

        // ... then a round trip says its clock reads 10 s: 8 s is in the past now, not 8 s ahead.
        var ping = client.FishForMessage<ClockPing>(_ => true, Wait);
        client.Reply(new ClockPong("s-clock", ping.ServerSentUs, 10_000_000));
        // The pong and the next frames race to the session: send until one is taken (an accepted frame gets no answer).
        for (var seq = 1L; seq < 50; seq++)
        {
            session.Tell(far with { Seq = seq }, TestActor);
            var answer = ReceiveOne(TimeSpan.FromMilliseconds(300));
            if (answer is null) break;
            Assert.Equal(RejectReason.TooFarInFuture, Assert.IsType<FrameRejected>(answer).Reason);
        }
        session.Tell(new GetSessionStatus("s-clock"), TestActor);
        var status = ExpectMsg<SessionStatus>(Wait);
        Assert.True(status.Streams.Single(s => s.StreamId == Camera).Counters.FramesAccepted >= 1);
    }

    [Fact]
    public void Both_modalities_are_fused_into_a_correct_result_per_window()
    {
        var (session, results) = Open(Spec("s-fuse"));
        Feed(session, "s-fuse", 0, 4, 0, 0);
        for (var w = 0; w < 3; w++)
        {
            var r = ExpectResult(results, w * 1_000_000L);
            Assert.Equal(FusedStatus.Fused, r.Status);
            Assert.Equal(Sample[w].Label, r.TopClass);
            Assert.Empty(r.Missing);
            Assert.True(r.Weights["audio"] > 0 && r.Weights["image"] > 0);
            Assert.Equal(1.0, r.Posterior.Sum(), 6);
            Assert.Equal(0, r.Revision);
        }
    }

    [Fact]
    public void Frames_for_a_session_that_is_not_open_are_rejected_as_unknown_session()
    {
        var session = Sys.ActorOf(SessionProps("s-none"));
        session.Tell(new Frame("s-none", Audio, 0, 0, new float[320]), TestActor);
        Assert.Equal(RejectReason.UnknownSession, ExpectMsg<FrameRejected>(Wait).Reason);
    }

    [Fact]
    public void Opening_a_session_with_an_unknown_model_is_refused_with_the_reason()
    {
        var spec = Spec("s-badmodel");
        spec = spec with { Streams = [spec.Streams[0] with { Model = "no-such-model" }, spec.Streams[1]] };
        var session = Sys.ActorOf(SessionProps(spec.SessionId));
        session.Tell(new OpenSession(spec, 0), TestActor);
        var rejected = ExpectMsg<CommandRejected>(Wait);
        Assert.Contains("no-such-model", rejected.Reason);
    }

    [Fact]
    public void Bad_frames_get_typed_rejections_and_the_session_keeps_fusing()
    {
        var spec = Spec("s-bad");
        spec = spec with { Streams = [spec.Streams[0], spec.Streams[1] with { MaxFutureSkewUs = 10_000_000, MaxFrameBytes = 1024 }] };
        var (session, results) = Open(spec);
        var nan = new float[64];
        nan[3] = float.NaN;
        var inf = new float[64];
        inf[0] = float.PositiveInfinity;
        var cases = new (Frame Frame, RejectReason Reason)[]
        {
            (new Frame("s-bad", Camera, 0, 0, nan), RejectReason.NotFinite),
            (new Frame("s-bad", Camera, 0, 0, inf), RejectReason.NotFinite),
            (new Frame("s-bad", Camera, 0, 0, new float[63]), RejectReason.WrongPayloadSize),
            (new Frame("s-bad", Camera, 0, 0, new float[300]), RejectReason.PayloadTooLarge),
            (new Frame("s-bad", Camera, 0, 3_600_000_000, new float[64]), RejectReason.TooFarInFuture),
            (new Frame("s-bad", Camera, -1, 0, new float[64]), RejectReason.SeqOutOfRange),
            (new Frame("s-bad", Camera, 1_000_000, 0, new float[64]), RejectReason.SeqOutOfRange),
            (new Frame("s-bad", "lidar", 0, 0, new float[4]), RejectReason.UnknownStream),
            // Pixels in 0..255 instead of the model's [0, 1]: refused at the door, not a crash in the encoder.
            (new Frame("s-bad", Camera, 0, 0, Enumerable.Repeat(200f, 64).ToArray()), RejectReason.OutOfRange),
        };
        foreach (var (frame, reason) in cases)
        {
            session.Tell(frame, TestActor);
            var rejected = ExpectMsg<FrameRejected>(Wait);
            Assert.Equal(reason, rejected.Reason);
            Assert.False(string.IsNullOrWhiteSpace(rejected.Detail));
        }
        // A repeat is dropped idempotently: the first copy counts, the second is reported as a duplicate.
        var item = Sample[0];
        Send(session, CameraFrames("s-bad", 0, item, 0, 1), TestActor);
        Send(session, CameraFrames("s-bad", 0, item, 0, 1), TestActor);
        Assert.Equal(RejectReason.Duplicate, ExpectMsg<FrameRejected>(Wait).Reason);

        Feed(session, "s-bad", 0, 2, 0, 1);
        var r = ExpectResult(results, 0);
        Assert.Equal(item.Label, r.TopClass);
        session.Tell(new GetSessionStatus("s-bad"), TestActor);
        var status = ExpectMsg<SessionStatus>(Wait);
        var camera = status.Streams.Single(s => s.StreamId == Camera);
        Assert.Equal(2, camera.Counters.Rejected[RejectReason.NotFinite]);
        Assert.Equal(1, camera.Counters.Rejected[RejectReason.Duplicate]);
        Assert.Equal(2, camera.Counters.Rejected[RejectReason.SeqOutOfRange]);
    }

    [Fact]
    public void A_stream_that_goes_silent_must_not_hold_back_the_session_watermark()
    {
        var (session, results) = Open(Spec("s-idle", cameraIdle: TimeSpan.FromMilliseconds(300)));
        // The camera shows window 0 only; audio goes on. Windows after 0 must close once the camera is Idle.
        var seqs = Feed(session, "s-idle", 0, 1, 0, 0);
        Feed(session, "s-idle", 1, 4, seqs.Audio, seqs.Camera, cameraOn: _ => false);
        ExpectState(results, Camera, StreamState.Idle);
        for (var w = 1; w < 3; w++)
        {
            var r = ExpectResult(results, w * 1_000_000L);
            Assert.Contains("image", r.Missing);
            Assert.Equal(0, r.Weights["image"]);
            Assert.Equal(1.0, r.Weights["audio"], 9);
            Assert.Equal(Sample[w].Label, r.TopClass);
        }
    }

    [Fact]
    public void When_every_stream_is_silent_windows_still_close_with_no_evidence()
    {
        var spec = Spec("s-silent", cameraIdle: TimeSpan.FromMilliseconds(200));
        spec = spec with { Streams = [spec.Streams[0] with { IdleTimeout = TimeSpan.FromMilliseconds(200) }, spec.Streams[1]] };
        var (_, results) = Open(spec);
        var r = (FusedResult)results.FishForMessage(m => m is FusedResult, Wait);
        Assert.Equal(FusedStatus.NoEvidence, r.Status);
        Assert.Equal(-1, r.TopClass);
        Assert.Equal(0.1, r.Posterior[0], 9);
        Assert.Equal(2, r.Missing.Count);
    }

    [Fact]
    public void A_crashed_encoder_is_restarted_with_backoff_and_the_stream_becomes_active_again()
    {
        var (session, results) = Open(Spec("s-crash"));
        session.Tell(new CrashEncoder("s-crash", Camera), TestActor);
        ExpectMsg<Status.Success>(Wait);
        Feed(session, "s-crash", 0, 3, 0, 0);
        ExpectState(results, Camera, StreamState.Restarting);
        ExpectState(results, Camera, StreamState.Active);
        var r = ExpectResult(results, 0);
        // The batch that crashed is retried: no evidence is lost to the crash.
        Assert.Empty(r.Missing);
        Assert.Equal(Sample[0].Label, r.TopClass);
        session.Tell(new GetSessionStatus("s-crash"), TestActor);
        var camera = ExpectMsg<SessionStatus>(Wait).Streams.Single(s => s.StreamId == Camera);
        Assert.Equal(1, camera.Counters.EncoderRestarts);
        Assert.Equal(0, camera.Counters.Quarantined);
    }

    [Fact]
    public void An_input_that_makes_the_encoder_fail_three_times_is_quarantined_and_the_rest_go_on()
    {
        const float poison = 0.123f;
        var encoders = new PoisonEncoderProvider(TestSessions.Encoders, s => s.StreamId == Camera ? input => input.Span[0] == poison : null);
        var (session, results) = Open(Spec("s-poison"), SessionProps("s-poison", encoders));
        var bad = (float[])Sample[0].Image.Clone();
        bad[0] = poison;
        session.Tell(new Frame("s-poison", Camera, 0, 50_000, bad), TestActor);
        Feed(session, "s-poison", 0, 3, 0, 1);
        var r = ExpectResult(results, 0);
        Assert.Equal(Sample[0].Label, r.TopClass);
        Assert.True(r.Weights["image"] > 0, "the good camera frames of the window still count");
        session.Tell(new GetSessionStatus("s-poison"), TestActor);
        var camera = ExpectMsg<SessionStatus>(Wait).Streams.Single(s => s.StreamId == Camera);
        Assert.Equal(1, camera.Counters.Quarantined);
        Assert.Equal(3, camera.Counters.EncoderFailures);
        Assert.Equal(StreamState.Active, camera.State);
    }

    [Fact]
    public void An_encoder_that_does_not_answer_in_time_counts_as_failed_and_its_input_is_quarantined_while_the_session_goes_on()
    {
        const float stalls = 0.321f;
        var encoders = new StallingEncoders(TestSessions.Encoders, Camera, input => input.Span[0] == stalls, TimeSpan.FromSeconds(1));
        var backoff = FastBackoff with { EncodeDeadline = TimeSpan.FromMilliseconds(200) };
        var (session, results) = Open(Spec("s-stall"), SessionProps("s-stall", encoders, backoff));
        var stuck = (float[])Sample[0].Image.Clone();
        stuck[0] = stalls;
        session.Tell(new Frame("s-stall", Camera, 0, 50_000, stuck), TestActor);
        Feed(session, "s-stall", 0, 3, 0, 1);
        // Window 0 is decided without waiting for the stalled calls, on the camera's other frames.
        var r = ExpectResult(results, 0);
        Assert.Equal(Sample[0].Label, r.TopClass);
        session.Tell(new GetSessionStatus("s-stall"), TestActor);
        var camera = ExpectMsg<SessionStatus>(Wait).Streams.Single(s => s.StreamId == Camera);
        // The stalled input failed three times and was quarantined. Its stalled calls hold encoder threads until they
        // return, so a good input that waited behind them may have been blamed once or twice too: at least, not exactly.
        Assert.InRange(camera.Counters.Quarantined, 1, 2);
        Assert.True(camera.Counters.EncoderFailures >= 3, $"{camera.Counters.EncoderFailures} failures");
        var next = ExpectResult(results, 1_000_000);
        Assert.Equal(Sample[1].Label, next.TopClass);
    }

    /// <summary>The real encoders, the stream's wrapped so that it stalls on marked inputs.</summary>
    private sealed class StallingEncoders(IEncoderProvider inner, string streamId, Func<ReadOnlyMemory<float>, bool> stallsOn, TimeSpan stall) : IEncoderProvider
    {
        public FusionActors.Core.Fusion.FusionModels Fusion => inner.Fusion;

        public ResolvedEncoder Resolve(StreamSpec stream, int classCount)
        {
            var resolved = inner.Resolve(stream, classCount);
            return stream.StreamId == streamId ? resolved with { Encoder = new StallingInputEncoder(resolved.Encoder, stallsOn, stall) } : resolved;
        }
    }

    [Fact]
    public void A_stream_over_its_restart_budget_is_failed_and_fusion_goes_on_without_it()
    {
        var encoders = new PoisonEncoderProvider(TestSessions.Encoders, s => s.StreamId == Camera ? _ => true : null);
        var backoff = FastBackoff with { MaxRestarts = 1 };
        var (session, results) = Open(Spec("s-failed"), SessionProps("s-failed", encoders, backoff));
        Feed(session, "s-failed", 0, 4, 0, 0);
        ExpectState(results, Camera, StreamState.Failed);
        var r = ExpectResult(results, 1_000_000);
        Assert.Contains("image", r.Missing);
        Assert.Equal(StreamState.Failed, r.States[Camera]);
        Assert.Equal(Sample[1].Label, r.TopClass);
    }

    [Fact]
    public void Evidence_late_within_the_allowed_lateness_revises_the_window_and_later_evidence_goes_to_the_side_output()
    {
        var (session, results) = Open(Spec("s-late", allowedLatenessUs: 1_500_000));
        var item0 = Sample[0];
        // Window 0 with audio only; the camera moves on to window 1 so window 0 closes without an image.
        Send(session, AudioFrames("s-late", 0, item0, 0), TestActor);
        Send(session, AudioFrames("s-late", 1, Sample[1], 50), TestActor);
        Send(session, CameraFrames("s-late", 1, Sample[1], 0), TestActor);
        Send(session, CameraFrames("s-late", 2, Sample[2], 10), TestActor);
        var first = ExpectResult(results, 0, revision: 0);
        Assert.Contains("image", first.Missing);
        // A camera frame for window 0 arrives late, within the lateness: window 0 is revised.
        session.Tell(new Frame("s-late", Camera, 20, 500_000, item0.Image), TestActor);
        var revised = ExpectResult(results, 0, revision: 1);
        Assert.Empty(revised.Missing);
        // Move the watermark far beyond window 0's lateness, then send another frame for it: side output.
        Send(session, AudioFrames("s-late", 2, Sample[2], 100), TestActor);
        Send(session, AudioFrames("s-late", 3, Sample[3], 150), TestActor);
        Send(session, CameraFrames("s-late", 3, Sample[3], 21), TestActor);
        Send(session, CameraFrames("s-late", 4, Sample[4], 31), TestActor);
        ExpectResult(results, 2_000_000);
        session.Tell(new Frame("s-late", Camera, 41, 600_000, item0.Image), TestActor);
        var late = (LateEvidence)results.FishForMessage(m => m is LateEvidence, Wait);
        Assert.Equal(Camera, late.StreamId);
        Assert.Equal(600_000, late.StartUs);
    }

    [Fact]
    public void The_fusion_policy_can_be_changed_while_the_session_runs()
    {
        var (session, results) = Open(Spec("s-policy"));
        session.Tell(new SetFusionPolicy("s-policy", FusionPolicy.Single("audio")), TestActor);
        ExpectMsg<Status.Success>(Wait);
        session.Tell(new SetFusionPolicy("s-policy", FusionPolicy.Single("smell")), TestActor);
        Assert.Contains("smell", ExpectMsg<CommandRejected>(Wait).Reason);
        Feed(session, "s-policy", 0, 2, 0, 0);
        var r = ExpectResult(results, 0);
        Assert.Equal("single:audio", r.Policy);
        Assert.Equal(1.0, r.Weights["audio"]);
        Assert.Equal(0.0, r.Weights["image"]);
    }

    [Fact]
    public void Closing_the_streams_fuses_the_last_window()
    {
        var (session, results) = Open(Spec("s-close"));
        Feed(session, "s-close", 0, 2, 0, 0);
        session.Tell(new CloseStream("s-close", Audio), TestActor);
        session.Tell(new CloseStream("s-close", Camera), TestActor);
        var last = ExpectResult(results, 1_000_000);
        Assert.Empty(last.Missing);
        Assert.Equal(Sample[1].Label, last.TopClass);
        session.Tell(new Frame("s-close", Camera, 99, 3_000_000, Sample[0].Image), TestActor);
        Assert.Equal(RejectReason.StreamFinished, ExpectMsg<FrameRejected>(Wait).Reason);
    }

    [Fact]
    public void An_encoder_that_crashes_after_its_stream_was_closed_is_restarted_and_the_last_windows_are_fused()
    {
        var (session, results) = Open(Spec("s-close-crash"));
        session.Tell(new CrashEncoder("s-close-crash", Camera), TestActor);
        ExpectMsg<Status.Success>(Wait);
        Feed(session, "s-close-crash", 0, 2, 0, 0);
        // Closed while the camera's first batch may still be in its encoder: the crash comes after the close, and the
        // closed stream must still encode what it holds.
        session.Tell(new CloseStream("s-close-crash", Audio), TestActor);
        session.Tell(new CloseStream("s-close-crash", Camera), TestActor);
        var first = ExpectResult(results, 0);
        var last = ExpectResult(results, 1_000_000);
        Assert.Empty(first.Missing);
        Assert.Empty(last.Missing);
        Assert.Equal(Sample[1].Label, last.TopClass);
        session.Tell(new GetSessionStatus("s-close-crash"), TestActor);
        var camera = ExpectMsg<SessionStatus>(Wait).Streams.Single(s => s.StreamId == Camera);
        Assert.Equal(1, camera.Counters.EncoderRestarts);
        Assert.Equal(0, camera.Counters.Quarantined);
    }

    [Fact]
    public void A_client_heartbeat_moves_the_stream_watermark_so_windows_close_without_more_frames()
    {
        // The camera never goes idle here (60 s): only its heartbeat can let window 0 close.
        var (session, results) = Open(Spec("s-heartbeat", cameraIdle: TimeSpan.FromSeconds(60)));
        Send(session, AudioFrames("s-heartbeat", 0, Sample[0], 0), TestActor);
        Send(session, AudioFrames("s-heartbeat", 1, Sample[1], 50), TestActor);
        Send(session, CameraFrames("s-heartbeat", 0, Sample[0], 0), TestActor);
        session.Tell(new StreamHeartbeat("s-heartbeat", Camera, 1_500_000), TestActor);
        var r = ExpectResult(results, 0);
        Assert.Empty(r.Missing);
        Assert.Equal(StreamState.Active, r.States[Camera]);
        Assert.Equal(Sample[0].Label, r.TopClass);
    }

    [Fact]
    public void Inputs_waiting_for_a_restarting_encoder_are_capped_and_what_overflows_is_counted()
    {
        var spec = Spec("s-cap");
        spec = spec with { Streams = [spec.Streams[0], spec.Streams[1] with { MaxPendingInputs = 3 }] };
        var slowRestart = FastBackoff with { Min = TimeSpan.FromSeconds(1), Max = TimeSpan.FromSeconds(1), Jitter = 0 };
        var (session, results) = Open(spec, SessionProps("s-cap", backoff: slowRestart));
        session.Tell(new CrashEncoder("s-cap", Camera), TestActor);
        ExpectMsg<Status.Success>(Wait);
        Send(session, CameraFrames("s-cap", 0, Sample[0], 0), TestActor);
        ExpectState(results, Camera, StreamState.Restarting);
        session.Tell(new GetSessionStatus("s-cap"), TestActor);
        var camera = ExpectMsg<SessionStatus>(Wait).Streams.Single(s => s.StreamId == Camera);
        Assert.True(camera.PendingInputs <= 3, $"pending {camera.PendingInputs} exceeds the cap");
        Assert.True(camera.Counters.InputsShed >= 6, $"shed {camera.Counters.InputsShed}");
        Assert.Equal(10, camera.Counters.InputsShed + camera.PendingInputs + camera.Counters.InputsEncoded + camera.Counters.Quarantined);
        // After the restart the kept inputs are encoded and the window is fused with them.
        ExpectState(results, Camera, StreamState.Active);
        Feed(session, "s-cap", 0, 2, 0, 10, cameraOn: w => w > 0);
        var r = ExpectResult(results, 0);
        Assert.Empty(r.Missing);
    }

    [Fact]
    public void An_operator_can_disable_a_stream_and_enable_it_again()
    {
        var (session, results) = Open(Spec("s-disable"));
        session.Tell(new DisableStream("s-disable", Camera), TestActor);
        ExpectMsg<Status.Success>(Wait);
        ExpectState(results, Camera, StreamState.Failed);
        Send(session, CameraFrames("s-disable", 0, Sample[0], 0, 1), TestActor);
        Assert.Equal(RejectReason.StreamDisabled, ExpectMsg<FrameRejected>(Wait).Reason);
        Send(session, AudioFrames("s-disable", 0, Sample[0], 0), TestActor);
        Send(session, AudioFrames("s-disable", 1, Sample[1], 50), TestActor);
        var r = ExpectResult(results, 0);
        Assert.Contains("image", r.Missing);
        Assert.Equal(Sample[0].Label, r.TopClass);

        session.Tell(new EnableStream("s-disable", Camera), TestActor);
        ExpectMsg<Status.Success>(Wait);
        ExpectState(results, Camera, StreamState.Active);
        Send(session, CameraFrames("s-disable", 2, Sample[2], 0), TestActor);
        Send(session, AudioFrames("s-disable", 2, Sample[2], 100), TestActor);
        Send(session, CameraFrames("s-disable", 3, Sample[3], 10), TestActor);
        Send(session, AudioFrames("s-disable", 3, Sample[3], 150), TestActor);
        var back = ExpectResult(results, 2_000_000);
        Assert.Empty(back.Missing);
    }

    [Fact]
    public void A_chaos_drop_drill_refuses_frames_for_its_duration_with_a_typed_reason()
    {
        var (session, _) = Open(Spec("s-drop"));
        session.Tell(new DropFrames("s-drop", Camera, TimeSpan.FromMinutes(5)), TestActor);
        ExpectMsg<Status.Success>(Wait);
        Send(session, CameraFrames("s-drop", 0, Sample[0], 0, 2), TestActor);
        Assert.Equal(RejectReason.ChaosDropped, ExpectMsg<FrameRejected>(Wait).Reason);
        Assert.Equal(RejectReason.ChaosDropped, ExpectMsg<FrameRejected>(Wait).Reason);
        session.Tell(new GetSessionStatus("s-drop"), TestActor);
        var camera = ExpectMsg<SessionStatus>(Wait).Streams.Single(s => s.StreamId == Camera);
        Assert.Equal(2, camera.Counters.Rejected[RejectReason.ChaosDropped]);
    }
}
