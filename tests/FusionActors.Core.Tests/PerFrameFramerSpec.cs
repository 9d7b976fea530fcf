using FusionActors.Core.Streams;

namespace FusionActors.Core.Tests;

public class PerFrameFramerSpec
{
    [Fact]
    public void Each_frame_is_one_input_emitted_at_once()
    {
        var f = new PerFrameFramer("cam", frameDurationUs: 33_000);
        Assert.Equal(FrameFate.Taken, f.Add(TestData.Frame("cam", 0, 1_000, 4, 2f), long.MinValue));
        Assert.Equal(1, f.HeldInputs);
        var inputs = f.Drain(long.MinValue);
        var i = Assert.Single(inputs);
        Assert.Equal(("cam", 1_000L, 34_000L, 1.0, 0L, 0L, 0), (i.StreamId, i.StartUs, i.EndUs, i.Coverage, i.FirstSeq, i.LastSeq, i.Revision));
        Assert.Equal(new[] { 2f, 2f, 2f, 2f }, i.Values);
        Assert.Empty(f.Drain(long.MinValue));
        Assert.Equal(0, f.HeldInputs);
    }

    [Fact]
    public void A_frame_behind_the_watermark_is_still_taken_because_the_alignment_judges_lateness()
    {
        var f = new PerFrameFramer("cam", 0);
        Assert.Equal(FrameFate.Taken, f.Add(TestData.Frame("cam", 3, 10, 4), watermarkUs: 1_000));
        Assert.Single(f.Drain(1_000));
    }

    [Fact]
    public void Inputs_drain_in_arrival_order()
    {
        var f = new PerFrameFramer("cam", 0);
        f.Add(TestData.Frame("cam", 1, 200, 4), 0);
        f.Add(TestData.Frame("cam", 0, 100, 4), 0);
        Assert.Equal(new[] { 200L, 100L }, f.Drain(0).Select(i => i.StartUs));
    }

    [Fact]
    public void Taking_inputs_one_at_a_time_gives_what_drain_gives()
    {
        var f = new PerFrameFramer("cam", 10);
        f.Add(TestData.Frame("cam", 1, 200, 4), 0);
        f.Add(TestData.Frame("cam", 0, 100, 4), 0);
        Assert.True(f.TryTake(0, out var first));
        Assert.Equal(1, f.HeldInputs);
        Assert.True(f.TryTake(0, out var second));
        Assert.False(f.TryTake(0, out _));
        Assert.Equal(new[] { 200L, 100L }, new[] { first.StartUs, second.StartUs });
        Assert.Equal(0, f.HeldInputs);
    }

    [Fact]
    public void Repeats_of_a_frozen_frame_keep_the_information_time_of_the_first_repeat()
    {
        var f = new PerFrameFramer("cam", 10);
        f.Add(TestData.Frame("cam", 0, 0, 4, 1f), 0);
        f.Add(TestData.Frame("cam", 1, 100, 4, 1f), 0);
        f.Add(TestData.Frame("cam", 2, 200, 4, 1f), 0);
        f.Add(TestData.Frame("cam", 3, 300, 4, 2f), 0);
        f.Add(TestData.Frame("cam", 4, 400, 4, 2f), 0);
        Assert.Equal(new long?[] { null, 10, 10, null, 310 }, f.Drain(0).Select(i => i.ContentEndUs));
    }

    [Fact]
    public void Evidence_is_complete_through_the_stream_watermark()
    {
        var f = new PerFrameFramer("cam", 0);
        Assert.Equal(12_345, f.CompleteThroughUs(12_345));
        Assert.Equal(long.MinValue, f.CompleteThroughUs(long.MinValue));
    }
}
