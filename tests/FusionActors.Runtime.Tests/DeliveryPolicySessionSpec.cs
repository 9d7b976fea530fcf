using Akka.Actor;
using Akka.TestKit.Xunit2;
using Xunit;
using FusionActors.Core.Time;
using FusionActors.Inference;
using FusionActors.Protocol;
using FusionActors.Protocol.Specs;
using FusionActors.Runtime.Alignment;
using FusionActors.Runtime.Encoders;
using FusionActors.Runtime.Encoders.Chaos;
using FusionActors.Runtime.Sessions;
using FusionActors.Runtime.Streams;
using static FusionActors.Runtime.Tests.TestSessions;

namespace FusionActors.Runtime.Tests;

/// <summary>
/// The delivery policies through the real actors (session, streams, encoders, alignment, fusion), with a
/// <see cref="ManualClock"/> as the node's clock so a spec decides how far behind the node is when each frame is
/// taken: a driven overload. Under latency-constrained delivery the low-priority stream is shed first and the
/// high-priority one only when it is over its own budget too; the counts are exact; every window closes (without the
/// shed modality, or with no evidence) and commits, and the session goes on once the overload is over. Under lossless
/// delivery the same drive sheds nothing.
/// </summary>
public sealed class DeliveryPolicySessionSpec() : TestKit(LocalConfig)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private const long Ms = 1_000;
    private const long T0 = 10_000_000; // the clock at open and the session's start: windows are counted from here
    private const long WindowUs = 100 * Ms;
    private const long BudgetUs = 200 * Ms; // the low-priority stream has half: 100 ms
    private const int FramesPerWindow = 3;

    private static SessionSpec Spec(string id, DeliveryPolicy delivery) => new()
    {
        SessionId = id,
        Labels = Labels,
        StartUs = T0,
        Window = WindowSpec.Tumbling(WindowUs),
        Delivery = delivery,
        LatencyBudgetUs = BudgetUs,
        Streams =
        [
            new StreamSpec { StreamId = "hi", Modality = "imu", Model = "noop", FrameLength = 4, MaxOutOfOrdernessUs = 0, Priority = 1, MaxFutureSkewUs = 3_600_000_000 },
            new StreamSpec { StreamId = "lo", Modality = "image", Model = "noop", FrameLength = 4, MaxOutOfOrdernessUs = 0, Priority = 0, MaxFutureSkewUs = 3_600_000_000 },
        ],
    };

    /// <summary>
    /// How far behind the node is (the clock past a window's newest frame) when the window's frames are taken: on
    /// time, then 130 ms (over the low stream's 100 ms, under the high one's 200 ms), then 300 ms (over both), then, after
    /// three windows without frames, on time again.
    /// </summary>
    private static readonly (int Window, long LagUs)[] Drive =
    [
        (0, 0), (1, 0), (2, 0), (3, 0),
        (4, 130 * Ms), (5, 130 * Ms), (6, 130 * Ms), (7, 130 * Ms),
        (8, 300 * Ms), (9, 300 * Ms),
        (13, 0), (14, 0),
    ];

    private const int Windows = 15;

    private sealed record Outcome(Dictionary<long, FusedResult> Results, SessionStatus Status);

    private Outcome Run(string id, DeliveryPolicy delivery)
    {
        var clock = new ManualClock(T0);
        var session = Sys.ActorOf(SessionActor.Props(id, TestSessions.Encoders, FastBackoff, sharded: false, time: TimeSources.Manual(clock)));
        var spec = Spec(id, delivery);
        session.Tell(new OpenSession(spec, T0), TestActor);
        ExpectMsg<SessionOpened>(Wait);
        var results = CreateTestProbe();
        session.Tell(new Subscribe(id, results.Ref), TestActor);
        ExpectMsg<Subscribed>(Wait);

        var sent = 0L;
        foreach (var (w, lag) in Drive)
        {
            var start = T0 + w * WindowUs;
            clock.Set(start + (FramesPerWindow - 1) * Ms + lag);
            for (var j = 0; j < FramesPerWindow; j++)
                foreach (var stream in new[] { "hi", "lo" })
                    session.Tell(new Frame(id, stream, sent + j, start + j * Ms, [0.1f, 0.2f, 0.3f, 0.4f]), TestActor);
            sent += FramesPerWindow;
            // Each window's frames are taken and encoded before the clock moves on (the streams read it when they take a
            // frame, send a batch and hear back).
            var expected = sent;
            AwaitAssert(() => Assert.All(Status(session, id).Streams, s =>
            {
                Assert.Equal(expected, s.Counters.FramesIn);
                Assert.Equal(0, s.PendingInputs);
            }), Wait, TimeSpan.FromMilliseconds(20));
        }
        foreach (var stream in new[] { "hi", "lo" }) session.Tell(new CloseStream(id, stream), TestActor);

        var byWindow = new Dictionary<long, FusedResult>();
        while (byWindow.Count < Windows)
        {
            // The subscriber hears the commits too.
            if (results.ReceiveOne(Wait) is FusedResult { Revision: 0 } r) byWindow[(r.WindowStartUs - T0) / WindowUs] = r;
        }
        SessionStatus status = null!;
        AwaitAssert(() =>
        {
            status = Status(session, id);
            Assert.True(status.Alignment!.CommittedThroughUs >= T0 + Windows * WindowUs, $"committed through {status.Alignment.CommittedThroughUs}");
        }, Wait, TimeSpan.FromMilliseconds(50));
        return new Outcome(byWindow, status);
    }

    private SessionStatus Status(IActorRef session, string id)
    {
        session.Tell(new GetSessionStatus(id), TestActor);
        return ExpectMsg<SessionStatus>(Wait);
    }

    private static StreamCounters Counters(SessionStatus s, string stream) => s.Streams.Single(t => t.StreamId == stream).Counters;

    [Fact]
    public void Under_latency_constrained_delivery_the_low_priority_stream_is_shed_first_and_every_window_closes_and_commits()
    {
        var (results, status) = Run("dp-constrained", DeliveryPolicy.LatencyConstrained);

        // Exact counts: the low stream loses the frames of the 130 ms and 300 ms windows, the high one only the 300 ms ones.
        var lo = Counters(status, "lo");
        var hi = Counters(status, "hi");
        Assert.Equal(FramesPerWindow * 6, lo.FramesShedOverBudget);
        Assert.Equal(FramesPerWindow * 2, hi.FramesShedOverBudget);
        Assert.Equal(0, lo.InputsShedOverBudget + hi.InputsShedOverBudget); // the no-op encoder keeps no queue
        Assert.Equal(FramesPerWindow * Drive.Length, lo.FramesAccepted); // taken, not refused
        Assert.Equal(0, lo.RejectedTotal + hi.RejectedTotal);
        Assert.Equal(FramesPerWindow * (Drive.Length - 6), lo.InputsEncoded);
        Assert.Equal(FramesPerWindow * (Drive.Length - 2), hi.InputsEncoded);

        // Every window closed: on time with both, the high stream alone while only the low one was over its budget, no
        // evidence while both were (or no frame came), and both again once the node caught up.
        Assert.Equal(Windows, results.Count);
        foreach (var w in new[] { 0, 1, 2, 3, 13, 14 })
        {
            Assert.Equal(FusedStatus.Fused, results[w].Status);
            Assert.Empty(results[w].Missing);
        }
        foreach (var w in new[] { 4, 5, 6, 7 })
        {
            Assert.Equal(FusedStatus.Fused, results[w].Status);
            Assert.Equal(["image"], results[w].Missing);
        }
        foreach (var w in new[] { 8, 9, 10, 11, 12 }) Assert.Equal(FusedStatus.NoEvidence, results[w].Status);
    }

    [Fact]
    public void Under_lossless_delivery_the_same_overload_sheds_nothing()
    {
        var (results, status) = Run("dp-lossless", DeliveryPolicy.Lossless);
        foreach (var stream in new[] { "hi", "lo" })
        {
            var c = Counters(status, stream);
            Assert.Equal(0, c.FramesShedOverBudget + c.InputsShedOverBudget + c.InputsShed);
            Assert.Equal(FramesPerWindow * Drive.Length, c.InputsEncoded);
        }
        Assert.Equal(Windows, results.Count);
        foreach (var (w, _) in Drive)
        {
            Assert.Equal(FusedStatus.Fused, results[w].Status);
            Assert.Empty(results[w].Missing);
        }
    }

    /// <summary>Holds every batch whose first input starts with <paramref name="holdOn"/> until the spec opens the gate.</summary>
    private sealed class GatedEncoder(IEncoder inner, float holdOn, ManualResetEventSlim gate) : FaultyEncoder(inner)
    {
        public override IReadOnlyList<EncoderOutput> Encode(IReadOnlyList<ReadOnlyMemory<float>> inputs)
        {
            if (inputs.Count > 0 && inputs[0].Span[0] == holdOn) gate.Wait(TimeSpan.FromSeconds(30)); // bounded: a failing spec frees the thread
            return Inner.Encode(inputs);
        }
    }

    private StreamStatus StatusOf(IActorRef stream)
    {
        stream.Tell(StreamActor.GetStatus.Instance, TestActor);
        return ExpectMsg<StreamStatus>(Wait);
    }

    [Fact]
    public void Inputs_that_waited_behind_a_slow_batch_past_their_budget_are_shed_oldest_first_when_their_turn_comes()
    {
        using var gate = new ManualResetEventSlim(false);
        var clock = new ManualClock(T0);
        var alignment = CreateTestProbe();
        var stream = new StreamSpec
        {
            StreamId = "cam", Modality = "image", Model = "noop", FrameLength = 4, MaxOutOfOrdernessUs = 0, MaxFutureSkewUs = 3_600_000_000,
            MaxBatch = 1,
        };
        var spec = new SessionSpec
        {
            SessionId = "dp-queue", Labels = Labels, Window = WindowSpec.Tumbling(WindowUs), Streams = [stream],
            Delivery = DeliveryPolicy.LatencyConstrained, LatencyBudgetUs = 50 * Ms,
        };
        IEncoder encoder = new GatedEncoder(new NoOpEncoder(4, Labels.Length), 7f, gate);
        var actor = Sys.ActorOf(StreamActor.Props("dp-queue", stream, spec, alignment.Ref, new ResolvedEncoder(encoder, 1.0), FastBackoff,
            clockOffsetUs: 0, time: TimeSources.Manual(clock)));

        // Two inputs on time first: batches that take no time on the node's clock (the expected encode time is 0).
        for (var i = 0; i < 2; i++) actor.Tell(new Frame("dp-queue", "cam", i, T0, [1f, 0, 0, 0]), TestActor);
        AwaitAssert(() => Assert.Equal(2, StatusOf(actor).Counters.InputsEncoded), Wait, TimeSpan.FromMilliseconds(20));
        // The next input holds the encoder; five more queue behind it, 10 ms apart, all on time when taken.
        // Each is taken before the clock moves on: the stream reads the clock when it takes a frame and sends a batch.
        actor.Tell(new Frame("dp-queue", "cam", 2, T0, [7f, 0, 0, 0]), TestActor);
        AwaitAssert(() => Assert.Equal(1, StatusOf(actor).PendingInputs), Wait, TimeSpan.FromMilliseconds(20));
        for (var i = 1; i <= 5; i++)
        {
            clock.Set(T0 + i * 10 * Ms);
            actor.Tell(new Frame("dp-queue", "cam", 2 + i, T0 + i * 10 * Ms, [1f, 0, 0, 0]), TestActor);
            var taken = 3 + i;
            AwaitAssert(() => Assert.Equal(taken, StatusOf(actor).Counters.FramesAccepted), Wait, TimeSpan.FromMilliseconds(20));
        }
        AwaitAssert(() =>
        {
            var s = StatusOf(actor);
            Assert.Equal(8, s.Counters.FramesAccepted);
            Assert.Equal(6, s.PendingInputs);
        }, Wait, TimeSpan.FromMilliseconds(20));

        // The held batch comes back at 70 ms: the expected encode time becomes 0.2 x 70 = 14 ms, so an input due before
        // 70 + 14 - 50 = 34 ms is over its budget: those at 10, 20 and 30 ms are shed, those at 40 and 50 ms encoded.
        clock.Set(T0 + 70 * Ms);
        gate.Set();
        AwaitAssert(() =>
        {
            var s = StatusOf(actor);
            Assert.Equal(3, s.Counters.InputsShedOverBudget);
            Assert.Equal(0, s.Counters.FramesShedOverBudget);
            Assert.Equal(5, s.Counters.InputsEncoded); // two before, the held one and the two kept
            Assert.Equal(0, s.PendingInputs);
            // Nothing waits for what was shed: the stream's evidence is complete through its newest frame.
            Assert.True(s.CompleteThroughUs >= T0 + 50 * Ms, $"complete through {s.CompleteThroughUs}");
        }, Wait, TimeSpan.FromMilliseconds(20));
        var encoded = new List<long>();
        alignment.FishForMessage(m =>
        {
            if (m is AlignmentActor.EvidenceBatch b) encoded.AddRange(b.Evidence.Select(e => e.StartUs));
            return encoded.Count == 5;
        }, Wait);
        Assert.Equal([T0, T0, T0, T0 + 40 * Ms, T0 + 50 * Ms], encoded);
    }
}
