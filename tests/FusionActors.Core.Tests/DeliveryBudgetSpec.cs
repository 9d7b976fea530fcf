using FusionActors.Core.Specs;
using FusionActors.Core.Streams;
using FusionActors.Protocol.Specs;

using static FusionActors.Core.Tests.TestData;

namespace FusionActors.Core.Tests;

/// <summary>
/// The latency-constrained delivery's rule (<see cref="DeliveryBudget"/>): when an item is due, when it is shed, how
/// priorities share the budget, how the encoder queue sheds its oldest inputs; and the spec fields' validation.
/// </summary>
public class DeliveryBudgetSpec
{
    private static SessionSpec Constrained(long budgetUs, params StreamSpec[] streams) =>
        Session(streams) with { Delivery = DeliveryPolicy.LatencyConstrained, LatencyBudgetUs = budgetUs };

    private static EncoderInput Input(long startUs, long endUs = -1) =>
        new("s", startUs, endUs < 0 ? startUs : endUs, [0f, 0f, 0f, 0f], 1.0, 0, 0);

    // ---- validation: hostile and out-of-range values are refused with the field's name ----

    [Fact]
    public void The_defaults_are_lossless_with_a_50_ms_budget_and_valid()
    {
        var spec = Session(Stream("a"));
        Assert.Equal(DeliveryPolicy.Lossless, spec.Delivery);
        Assert.Equal(50 * Ms, spec.LatencyBudgetUs);
        Assert.Empty(SpecValidator.Problems(spec));
        Assert.Empty(SpecValidator.Problems(Constrained(50 * Ms, Stream("a"))));
        Assert.Null(DeliveryBudget.For(spec, spec.Streams[0]));
    }

    [Theory]
    [InlineData(-1L)]
    [InlineData(0L)]
    [InlineData(999L)] // under the node's 1 ms
    [InlineData(60_000_001L)] // over its 60 s
    [InlineData(long.MaxValue)]
    [InlineData(long.MinValue)]
    public void A_latency_budget_outside_the_nodes_bounds_is_refused(long budgetUs)
    {
        var p = Assert.Single(SpecValidator.Problems(Constrained(budgetUs, Stream("a"))));
        Assert.Contains("latencyBudget must be in [1000, 60000000] us", p);
    }

    [Fact]
    public void A_lossless_session_needs_no_minimum_but_still_a_bounded_budget()
    {
        Assert.Empty(SpecValidator.Problems(Session(Stream("a")) with { LatencyBudgetUs = 0 }));
        Assert.Contains("latencyBudget", Assert.Single(SpecValidator.Problems(Session(Stream("a")) with { LatencyBudgetUs = -5 })));
        Assert.Contains("latencyBudget", Assert.Single(SpecValidator.Problems(Session(Stream("a")) with { LatencyBudgetUs = long.MaxValue })));
    }

    [Fact]
    public void The_nodes_own_bounds_apply()
    {
        var limits = SpecLimits.Default with { MinLatencyBudgetUs = 10 * Ms, MaxLatencyBudgetUs = 100 * Ms, MaxPriority = 3 };
        Assert.Contains("[10000, 100000]", Assert.Single(SpecValidator.Problems(Constrained(5 * Ms, Stream("a")), limits)));
        Assert.Contains("[10000, 100000]", Assert.Single(SpecValidator.Problems(Constrained(101 * Ms, Stream("a")), limits)));
        Assert.Empty(SpecValidator.Problems(Constrained(100 * Ms, Stream("a", priority: 3)), limits));
        Assert.Contains("priority must be in [0, 3]", Assert.Single(SpecValidator.Problems(Constrained(100 * Ms, Stream("a", priority: 4)), limits)));
    }

    [Fact]
    public void An_undefined_delivery_policy_is_refused()
    {
        var p = Assert.Single(SpecValidator.Problems(Session(Stream("a")) with { Delivery = (DeliveryPolicy)7 }));
        Assert.Contains("delivery 7 is not lossless or latency-constrained", p);
        Assert.Throws<SpecException>(() => SpecValidator.EnsureValid(Session(Stream("a")) with { Delivery = (DeliveryPolicy)(-1) }));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(1001)]
    [InlineData(int.MinValue)]
    [InlineData(int.MaxValue)]
    public void A_priority_out_of_range_is_refused(int priority)
    {
        var p = Assert.Single(SpecValidator.Problems(Session(Stream("a"), Stream("b", priority: priority))));
        Assert.Contains("stream 'b': priority must be in [0, 1000]", p);
    }

