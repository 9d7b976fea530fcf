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
using FusionActors.Runtime.Encoders.Chaos;
using FusionActors.Runtime.Metrics;
using FusionActors.Runtime.Streams;
using static FusionActors.Runtime.Tests.TestSessions;

namespace FusionActors.Runtime.Tests;

/// <summary>
/// One stream actor alone: probes stand in for its alignment and its session, a no-inference encoder (with drill
/// faults) for its model, and a <see cref="ManualClock"/> for wall and monotonic time, so timeouts happen when a spec
/// moves the clock, not when the machine is slow.
/// </summary>
public sealed class StreamActorSpec : TestKit
{
    private const string Session = "stream-spec";
    private const long StartUs = 100_000_000; // the clock starts at 100 s; frames are at 0..10 s of session time
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private readonly ManualClock _clock = new(StartUs);
    private readonly ManualResetEventSlim _gate = new(false);
    private readonly TestProbe _alignment;
    private readonly TestProbe _client;

    public StreamActorSpec() : base(LocalConfig)
    {
        _alignment = CreateTestProbe();
        _client = CreateTestProbe();
    }

    private sealed class FixedRandom(double u) : IRandomSource
    {
        public double NextDouble() => u;
    }

    /// <summary>Holds every batch with an input whose first value is <paramref name="holdOn"/> until the spec opens the gate.</summary>
    private sealed class GatedEncoder(IEncoder inner, float holdOn, ManualResetEventSlim gate) : FaultyEncoder(inner)
    {
        public override IReadOnlyList<EncoderOutput> Encode(IReadOnlyList<ReadOnlyMemory<float>> inputs)
        {
            for (var i = 0; i < inputs.Count; i++)
                if (inputs[i].Span[0] == holdOn)
                {
                    // Bounded, so a failing spec cannot leave a thread blocked; the specs open it themselves.
                    gate.Wait(TimeSpan.FromSeconds(30));
                    break;
                }
            return Inner.Encode(inputs);
        }
    }

    private const float Hold = 7f, Poison = 666f;

    private static StreamSpec Stream(string modality, int maxPending = 256, OverflowPolicy overflow = OverflowPolicy.DropOldest,
        TimeSpan? idle = null) => new()
    {
        StreamId = "cam", Modality = modality, Model = "noop", FrameLength = 4, FrameDurationUs = 100_000,
        MaxFutureSkewUs = 3_600_000_000, MaxPendingInputs = maxPending, Overflow = overflow, IdleTimeout = idle ?? TimeSpan.FromSeconds(2),
    };

    private IActorRef Start(StreamSpec stream, BackoffPolicy? backoff = null)
    {
        var session = new SessionSpec { SessionId = Session, Labels = Labels, Window = WindowSpec.Tumbling(1_000_000), Streams = [stream] };
        IEncoder encoder = new PoisonInputEncoder(new GatedEncoder(new NoOpEncoder(4, Labels.Length), Hold, _gate), v => v.Span[0] == Poison);
        var props = StreamActor.Props(Session, stream, session, _alignment.Ref, new ResolvedEncoder(encoder, 1.0), backoff ?? FastBackoff,
            clockOffsetUs: 0, time: TimeSources.Manual(_clock, new FixedRandom(0)));
        return Sys.ActorOf(props);
    }

    private static Frame F(long seq, float value = 1f) => new(Session, "cam", seq, seq * 100_000, [value, 0, 0, 0]);

    private void Send(IActorRef stream, Frame frame) => stream.Tell(frame, _client.Ref);

    private StreamStatus Status(IActorRef stream) => stream.Ask<StreamStatus>(StreamActor.GetStatus.Instance, Wait).Result;

    private AlignmentActor.EvidenceBatch NextEvidence() =>
        (AlignmentActor.EvidenceBatch)_alignment.FishForMessage(m => m is AlignmentActor.EvidenceBatch { Evidence.Count: > 0 }, Wait);

