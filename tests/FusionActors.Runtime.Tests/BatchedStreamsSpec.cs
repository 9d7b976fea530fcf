using System.Diagnostics.Metrics;
using Akka.Actor;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using Xunit;
using FusionActors.Core.Streams;
using FusionActors.Core.Supervision;
using FusionActors.Core.Time;
using FusionActors.Inference;
using FusionActors.Protocol;
using FusionActors.Protocol.Specs;
using FusionActors.Runtime.Alignment;
using FusionActors.Runtime.Encoders;
using FusionActors.Runtime.Encoders.Batching;
using FusionActors.Runtime.Encoders.Chaos;
using FusionActors.Runtime.Metrics;
using FusionActors.Runtime.Streams;
using static FusionActors.Runtime.Tests.TestSessions;

namespace FusionActors.Runtime.Tests;

/// <summary>
/// Stream actors of several sessions sharing one node batcher over the real image-digits model: a poison input or
/// an encoder crash in one session neither loses nor reorders another's inputs in the same calls; a flooding session
/// does not make a real-time one wait for its turn; and the node-wide cap on pending encoder inputs refuses frames
/// with NodeFull to a stream past its share of it, so a flood cannot starve other sessions either. Probes stand in for the alignments and the clients; a manual clock holds the
/// streams' idle timeouts still.
/// </summary>
public sealed class BatchedStreamsSpec : TestKit
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private readonly ManualClock _clock = new(100_000_000);
    private readonly List<IDisposable> _owned = [];

    public BatchedStreamsSpec() : base(LocalConfig) { }

    protected override void AfterAll()
    {
        base.AfterAll();
        foreach (var d in _owned) d.Dispose();
    }

    private sealed class FixedRandom : IRandomSource
    {
        public double NextDouble() => 0;
    }

    private static StreamSpec Camera(int maxBatch = 32, int maxPending = 256) => new()
    {
        StreamId = "cam", Modality = "image", Model = "image-digits", FrameLength = 64, FrameDurationUs = 100_000,
        MaxFutureSkewUs = 3_600_000_000, MaxBatch = maxBatch, MaxPendingInputs = maxPending,
    };

    private NodeEncoding Node(BatchingOptions? batching, int maxPending = 100_000)
    {
        var node = new NodeEncoding(batching is null ? null : new EncoderBatcher(batching, TimeSpan.FromSeconds(10)), new PendingEncoderInputs(maxPending));
        _owned.Add(node);
        return node;
    }

    private IActorRef Start(string session, StreamSpec stream, IActorRef alignment, NodeEncoding node, IEncoder? encoder = null)
    {
        var spec = new SessionSpec { SessionId = session, Labels = Labels, Window = WindowSpec.Tumbling(1_000_000), Streams = [stream] };
        var resolved = TestSessions.Encoders.Resolve(stream, Labels.Length);
        resolved = resolved with { Encoder = encoder ?? resolved.Encoder, Node = node };
        return Sys.ActorOf(StreamActor.Props(session, stream, spec, alignment, resolved, FastBackoff, clockOffsetUs: 0,
            time: TimeSources.Manual(_clock, new FixedRandom())));
    }

    private static Frame F(string session, long seq, float first = -1f)
    {
        var image = (float[])Sample[(int)(seq % Sample.Count)].Image.Clone();
        if (first >= 0) image[0] = first;
        return new Frame(session, "cam", seq, seq * 100_000, image);
    }

    private static StreamStatus Status(IActorRef stream) => stream.Ask<StreamStatus>(StreamActor.GetStatus.Instance, Wait).Result;

    /// <summary>The seqs of the evidence <paramref name="alignment"/> receives until it has <paramref name="count"/>, in arrival order.</summary>
    private static List<long> EvidenceSeqs(TestProbe alignment, int count, List<LateEvidence>? late = null)
    {
        var seqs = new List<long>();
        while (seqs.Count < count)
            switch (alignment.ReceiveOne(Wait))
            {
                case AlignmentActor.EvidenceBatch b: seqs.AddRange(b.Evidence.Select(e => e.LastSeq)); break;
                case LateEvidence l: late?.Add(l); break;
                case null: throw new TimeoutException($"{seqs.Count} of {count} evidence within {Wait}");
            }
        return seqs;
    }

    [Fact]
    public void A_poison_input_of_one_session_is_quarantined_and_the_other_sessions_inputs_in_its_calls_are_all_encoded_in_order()
    {
        const float poison = 0.4242f;
        // A call takes two inputs and waits long for the second: each call pairs an input of each session.
        var node = Node(new BatchingOptions { MaxBatch = 2, MaxQueueDelay = TimeSpan.FromSeconds(1), Threads = 1 });
        var shared = new PoisonInputEncoder(TestSessions.Encoders.Resolve(Camera(), 10).Encoder, v => v.Span[0] == poison);
        var (alignA, alignB, client) = (CreateTestProbe(), CreateTestProbe(), CreateTestProbe());
        var a = Start("a", Camera(maxBatch: 1), alignA.Ref, node, shared);
        var b = Start("b", Camera(maxBatch: 1), alignB.Ref, node, shared);
        for (var seq = 0; seq < 10; seq++)
        {
            a.Tell(F("a", seq, seq == 4 ? poison : -1f), client.Ref);
            b.Tell(F("b", seq), client.Ref);
        }
        var late = new List<LateEvidence>();
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i), EvidenceSeqs(alignB, 10));
        Assert.Equal(new long[] { 0, 1, 2, 3, 5, 6, 7, 8, 9 }, EvidenceSeqs(alignA, 9, late));
        while (late.Count == 0 && alignA.ReceiveOne(Wait) is { } m) if (m is LateEvidence l) late.Add(l);
        Assert.Equal((4L, LateMark.Quarantined), (late[0].LastSeq, LateMarks.FromWindowEndUs(late[0].WindowEndUs)));
        var (ca, cb) = (Status(a).Counters, Status(b).Counters);
        Assert.Equal((3L, 1L, 9L), (ca.EncoderFailures, ca.Quarantined, ca.InputsEncoded));
        Assert.Equal((0L, 0L, 10L), (cb.EncoderFailures, cb.Quarantined, cb.InputsEncoded));
        // The poison failed a call it shared with session b at least once, and b's input in it was run again alone.
        Assert.True(node.Batcher!.Stats().IsolatedCalls > 0, $"no shared call failed: {node.Batcher.Stats()}");
    }

    [Fact]
    public void An_encoder_crash_in_one_session_loses_and_reorders_nothing_of_another_session_sharing_its_calls()
    {
        var node = Node(new BatchingOptions { MaxBatch = 8, MaxQueueDelay = TimeSpan.FromMilliseconds(5), Threads = 2 });
        var (alignA, alignB, client) = (CreateTestProbe(), CreateTestProbe(), CreateTestProbe());
        var a = Start("a", Camera(maxBatch: 4), alignA.Ref, node);
        var b = Start("b", Camera(maxBatch: 4), alignB.Ref, node);
        for (var seq = 0; seq < 40; seq++)
        {
            if (seq == 20)
            {
                a.Tell(new CrashEncoder("a", "cam"), client.Ref);
                client.ExpectMsg<Akka.Actor.Status.Success>(Wait);
            }
            a.Tell(F("a", seq), client.Ref);
            b.Tell(F("b", seq), client.Ref);
        }
        var expected = Enumerable.Range(0, 40).Select(i => (long)i).ToList();
        Assert.Equal(expected, EvidenceSeqs(alignB, 40));
        Assert.Equal(expected, EvidenceSeqs(alignA, 40));
        var (ca, cb) = (Status(a).Counters, Status(b).Counters);
        Assert.Equal((1L, 1L, 40L), (ca.EncoderFailures, ca.EncoderRestarts, ca.InputsEncoded));
        Assert.Equal((0L, 40L), (cb.EncoderFailures, cb.InputsEncoded));
    }

    [Fact]
    public void A_model_call_that_hangs_in_one_session_fails_by_its_deadline_and_quarantines_while_another_session_keeps_its_threads()
    {
        const float stall = 0.3131f;
        // At half the deadline a stalled shared call's requests run again alone: a second of slack for a loaded machine.
        var deadline = TimeSpan.FromSeconds(2);
        // One thread: without replacing a stalled one, session b would wait for every stall of session a.
        var node = new NodeEncoding(new EncoderBatcher(new BatchingOptions { MaxBatch = 8, MaxQueueDelay = TimeSpan.Zero, Threads = 1, MaxStalledThreads = 4 }, deadline),
            new PendingEncoderInputs(100_000));
        _owned.Add(node);
        var release = new ManualResetEventSlim(false);
        _owned.Add(release);
        var image = TestSessions.Encoders.Resolve(Camera(), 10).Encoder;
        var stalling = new HeldEncoder(image, release, v => v.Span[0] == stall);
        var (alignA, alignB, client) = (CreateTestProbe(), CreateTestProbe(), CreateTestProbe());
        var backoff = FastBackoff with { EncodeDeadline = deadline };
        var a = StartTimed("a", Camera(maxBatch: 1), alignA.Ref, node, stalling, backoff);
        var b = StartTimed("b", Camera(maxBatch: 1), alignB.Ref, node, stalling, backoff);
        a.Tell(F("a", 0), client.Ref);
        a.Tell(F("a", 1, stall), client.Ref);
        a.Tell(F("a", 2), client.Ref);
        for (var seq = 0; seq < 20; seq++) b.Tell(F("b", seq), client.Ref);
        // b's inputs are all encoded, in order, while a's hung input holds thread after thread.
        Assert.Equal(Enumerable.Range(0, 20).Select(i => (long)i), EvidenceSeqs(alignB, 20));
        var late = new List<LateEvidence>();
        Assert.Equal([0L, 2L], EvidenceSeqs(alignA, 2, late));
        while (late.Count == 0 && alignA.ReceiveOne(Wait) is { } m) if (m is LateEvidence l) late.Add(l);
        Assert.Equal((1L, LateMark.Quarantined), (late[0].LastSeq, LateMarks.FromWindowEndUs(late[0].WindowEndUs)));
        Assert.Equal((3L, 1L), (Status(a).Counters.EncoderFailures, Status(a).Counters.Quarantined));
        Assert.Equal(0L, Status(b).Counters.EncoderFailures);
        Assert.True(node.Batcher!.Stats().ThreadsReplaced >= 1, node.Batcher.Stats().ToString());
        release.Set();
    }

    /// <summary>A stream on the system clock, so its encode deadline runs in real time.</summary>
    private IActorRef StartTimed(string session, StreamSpec stream, IActorRef alignment, NodeEncoding node, IEncoder encoder, BackoffPolicy backoff)
    {
        var spec = new SessionSpec { SessionId = session, Labels = Labels, Window = WindowSpec.Tumbling(1_000_000), Streams = [stream] };
        var resolved = TestSessions.Encoders.Resolve(stream, Labels.Length) with { Node = node };
        resolved = resolved with { Encoder = encoder };
        return Sys.ActorOf(StreamActor.Props(session, stream, spec, alignment, resolved, backoff, clockOffsetUs: 0));
    }

    [Fact]
    public void A_flooding_session_with_a_huge_batch_does_not_make_a_real_time_session_wait_for_its_turn()
    {
        // One thread, so every request competes for it; the flood asks for batches of 1024.
        var node = Node(new BatchingOptions { MaxBatch = 32, MaxQueueDelay = TimeSpan.Zero, Threads = 1, MaxInFlightPerSession = 32 });
        var (alignG, alignN, client) = (CreateTestProbe(), CreateTestProbe(), CreateTestProbe());
        var greedy = Start("greedy", Camera(maxBatch: 1024, maxPending: 65_536), alignG.Ref, node);
        var normal = Start("normal", Camera(maxBatch: 1), alignN.Ref, node);
        const int flood = 20_000;
        for (var seq = 0; seq < flood; seq++) greedy.Tell(F("greedy", seq), client.Ref);
        // The real-time session sends a frame when its last one's evidence is back, as a 10 fps camera would.
        for (var seq = 0; seq < 10; seq++)
        {
            normal.Tell(F("normal", seq), client.Ref);
            Assert.Equal([(long)seq], EvidenceSeqs(alignN, 1));
        }
        // Every request, the flood's included, went into the first call formed after it arrived.
        Assert.Equal(0, node.Batcher!.Stats().MaxCallsWaited);
        Assert.Equal(Enumerable.Range(0, flood).Select(i => (long)i), EvidenceSeqs(alignG, flood));
        Assert.Equal(0, node.Batcher.Stats().MaxCallsWaited);
    }

    [Fact]
    public void At_the_node_cap_on_pending_encoder_inputs_a_stream_past_its_share_gets_NodeFull_counted_and_may_send_the_frame_again()
    {
        long nodeFullMeasured = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (i, l) =>
        {
            if (i.Meter.Name == FusionMetrics.MeterName && i.Name == "fusion.frames.rejected") l.EnableMeasurementEvents(i);
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            string? modality = null, reason = null;
            foreach (var t in tags)
                if (t.Key == "modality") modality = t.Value as string;
                else if (t.Key == "reason") reason = t.Value as string;
            if (modality == "nodefull-spec" && reason == nameof(RejectReason.NodeFull)) Interlocked.Add(ref nodeFullMeasured, value);
        });
        listener.Start();

        var gate = new ManualResetEventSlim(false);
        var node = Node(batching: null, maxPending: 4);
        var stream = Camera() with { Modality = "nodefull-spec" };
        var held = new HeldEncoder(TestSessions.Encoders.Resolve(stream, 10).Encoder, gate);
        var (alignA, alignB, clientA, clientB) = (CreateTestProbe(), CreateTestProbe(), CreateTestProbe(), CreateTestProbe());
        var a = Start("a", stream, alignA.Ref, node, held);
        var b = Start("b", stream, alignB.Ref, node, held);
        // Session a floods: one input in the encoder (held), three waiting: the node holds its 4, all of them a's.
        for (var seq = 0; seq < 4; seq++) a.Tell(F("a", seq), clientA.Ref);
        Assert.Equal(4, Status(a).PendingInputs);
        Assert.Equal((4L, 1), (node.Pending.Count, node.Pending.Holders));
        a.Tell(F("a", 4), clientA.Ref);
        var ra = clientA.ExpectMsg<FrameRejected>(Wait);
        Assert.Equal((4L, RejectReason.NodeFull), (ra.Seq, ra.Reason));
        Assert.Contains("4 pending encoder inputs", ra.Detail);
        // Session b holds less than its share (4 over the streams holding inputs): it is not starved by a's flood. Once
        // it holds 4 (streams count in steps of 4) the node holds twice its cap and b is past its new share of 2.
        for (var seq = 0; seq < 5; seq++) b.Tell(F("b", seq), clientB.Ref);
        var rb = clientB.ExpectMsg<FrameRejected>(Wait);
        Assert.Equal((4L, RejectReason.NodeFull), (rb.Seq, rb.Reason));
        Assert.Equal((8L, 2), (node.Pending.Count, node.Pending.Holders));
        a.Tell(F("a", 4), clientA.Ref);
        Assert.Equal(4L, clientA.ExpectMsg<FrameRejected>(Wait).Seq);
        Assert.Equal((2L, 1L), (Status(a).Counters.Rejected[RejectReason.NodeFull], Status(b).Counters.Rejected[RejectReason.NodeFull]));
        Assert.Equal(3L, Interlocked.Read(ref nodeFullMeasured));

        // The encoder answers: the node has room again, and the refused frames are taken when sent again (their seqs were not used).
        gate.Set();
        Assert.Equal([0L, 1L, 2L, 3L], EvidenceSeqs(alignA, 4));
        Assert.Equal([0L, 1L, 2L, 3L], EvidenceSeqs(alignB, 4));
        AwaitAssert(() => Assert.Equal((0L, 0), (node.Pending.Count, node.Pending.Holders)), Wait);
        a.Tell(F("a", 4), clientA.Ref);
        b.Tell(F("b", 4), clientB.Ref);
        Assert.Equal([4L], EvidenceSeqs(alignA, 1));
        Assert.Equal([4L], EvidenceSeqs(alignB, 1));

        // A stream that stops gives its inputs back to the node.
        gate.Reset();
        for (var seq = 5; seq < 9; seq++) a.Tell(F("a", seq), clientA.Ref);
        Assert.Equal(4, Status(a).PendingInputs);
        Assert.Equal(4L, node.Pending.Count);
        Watch(a);
        Sys.Stop(a);
        gate.Set();
        ExpectTerminated(a, Wait);
        Assert.Equal((0L, 0), (node.Pending.Count, node.Pending.Holders));
    }

    /// <summary>Holds every call (with a marked input, when given) in the model while the gate is closed.</summary>
    private sealed class HeldEncoder(IEncoder inner, ManualResetEventSlim gate, Func<ReadOnlyMemory<float>, bool>? holds = null) : FaultyEncoder(inner)
    {
        public override IReadOnlyList<EncoderOutput> Encode(IReadOnlyList<ReadOnlyMemory<float>> inputs)
        {
            if (holds is null || inputs.Any(v => holds(v)))
                gate.Wait(TimeSpan.FromSeconds(60)); // bounded: a failing spec cannot leave a thread blocked for good
            return Inner.Encode(inputs);
        }
    }
}
