using FusionActors.Core.Time;

namespace FusionActors.Core.Tests;

public class EventTimeSpec
{
    [Fact]
    public void Saturating_arithmetic_stops_at_the_infinities()
    {
        Assert.Equal(EventTime.PlusInfinity, EventTime.SaturatingAdd(EventTime.PlusInfinity, -5));
        Assert.Equal(EventTime.MinusInfinity, EventTime.SaturatingSubtract(EventTime.MinusInfinity, -5));
        Assert.Equal(EventTime.PlusInfinity, EventTime.SaturatingAdd(long.MaxValue - 1, 10));
        Assert.Equal(EventTime.MinusInfinity, EventTime.SaturatingSubtract(long.MinValue + 1, 10));
        Assert.Equal(EventTime.PlusInfinity, EventTime.SaturatingSubtract(long.MaxValue - 1, -10));
        Assert.Equal(7, EventTime.SaturatingAdd(3, 4));
        Assert.Equal(-1, EventTime.SaturatingSubtract(3, 4));
    }

    [Fact]
    public void Conversions_and_formatting_use_microseconds()
    {
        Assert.Equal(1_500_000, EventTime.FromSeconds(1.5));
        Assert.Equal(2_500, EventTime.FromMillis(2.5));
        Assert.Equal(0.25, EventTime.ToSeconds(250_000));
        Assert.Equal("1.500s", EventTime.Format(1_500_000));
        Assert.Equal("+inf", EventTime.Format(EventTime.PlusInfinity));
        Assert.Equal("-inf", EventTime.Format(EventTime.MinusInfinity));
    }
}
