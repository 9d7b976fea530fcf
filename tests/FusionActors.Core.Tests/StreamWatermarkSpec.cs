using FusionActors.Core.Time;

namespace FusionActors.Core.Tests;

public class StreamWatermarkSpec
{
    [Fact]
    public void A_new_watermark_has_promised_nothing()
    {
        var w = new StreamWatermark(50);
        Assert.Equal(EventTime.MinusInfinity, w.CurrentUs);
        Assert.False(w.IsLate(long.MinValue + 1));
        Assert.False(w.IsFinished);
    }

    [Fact]
    public void The_watermark_trails_the_newest_event_by_the_out_of_orderness_bound()
    {
        var w = new StreamWatermark(50);
        Assert.True(w.OnEvent(1_000));
        Assert.Equal(950, w.CurrentUs);
        Assert.Equal(1_000, w.MaxEventTimeUs);
    }

    [Fact]
    public void An_older_event_neither_lowers_the_watermark_nor_the_max()
    {
        var w = new StreamWatermark(50);
        w.OnEvent(1_000);
        Assert.False(w.OnEvent(960));
        Assert.False(w.OnEvent(10));
        Assert.Equal(950, w.CurrentUs);
        Assert.Equal(1_000, w.MaxEventTimeUs);
    }

    [Fact]
    public void An_explicit_watermark_raises_it_but_a_lower_one_is_ignored()
    {
        var w = new StreamWatermark(50);
        w.OnEvent(1_000);
        Assert.True(w.OnExplicit(2_000));
        Assert.Equal(2_000, w.CurrentUs);
        Assert.False(w.OnExplicit(1_500));
        Assert.False(w.OnEvent(2_040)); // 1990 < 2000
        Assert.Equal(2_000, w.CurrentUs);
        Assert.True(w.OnEvent(2_100));
        Assert.Equal(2_050, w.CurrentUs);
    }

    [Fact]
    public void A_finished_stream_has_a_watermark_of_plus_infinity_that_stays()
    {
        var w = new StreamWatermark(50);
        w.OnEvent(1_000);
        w.Finish();
        Assert.True(w.IsFinished);
        Assert.Equal(EventTime.PlusInfinity, w.CurrentUs);
        Assert.False(w.OnEvent(5_000));
        Assert.False(w.OnExplicit(6_000));
        Assert.True(w.IsLate(long.MaxValue - 1));
    }

    [Fact]
    public void An_event_at_or_behind_the_watermark_is_late_and_one_ahead_is_not()
    {
        var w = new StreamWatermark(50);
        w.OnEvent(1_000);
        Assert.True(w.IsLate(949));
        Assert.True(w.IsLate(950));
        Assert.False(w.IsLate(951));
    }

    [Fact]
    public void The_watermark_saturates_instead_of_wrapping_near_minus_infinity()
    {
        var w = new StreamWatermark(1_000);
        w.OnEvent(long.MinValue + 10);
        Assert.True(w.CurrentUs <= long.MinValue + 10);
    }

    [Fact]
    public void A_zero_bound_follows_the_newest_event_and_a_negative_one_is_refused()
    {
        var w = new StreamWatermark(0);
        w.OnEvent(7);
        Assert.Equal(7, w.CurrentUs);
        Assert.Throws<ArgumentOutOfRangeException>(() => new StreamWatermark(-1));
    }
}
