using FusionActors.Core.Streams;
using FusionActors.Core.Time;
using FusionActors.Protocol;

namespace FusionActors.Core.Tests;

/// <summary>16 kHz audio in 20 ms frames (320 samples) framed into 1 s inputs.</summary>
public class WindowedFramerSpec
{
    private const long Ms = TestData.Ms;
    private const long Sec = TestData.Sec;
    private const int FrameSamples = 320;

    private static Frame Chunk(long index, float value = 1f) => TestData.Frame("mic", index, index * 20 * Ms, FrameSamples, value);

    private static WindowedFramer Framer(long hopUs = Sec, long latenessUs = 0) =>
        new("mic", Sec, hopUs, 16_000, originUs: 0, allowedLatenessUs: latenessUs);

    [Fact]
    public void Fifty_20ms_frames_make_one_1s_input_of_16000_samples_in_time_order()
    {
        var f = Framer();
        Assert.Equal(16_000, f.InputLength);
        // Out of order within the input: order by event time, not arrival.
        foreach (var i in Enumerable.Range(0, 50).Reverse())
            Assert.Equal(FrameFate.Taken, f.Add(Chunk(i, i), EventTime.MinusInfinity));
        var input = Assert.Single(f.Drain(Sec - 1));
        Assert.Equal((0L, Sec, 1.0, 0L, 49L, 0), (input.StartUs, input.EndUs, input.Coverage, input.FirstSeq, input.LastSeq, input.Revision));
        Assert.Equal(16_000, input.Values.Length);
        for (var i = 0; i < 50; i++)
        {
            Assert.Equal(i, input.Values[i * FrameSamples]);
            Assert.Equal(i, input.Values[i * FrameSamples + FrameSamples - 1]);
        }
    }

    [Fact]
    public void An_input_is_emitted_only_when_the_watermark_reaches_its_end_minus_one()
    {
        var f = Framer();
        for (var i = 0; i < 50; i++) f.Add(Chunk(i), EventTime.MinusInfinity);
        Assert.Empty(f.Drain(Sec - 2));
        Assert.Single(f.Drain(Sec - 1));
        Assert.Empty(f.Drain(Sec - 1));
    }

    [Fact]
    public void Taking_inputs_one_at_a_time_gives_what_drain_gives()
    {
        var drained = Framer(hopUs: 500 * Ms);
        var taken = Framer(hopUs: 500 * Ms);
        for (var i = 0; i < 150; i++)
        {
            drained.Add(Chunk(i, i), EventTime.MinusInfinity);
            taken.Add(Chunk(i, i), EventTime.MinusInfinity);
        }
        var expected = drained.Drain(3 * Sec - 1);
        var actual = new List<EncoderInput>();
        while (taken.TryTake(3 * Sec - 1, out var input)) actual.Add(input);
        Assert.Equal(5, expected.Count);
        Assert.Equal(expected.Select(i => (i.StartUs, i.EndUs, i.Coverage, i.FirstSeq, i.LastSeq, i.Revision, i.Values.Sum())),
            actual.Select(i => (i.StartUs, i.EndUs, i.Coverage, i.FirstSeq, i.LastSeq, i.Revision, i.Values.Sum())));
        Assert.False(taken.TryTake(3 * Sec - 1, out _));
        Assert.Equal(drained.HeldInputs, taken.HeldInputs);
    }

    [Fact]
    public void A_gap_is_zero_filled_and_lowers_the_coverage()
    {
        var f = Framer();
        for (var i = 0; i < 50; i++)
            if (i is < 10 or >= 20) f.Add(Chunk(i, 7f), EventTime.MinusInfinity);
        var input = Assert.Single(f.Drain(Sec - 1));
        Assert.Equal(0.8, input.Coverage, 12);
        Assert.Equal(7f, input.Values[10 * FrameSamples - 1]);
        Assert.All(input.Values.Skip(10 * FrameSamples).Take(10 * FrameSamples), v => Assert.Equal(0f, v));
        Assert.Equal(7f, input.Values[20 * FrameSamples]);
    }

