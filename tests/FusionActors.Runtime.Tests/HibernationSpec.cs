using Akka.Actor;
using Akka.TestKit.Xunit2;
using Xunit;
using FusionActors.Protocol;
using FusionActors.Protocol.Specs;
using FusionActors.Runtime.Hosting;
using FusionActors.Runtime.Sessions;
using static FusionActors.Runtime.Tests.TestSessions;

namespace FusionActors.Runtime.Tests;

/// <summary>
/// An idle session's hibernation with the real actors and models: a hibernated session, woken by its next frames, gives
/// the very results of a twin that never slept on the same frames; status and subscriptions work asleep; it never
/// sleeps with uncommitted frames. Hibernation is asked for by message (or by a short timer, awaited on the node's count).
/// </summary>
public sealed class HibernationSpec() : TestKit(LocalConfig)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    // Streams never go idle during a spec: windows close on the frames' own watermark, never on the clock, so the
    // sleeping session and its twin see exactly the same watermark steps.
    private static SessionSpec QuietSpec(string id)
    {
        var spec = Spec(id);
        return spec with { Streams = spec.Streams.Select(s => s with { IdleTimeout = TimeSpan.FromMinutes(10) }).ToArray() };
    }

    private (IActorRef Session, Akka.TestKit.TestProbe Results, Akka.TestKit.TestProbe Sender) Open(string id, SessionAdmission? admission = null,
        TimeSpan? hibernateAfter = null)
    {
        var session = Sys.ActorOf(SessionActor.Props(id, TestSessions.Encoders, FastBackoff, sharded: false, admission: admission, hibernateAfter: hibernateAfter));
        session.Tell(new OpenSession(QuietSpec(id), 0), TestActor);
        ExpectMsg<SessionOpened>(Wait);
        var results = CreateTestProbe();
        session.Tell(new Subscribe(id, results.Ref), TestActor);
        ExpectMsg<Subscribed>(Wait);
        return (session, results, CreateTestProbe());
    }

    /// <summary>Frames of windows [from, to) in the order <paramref name="order"/> makes of them, then heartbeats past the last window.</summary>
    private static void Feed(IActorRef session, string id, int from, int to, IActorRef sender, Func<List<Frame>, IEnumerable<Frame>>? order = null)
    {
        var frames = new List<Frame>();
        for (var w = from; w < to; w++)
        {
            var item = Sample[w % Sample.Count];
            frames.AddRange(AudioFrames(id, w, item, w * 50L));
            frames.AddRange(CameraFrames(id, w, item, w * 10L));
        }
        foreach (var f in order?.Invoke(frames) ?? frames) session.Tell(f, sender);
        // Heartbeats say no frame will come before the next window: every window fed closes and is committed.
        foreach (var stream in new[] { Audio, Camera }) session.Tell(new StreamHeartbeat(id, stream, to * 1_000_000L + 100_000), sender);
    }

    private static List<FusedResult> Results(Akka.TestKit.TestProbe probe, int from, int to)
    {
        var got = new Dictionary<long, FusedResult>();
        while (got.Count < to - from)
            if (probe.FishForMessage(m => m is FusedResult, Wait) is FusedResult r && r.WindowStartUs >= from * 1_000_000L && r.WindowStartUs < to * 1_000_000L)
                got[r.WindowStartUs] = r;
        return got.OrderBy(kv => kv.Key).Select(kv => kv.Value).ToList();
    }

    private HibernateResult Hibernate(IActorRef session, string id)
    {
        session.Tell(new HibernateSession(id), TestActor);
        return ExpectMsg<HibernateResult>(Wait);
    }

    /// <summary>Asks until the session sleeps: its commit point reaches the session a moment after the results.</summary>
    private void HibernateOnceCommitted(IActorRef session, string id) =>
        AwaitAssert(() => Assert.True(Hibernate(session, id).Hibernated), Wait, TimeSpan.FromMilliseconds(50));

    private static void SameResults(IReadOnlyList<FusedResult> expected, IReadOnlyList<FusedResult> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            var (e, a) = (expected[i], actual[i]);
            Assert.Equal(e.WindowStartUs, a.WindowStartUs);
            Assert.Equal(e.Revision, a.Revision);
            Assert.Equal(e.Status, a.Status);
            Assert.Equal(e.TopClass, a.TopClass);
            Assert.Equal(e.Posterior, a.Posterior);
            Assert.Equal(e.Weights.OrderBy(kv => kv.Key), a.Weights.OrderBy(kv => kv.Key));
            Assert.Equal(e.Missing, a.Missing);
            Assert.Equal(e.Confidence, a.Confidence);
        }
    }

    /// <summary>Out of order within the bounds: the camera's frames first, and each pair of audio frames (20 ms apart, within the 50 ms out-of-orderness) swapped.</summary>
    private static IEnumerable<Frame> Reordered(List<Frame> frames)
    {
        var audio = frames.Where(f => f.StreamId == Audio).ToList();
        for (var i = 0; i + 1 < audio.Count; i += 2) (audio[i], audio[i + 1]) = (audio[i + 1], audio[i]);
        return frames.Where(f => f.StreamId == Camera).Concat(audio);
    }

    [Fact]
    public void A_woken_session_fuses_out_of_order_frames_exactly_as_a_twin_that_never_slept()
    {
        var (sleeper, sleeperResults, sleeperSender) = Open("h-sleeper");
        var (twin, twinResults, twinSender) = Open("h-twin");
        Feed(sleeper, "h-sleeper", 0, 3, sleeperSender.Ref);
        Feed(twin, "h-twin", 0, 3, twinSender.Ref);
        SameResults(Results(twinResults, 0, 3), Results(sleeperResults, 0, 3));
        HibernateOnceCommitted(sleeper, "h-sleeper");

        // Asleep, its status is the twin's: the same counters, watermark, states and results.
        sleeper.Tell(new GetSessionStatus("h-sleeper"), TestActor);
        var asleep = ExpectMsg<SessionStatus>(Wait);
        twin.Tell(new GetSessionStatus("h-twin"), TestActor);
        var awake = ExpectMsg<SessionStatus>(Wait);
        Assert.True(asleep.Open);
        Assert.Equal(awake.Streams.Select(s => (s.StreamId, s.State, s.Reliability, s.WatermarkUs, s.Counters.FramesAccepted, s.Counters.InputsEncoded)),
            asleep.Streams.Select(s => (s.StreamId, s.State, s.Reliability, s.WatermarkUs, s.Counters.FramesAccepted, s.Counters.InputsEncoded)));
        Assert.Equal(awake.Alignment!.WatermarkUs, asleep.Alignment!.WatermarkUs);
        Assert.Equal(awake.Alignment.WindowsClosed, asleep.Alignment.WindowsClosed);
        Assert.Equal(awake.Fusion!.Results, asleep.Fusion!.Results);

        // The next frames, out of order (the same order for both), wake it: seqs go on, nothing is refused, the same results.
        Feed(sleeper, "h-sleeper", 3, 6, sleeperSender.Ref, Reordered);
        Feed(twin, "h-twin", 3, 6, twinSender.Ref, Reordered);
        var expected = Results(twinResults, 3, 6);
        SameResults(expected, Results(sleeperResults, 3, 6));
        Assert.All(expected, r => Assert.Equal(FusedStatus.Fused, r.Status));
        // A refusal is answered before the frames after it are fused: none came for either session.
        Assert.False(sleeperSender.HasMessages, $"the woken session refused frames: {sleeperSender.ReceiveOne(TimeSpan.Zero)}");
        Assert.False(twinSender.HasMessages);

        // A second sleep and wake goes on the same way.
        HibernateOnceCommitted(sleeper, "h-sleeper");
        Feed(sleeper, "h-sleeper", 6, 8, sleeperSender.Ref);
        Feed(twin, "h-twin", 6, 8, twinSender.Ref);
        SameResults(Results(twinResults, 6, 8), Results(sleeperResults, 6, 8));
        Assert.False(sleeperSender.HasMessages);
    }

    [Fact]
    public void A_hibernated_session_answers_status_takes_subscriptions_and_commands_and_refuses_repeats_as_before()
    {
        var (session, _, sender) = Open("h-cmd");
        Feed(session, "h-cmd", 0, 2, sender.Ref);
        HibernateOnceCommitted(session, "h-cmd");

        // A new subscriber on the sleeping session gets the results of the frames that wake it.
        var late = CreateTestProbe();
        session.Tell(new Subscribe("h-cmd", late.Ref), TestActor);
        ExpectMsg<Subscribed>(Wait);
        HibernateOnceCommitted(session, "h-cmd");
        // An operator command wakes it too; the policy it sets holds for the windows after.
        session.Tell(new SetFusionPolicy("h-cmd", FusionPolicy.Single("audio")), TestActor);
        ExpectMsg<Status.Success>(Wait);
        HibernateOnceCommitted(session, "h-cmd");
        session.Tell(new GetSessionStatus("h-cmd"), TestActor);
        Assert.Equal(FusionPolicy.Single("audio").ToString(), ExpectMsg<SessionStatus>(Wait).Fusion!.Policy);

        // A frame it already took before it slept is still a repeat.
        session.Tell(AudioFrames("h-cmd", 1, Sample[1], 50).First(), sender.Ref);
        Assert.Equal(RejectReason.Duplicate, sender.ExpectMsg<FrameRejected>(Wait).Reason);
        Feed(session, "h-cmd", 2, 3, sender.Ref);
        var r = Results(late, 2, 3).Single();
        Assert.Equal(FusedStatus.Fused, r.Status);
        Assert.Equal("single:audio", r.Policy);
        Assert.Equal(Sample[2].Label, r.TopClass);
    }

    [Fact]
    public void A_session_with_uncommitted_frames_does_not_hibernate()
    {
        var (session, results, sender) = Open("h-pending");
        // Frames of window 0 and no heartbeat: the window stays open, its frames uncommitted.
        foreach (var f in AudioFrames("h-pending", 0, Sample[0], 0).Concat(CameraFrames("h-pending", 0, Sample[0], 0))) session.Tell(f, sender.Ref);
        session.Tell(new GetSessionStatus("h-pending"), TestActor); // after the frames: they are taken when this is answered
        ExpectMsg<SessionStatus>(Wait);
        // Asked until the encoders are done with the inputs (before that, those refuse): then the frames themselves do.
        var slept = false;
        AwaitAssert(() =>
        {
            var refused = Hibernate(session, "h-pending");
            slept |= refused.Hibernated;
            Assert.Contains("not committed", refused.Reason);
        }, Wait, TimeSpan.FromMilliseconds(50));
        Assert.False(slept);
        // Still awake, it goes on: the heartbeats close window 0, and then it may sleep.
        foreach (var stream in new[] { Audio, Camera }) session.Tell(new StreamHeartbeat("h-pending", stream, 1_100_000), sender.Ref);
        var r = Results(results, 0, 1).Single();
        Assert.Equal(Sample[0].Label, r.TopClass);
        HibernateOnceCommitted(session, "h-pending");
        Assert.False(sender.HasMessages);
    }

    [Fact]
    public void An_idle_session_hibernates_by_itself_after_its_configured_time_and_wakes_on_a_frame()
    {
        var admission = new SessionAdmission(10);
        var (session, results, sender) = Open("h-timer", admission, hibernateAfter: TimeSpan.FromMilliseconds(300));
        Feed(session, "h-timer", 0, 1, sender.Ref);
        Results(results, 0, 1);
        AwaitCondition(() => admission.Hibernated == 1, Wait);
        Feed(session, "h-timer", 1, 2, sender.Ref);
        var r = Results(results, 1, 2).Single();
        Assert.Equal(Sample[1].Label, r.TopClass);
        Assert.Equal(0, r.Revision);
        AwaitCondition(() => admission.Hibernated == 1, Wait); // woke for the frames, and slept again
        Assert.False(sender.HasMessages);
    }

    [Theory]
    [InlineData("", 10.0)]
    [InlineData("fusion.sessions.hibernate-after = 3s", 3.0)]
    [InlineData("fusion.sessions.hibernate-after = 0s", null)]
    public void Hibernate_after_is_read_from_the_configuration_with_a_default_and_zero_for_never(string hocon, double? seconds)
    {
        var options = FusionOptions.FromHocon(FusionConfig.DefaultsText + "\n" + hocon + "\n");
        Assert.Equal(seconds is { } s ? TimeSpan.FromSeconds(s) : null, options.HibernateAfter);
        Assert.Empty(options.Problems());
    }
}