    private AlignmentActor.StreamHealthChanged NextHealth(StreamState state) =>
        (AlignmentActor.StreamHealthChanged)_alignment.FishForMessage(m => m is AlignmentActor.StreamHealthChanged h && h.State == state, Wait);

    /// <summary>What reaches the alignment within <paramref name="within"/>: for specs that something does not happen.</summary>
    private List<object> AlignmentMessagesFor(TimeSpan within) => _alignment.ReceiveWhile(within, m => m).ToList();

    private static long[] Seqs(AlignmentActor.EvidenceBatch b) => b.Evidence.Select(e => e.LastSeq).ToArray();

    [Fact]
    public void A_repeated_seq_is_refused_as_a_duplicate_and_counted()
    {
        var stream = Start(Stream("dedupe"));
        Send(stream, F(0));
        Send(stream, F(0));
        var rejected = _client.ExpectMsg<FrameRejected>(Wait);
        Assert.Equal((0L, RejectReason.Duplicate), (rejected.Seq, rejected.Reason));
        Assert.Equal([0L], Seqs(NextEvidence()));
        var counters = Status(stream).Counters;
        Assert.Equal((2L, 1L, 1L), (counters.FramesIn, counters.FramesAccepted, counters.Rejected[RejectReason.Duplicate]));
    }