    [Fact]
    public void A_repeated_frame_does_not_count_twice_towards_coverage()
    {
        var f = Framer();
        f.Add(Chunk(0), EventTime.MinusInfinity);
        f.Add(Chunk(0), EventTime.MinusInfinity);
        Assert.Equal(0.02, Assert.Single(f.Drain(Sec - 1)).Coverage, 12);
    }

    [Fact]
    public void With_a_half_second_hop_inputs_overlap_and_a_frame_goes_into_each_input_containing_it()
    {
        var f = Framer(hopUs: 500 * Ms);
        for (var i = 0; i < 100; i++) f.Add(Chunk(i, i), EventTime.MinusInfinity);
        var inputs = f.Drain(2 * Sec - 1);
        Assert.Equal(new[] { (0L, Sec), (500 * Ms, 1500 * Ms), (Sec, 2 * Sec) },
            inputs.Select(i => (i.StartUs, i.EndUs)));
        // Frame 30 (600 ms) sits at offset 100 ms of [500 ms, 1.5 s) and at 600 ms of [0, 1 s).
        Assert.Equal(30f, inputs[0].Values[600 * 16]);
        Assert.Equal(30f, inputs[1].Values[100 * 16]);
        Assert.All(inputs, i => Assert.Equal(1.0, i.Coverage, 12));
        Assert.Equal(25L, inputs[1].FirstSeq);
        Assert.Equal(74L, inputs[1].LastSeq);
    }

    [Fact]
    public void A_sliding_framer_starts_its_first_input_at_the_origin_so_the_alignment_does_not_count_it_late()
    {
        // An input starting before the session start belongs to no window the aligner will ever open.
        var f = new WindowedFramer("mic", Sec, 500 * Ms, 16_000, originUs: 0);
        var aligner = new FusionActors.Core.Alignment.Aligner(TestData.Session(
            TestData.Stream("mic", "audio", frameLength: FrameSamples) with { SampleRateHz = 16_000, Framing = Protocol.Specs.Framing.Windowed(Sec, 500 * Ms) }));
        for (var i = 0; i < 100; i++) f.Add(Chunk(i), EventTime.MinusInfinity);
        var inputs = f.Drain(2 * Sec - 1);
        Assert.All(inputs, i => Assert.True(i.StartUs >= 0, $"input starts at {i.StartUs}"));
        foreach (var i in inputs)
            aligner.OnEvidence(new Evidence("mic", "audio", i.StartUs, i.EndUs, [], [], i.Coverage, i.LastSeq));
        aligner.SetStreamWatermark("mic", f.CompleteThroughUs(2 * Sec - 1));
        aligner.Advance(null);
        Assert.Equal(0, aligner.LateCount);
        // A frame from before the session start has no input to go to.
        Assert.Equal(FrameFate.TooLate, new WindowedFramer("mic", Sec, 500 * Ms, 16_000).Add(TestData.Frame("mic", 0, -40 * Ms, FrameSamples), EventTime.MinusInfinity));
    }

    [Fact]
    public void Without_lateness_a_frame_for_an_emitted_input_is_too_late()
    {
        var f = Framer();
        for (var i = 1; i < 50; i++) f.Add(Chunk(i), EventTime.MinusInfinity);
        f.Drain(Sec - 1);
        Assert.Equal(FrameFate.TooLate, f.Add(Chunk(0), Sec - 1));
        Assert.Empty(f.Drain(Sec - 1));
        Assert.Equal(0, f.HeldInputs);
    }