    [Fact]
    public void Policy_names_in_text_round_trip_and_nothing_else_parses()
    {
        foreach (var p in Enum.GetValues<DeliveryPolicy>())
        {
            Assert.True(DeliveryPolicies.TryParse(DeliveryPolicies.Name(p), out var back));
            Assert.Equal(p, back);
        }
        Assert.Equal("latency-constrained", DeliveryPolicies.Name(DeliveryPolicy.LatencyConstrained));
        foreach (var bad in new[] { null, "", "lossy", "LatencyConstrained ", "latency-constrained,lossless", "1" })
            Assert.False(DeliveryPolicies.TryParse(bad, out _));
    }

    // ---- the rule ----

    [Fact]
    public void Lower_priorities_get_a_smaller_share_of_the_budget()
    {
        var spec = Constrained(60 * Ms, Stream("lo", priority: 0), Stream("mid", priority: 5), Stream("hi", priority: 9), Stream("hi2", priority: 9));
        Assert.Equal(20 * Ms, DeliveryBudget.ShareOf(spec, spec.Streams[0]));
        Assert.Equal(40 * Ms, DeliveryBudget.ShareOf(spec, spec.Streams[1]));
        Assert.Equal(60 * Ms, DeliveryBudget.ShareOf(spec, spec.Streams[2]));
        Assert.Equal(60 * Ms, DeliveryBudget.ShareOf(spec, spec.Streams[3]));
        var same = Constrained(60 * Ms, Stream("a", priority: 3), Stream("b", priority: 3));
        Assert.Equal(60 * Ms, DeliveryBudget.ShareOf(same, same.Streams[0]));
    }

    [Fact]
    public void A_frame_is_shed_once_it_is_over_its_budget_after_it_is_due()
    {
        var spec = Constrained(40 * Ms, Stream("a", maxOutOfOrdernessUs: 10 * Ms));
        var rule = DeliveryBudget.For(spec, spec.Streams[0])!;
        const long t = 5 * Sec;
        Assert.Equal(t + 10 * Ms, rule.FrameDueUs(t));
        Assert.False(rule.ShedsFrame(t, t + 50 * Ms)); // exactly the budget after it is due
        Assert.True(rule.ShedsFrame(t, t + 50 * Ms + 1));
        Assert.False(rule.ShedsFrame(t, t)); // early and on time
        Assert.False(rule.ShedsFrame(t + Sec, t));
        // Event times at the ends of the range do not wrap.
        Assert.False(rule.ShedsFrame(long.MaxValue, t));
        Assert.True(rule.ShedsFrame(long.MinValue + 1, t));
    }

    [Fact]
    public void A_windowed_input_is_due_at_its_end_and_a_per_frame_one_at_its_start()
    {
        var mic = Stream("mic", "audio", 320, maxOutOfOrdernessUs: 0) with { SampleRateHz = 16_000, Framing = Framing.Windowed(Sec, Sec) };
        var cam = Stream("cam", maxOutOfOrdernessUs: 0) with { FrameDurationUs = 100 * Ms };
        var spec = Constrained(30 * Ms, mic, cam);
        var audio = DeliveryBudget.For(spec, mic)!;
        var camera = DeliveryBudget.For(spec, cam)!;
        Assert.Equal(2 * Sec - 1, audio.InputDueUs(Input(Sec, 2 * Sec)));
        Assert.False(audio.WouldBeLate(Input(Sec, 2 * Sec), 2 * Sec + 29 * Ms));
        Assert.True(audio.WouldBeLate(Input(Sec, 2 * Sec), 2 * Sec + 31 * Ms));
        Assert.Equal(Sec, camera.InputDueUs(Input(Sec, Sec + 100 * Ms)));
        Assert.True(camera.WouldBeLate(Input(Sec, Sec + 100 * Ms), Sec + 31 * Ms));
    }

    [Fact]
    public void The_expected_encode_time_counts_against_the_budget()
    {
        var spec = Constrained(40 * Ms, Stream("a", maxOutOfOrdernessUs: 0));
        var rule = DeliveryBudget.For(spec, spec.Streams[0])!;
        Assert.False(rule.WouldBeLate(Input(Sec), Sec + 35 * Ms));
        rule.Encoded(10); // a batch took 10 ms
        Assert.Equal(10 * Ms, rule.ExpectedEncodeUs);
        Assert.True(rule.WouldBeLate(Input(Sec), Sec + 35 * Ms));
        Assert.False(rule.ShedsFrame(Sec, Sec + 35 * Ms)); // a frame is judged by its age alone
        rule.Encoded(0); // smoothed, not replaced
        Assert.Equal(8 * Ms, rule.ExpectedEncodeUs);
        rule.Encoded(double.NaN);
        rule.Encoded(-3);
        Assert.Equal(8 * Ms, rule.ExpectedEncodeUs);
    }