    [Theory]
    [InlineData(OverflowPolicy.DropNewest, new long[] { 1, 2 })]
    [InlineData(OverflowPolicy.DropOldest, new long[] { 3, 4 })]
    public void Inputs_past_the_cap_are_shed_by_the_overflow_policy_and_counted_once_in_status_and_metrics(OverflowPolicy overflow, long[] kept)
    {
        var modality = "overflow-" + overflow;
        long shedMeasured = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (i, l) =>
        {
            if (i.Meter.Name == FusionMetrics.MeterName && i.Name == "fusion.inputs.shed") l.EnableMeasurementEvents(i);
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var t in tags)
                if (t.Key == "modality" && (string?)t.Value == modality) Interlocked.Add(ref shedMeasured, value);
        });
        listener.Start();

        var stream = Start(Stream(modality, maxPending: 2, overflow));
        Send(stream, F(0, Hold)); // in the encoder until the gate opens
        for (var s = 1; s <= 4; s++) Send(stream, F(s));
        var status = Status(stream);
        Assert.Equal(3, status.PendingInputs);
        Assert.Equal(2, status.Counters.InputsShed);
        _gate.Set();
        Assert.Equal([0L], Seqs(NextEvidence()));
        Assert.Equal(kept, Seqs(NextEvidence()));
        Assert.Equal(2, Interlocked.Read(ref shedMeasured));
        Assert.Equal(3, Status(stream).Counters.InputsEncoded);
    }

    [Fact]
    public void A_failed_batch_is_retried_input_by_input_and_the_poison_input_is_quarantined()
    {
        var stream = Start(Stream("retry"));
        Send(stream, F(0, Hold));
        Send(stream, F(1));
        Send(stream, F(2, Poison));
        Send(stream, F(3));
        _gate.Set(); // frame 0 is encoded; then 1..3 go as one batch and crash the encoder on 2
        Assert.Equal([0L], Seqs(NextEvidence()));
        Assert.Equal([1L], Seqs(NextEvidence())); // retried alone: the good input is not blamed
        var late = (LateEvidence)_alignment.FishForMessage(m => m is LateEvidence, Wait);
        Assert.Equal((2L, 200_000L, LateMark.Quarantined), (late.LastSeq, late.StartUs, LateMarks.FromWindowEndUs(late.WindowEndUs)));
        Assert.Equal([3L], Seqs(NextEvidence()));
        var c = Status(stream).Counters;
        Assert.Equal((3L, 3L, 1L, 3L, 3L), (c.EncoderFailures, c.EncoderRestarts, c.Quarantined, c.InputsEncoded, c.Batches));
        Assert.Equal(StreamState.Active, Status(stream).State);
    }

    [Fact]
    public void A_batch_past_the_encode_deadline_on_the_clock_counts_as_a_failure()
    {
        var deadline = TimeSpan.FromMilliseconds(100);
        var stream = Start(Stream("deadline"), FastBackoff with { EncodeDeadline = deadline });
        Send(stream, F(0, Hold));
        // The deadline timer fires every 100 ms of real time, but the clock has not moved: the encoder is not late.
        Assert.DoesNotContain(AlignmentMessagesFor(TimeSpan.FromMilliseconds(400)), m => m is AlignmentActor.StreamHealthChanged);
        Assert.Equal(0, Status(stream).Counters.EncoderFailures);

        _clock.Advance(deadline);
        var down = NextHealth(StreamState.Restarting);
        Assert.StartsWith("encoder failed; restart in 20 ms", down.Reason); // fixed jitter: the backoff's minimum
        NextHealth(StreamState.Active); // restarted; the input is retried alone (and held again)
        Assert.Equal(1, Status(stream).Counters.EncoderFailures);
        _gate.Set();
        Assert.Equal([0L], Seqs(NextEvidence()));
        var c = Status(stream).Counters;
        Assert.Equal((1L, 1L, 1L), (c.EncoderFailures, c.EncoderRestarts, c.InputsEncoded)); // the stalled call's late answer is ignored
    }

    [Fact]
    public void A_stream_goes_idle_when_the_clock_passes_its_idle_timeout_and_wakes_on_a_frame()
    {
        var idle = TimeSpan.FromMilliseconds(200); // checked every 50 ms of real time
        var stream = Start(Stream("idle", idle: idle));
        Send(stream, F(0));
        Assert.DoesNotContain(AlignmentMessagesFor(TimeSpan.FromMilliseconds(300)), m => m is AlignmentActor.StreamHealthChanged);
        Assert.Equal(StreamState.Active, Status(stream).State);

        _clock.Advance(idle);
        Assert.Equal("no frame or heartbeat for 200 ms", NextHealth(StreamState.Idle).Reason);
        Send(stream, F(1));
        Assert.Equal("a frame arrived", NextHealth(StreamState.Active).Reason);
    }

    [Fact]
    public void A_chaos_drill_drops_frames_until_the_clock_passes_its_end()
    {
        var stream = Start(Stream("drill"));
        stream.Tell(new DropFrames(Session, "cam", TimeSpan.FromSeconds(1)), _client.Ref);
        _client.ExpectMsg<Akka.Actor.Status.Success>(Wait);
        Send(stream, F(0));
        Assert.Equal(RejectReason.ChaosDropped, _client.ExpectMsg<FrameRejected>(Wait).Reason);
        _clock.Advance(TimeSpan.FromSeconds(1));
        Send(stream, F(1));
        Assert.Equal([1L], Seqs(NextEvidence()));
        var c = Status(stream).Counters;
        Assert.Equal((2L, 1L, 1L), (c.FramesIn, c.FramesAccepted, c.Rejected[RejectReason.ChaosDropped]));
    }

    [Fact]
    public void A_frame_far_ahead_of_the_wall_clock_is_refused_until_the_clock_catches_up()
    {
        var stream = Start(Stream("skew") with { MaxFutureSkewUs = 1_000_000 });
        var ahead = new Frame(Session, "cam", 0, StartUs + 2_000_000, [1f, 0, 0, 0]);
        Send(stream, ahead);
        Assert.Equal(RejectReason.TooFarInFuture, _client.ExpectMsg<FrameRejected>(Wait).Reason);
        _clock.Advance(TimeSpan.FromSeconds(1));
        Send(stream, ahead);
        Assert.Equal([0L], Seqs(NextEvidence()));
    }

    protected override void Dispose(bool disposing)
    {
        _gate.Set(); // frees any encoder call still held
        base.Dispose(disposing);
    }
}