    [Fact]
    public void A_late_frame_within_the_allowed_lateness_re_emits_the_input_with_the_next_revision()
    {
        var f = Framer(latenessUs: 200 * Ms);
        for (var i = 1; i < 50; i++) f.Add(Chunk(i), EventTime.MinusInfinity);
        var first = Assert.Single(f.Drain(Sec - 1));
        Assert.Equal((0, 0.98), (first.Revision, Math.Round(first.Coverage, 12)));
        Assert.Equal(1, f.HeldInputs);

        Assert.Equal(FrameFate.Revised, f.Add(Chunk(0, 9f), watermarkUs: Sec + 100 * Ms));
        var second = Assert.Single(f.Drain(Sec + 100 * Ms));
        Assert.Equal((0L, 1, 1.0), (second.StartUs, second.Revision, second.Coverage));
        Assert.Equal(9f, second.Values[0]);
        Assert.Equal(0f, first.Values[0]); // emitted inputs are copies

        Assert.Equal(FrameFate.Revised, f.Add(Chunk(0, 3f), Sec + 150 * Ms));
        Assert.Equal(2, Assert.Single(f.Drain(Sec + 150 * Ms)).Revision);
    }

    [Fact]
    public void A_late_frame_beyond_the_allowed_lateness_is_too_late_and_the_input_is_released()
    {
        var f = Framer(latenessUs: 200 * Ms);
        for (var i = 1; i < 50; i++) f.Add(Chunk(i), EventTime.MinusInfinity);
        f.Drain(Sec - 1);
        // Retained while W < end - 1 + L, i.e. up to 1.2 s - 2.
        Assert.Empty(f.Drain(Sec + 200 * Ms - 2));
        Assert.Equal(1, f.HeldInputs);
        Assert.Equal(FrameFate.Revised, f.Add(Chunk(0), Sec + 200 * Ms - 2));
        Assert.Equal(1, Assert.Single(f.Drain(Sec + 200 * Ms - 1)).Revision);
        Assert.Equal(0, f.HeldInputs);
        Assert.Equal(FrameFate.TooLate, f.Add(Chunk(0), Sec + 200 * Ms - 1));
    }

    [Fact]
    public void A_frame_that_touches_a_closed_and_an_open_input_is_taken()
    {
        var f = Framer(hopUs: 500 * Ms);
        // 980 ms .. 1 s is in [0,1s) (closed at W = 1s-1) and in [0.5s,1.5s) (open).
        Assert.Equal(FrameFate.Taken, f.Add(Chunk(49), Sec - 1));
    }

    [Fact]
    public void Evidence_is_complete_through_the_last_microsecond_before_the_first_undrainable_input()
    {
        var f = Framer();
        Assert.Equal(-1, f.CompleteThroughUs(Sec - 2));
        Assert.Equal(Sec - 1, f.CompleteThroughUs(Sec - 1));
        Assert.Equal(Sec - 1, f.CompleteThroughUs(2 * Sec - 2));
        Assert.Equal(2 * Sec - 1, f.CompleteThroughUs(2 * Sec - 1));
        Assert.Equal(EventTime.MinusInfinity, f.CompleteThroughUs(EventTime.MinusInfinity));
        Assert.Equal(EventTime.PlusInfinity, f.CompleteThroughUs(EventTime.PlusInfinity));

        var sliding = Framer(hopUs: 500 * Ms);
        // At W = 1 s - 1 inputs up to [0, 1 s) drained; next is [0.5 s, 1.5 s).
        Assert.Equal(500 * Ms - 1, sliding.CompleteThroughUs(Sec - 1));
        Assert.Equal(Sec - 1, sliding.CompleteThroughUs(1500 * Ms - 1));
    }

    [Fact]
    public void Everything_complete_through_has_really_been_drained()
    {
        var f = Framer(hopUs: 250 * Ms);
        for (var i = 0; i < 200; i++) f.Add(Chunk(i), EventTime.MinusInfinity);
        var drained = new List<long>();
        for (var w = 0L; w < 4 * Sec; w += 37 * Ms)
        {
            drained.AddRange(f.Drain(w).Select(i => i.StartUs));
            var through = f.CompleteThroughUs(w);
            for (var start = 0L; start <= through; start += 250 * Ms)
                Assert.Contains(start, drained);
        }
    }

    [Fact]
    public void A_hop_longer_than_the_length_or_a_zero_rate_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new WindowedFramer("mic", Sec, 2 * Sec, 16_000));
        Assert.Throws<ArgumentOutOfRangeException>(() => new WindowedFramer("mic", Sec, Sec, 0));
    }
}