    [Fact]
    public void When_no_input_would_be_on_time_only_the_late_ones_are_shed_so_a_slow_batch_cannot_shed_everything_after_it()
    {
        var spec = Constrained(40 * Ms, Stream("a", maxOutOfOrdernessUs: 0));
        var rule = DeliveryBudget.For(spec, spec.Streams[0])!;
        rule.Encoded(500); // one batch took far longer than the whole budget (a stall)
        Assert.True(rule.WouldBeLate(Input(Sec), Sec + 1 * Ms));
        Assert.False(rule.IsLate(Input(Sec), Sec + 40 * Ms));
        Assert.True(rule.IsLate(Input(Sec), Sec + 40 * Ms + 1));
        Assert.False(rule.ShedsFrame(Sec, Sec + 40 * Ms)); // a frame is judged by its age alone
        var queue = new EncoderQueue(16, OverflowPolicy.DropOldest, 4);
        queue.Enqueue(Input(Sec));
        queue.Enqueue(Input(Sec + 10 * Ms));
        queue.Enqueue(Input(Sec + 20 * Ms));
        // At 45 ms every input would be late by the estimate; only the one late already (45 ms after it was due) goes,
        // and the stream sends the other two in one batch.
        Assert.Equal(1, queue.ShedOverdue(rule, Sec + 45 * Ms));
        Assert.Equal(2, queue.TakeBatch(0)!.Inputs.Length);
        // That batch comes back quickly: the estimate falls, and inputs are judged by it again.
        queue.Complete(queue.InFlight!.Id);
        for (var i = 0; i < 30; i++) rule.Encoded(1);
        Assert.True(rule.ExpectedEncodeUs < 2 * Ms);
        Assert.False(rule.WouldBeLate(Input(Sec), Sec + 30 * Ms));
    }

    [Fact]
    public void The_encoder_queue_sheds_its_oldest_overdue_inputs_and_keeps_the_rest_in_order()
    {
        var spec = Constrained(20 * Ms, Stream("a", maxOutOfOrdernessUs: 0));
        var rule = DeliveryBudget.For(spec, spec.Streams[0])!;
        var queue = new EncoderQueue(16, OverflowPolicy.DropOldest, 4);
        foreach (var t in new[] { 0L, 10 * Ms, 20 * Ms, 30 * Ms, 40 * Ms }) queue.Enqueue(Input(Sec + t));
        Assert.Equal(0, queue.ShedOverdue(rule, Sec + 20 * Ms)); // the oldest is exactly on its budget
        Assert.Equal(3, queue.ShedOverdue(rule, Sec + 45 * Ms)); // 0, 10 and 20 ms are over
        Assert.Equal([Sec + 30 * Ms, Sec + 40 * Ms], queue.Pending.Select(i => i.StartUs));
        var batch = queue.TakeBatch(0)!;
        Assert.Equal(2, batch.Inputs.Length);
        // Nothing in flight is shed, and an empty queue sheds nothing.
        Assert.Equal(0, queue.ShedOverdue(rule, 10 * Sec));
        Assert.Equal(2, queue.Waiting);
    }

    [Fact]
    public void Retried_inputs_at_the_front_are_shed_like_the_others_and_retrying_alone_ends_with_them()
    {
        var spec = Constrained(20 * Ms, Stream("a", maxOutOfOrdernessUs: 0));
        var rule = DeliveryBudget.For(spec, spec.Streams[0])!;
        var queue = new EncoderQueue(16, OverflowPolicy.DropOldest, 2);
        queue.Enqueue(Input(Sec));
        queue.Enqueue(Input(Sec + 1 * Ms));
        queue.Enqueue(Input(Sec + 100 * Ms));
        queue.TakeBatch(0);
        queue.Fail(); // the two in flight go back to the front, to be retried one by one
        Assert.Equal(2, queue.SingleMode);
        Assert.Equal(2, queue.ShedOverdue(rule, Sec + 50 * Ms));
        Assert.Equal(0, queue.SingleMode);
        Assert.Equal(Sec + 100 * Ms, Assert.Single(queue.TakeBatch(0)!.Inputs).StartUs);
    }

    [Fact]
    public void A_shed_frame_moves_the_stream_watermark_without_making_an_input()
    {
        var spec = Constrained(20 * Ms, Stream("a", maxOutOfOrdernessUs: 0));
        var inputs = new StreamInputs(spec.Streams[0], spec);
        inputs.Skip(Frame("a", 0, Sec, 4));
        Assert.Equal(Sec, inputs.WatermarkUs);
        Assert.Equal(0, inputs.Drain(shed: false));
        Assert.True(inputs.Queue.IsEmpty);
        Assert.Equal(Sec, inputs.CompleteThrough());
    }
}
