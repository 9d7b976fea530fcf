using FusionActors.Core.Time;

namespace FusionActors.Core.Tests;

public class SessionClockSpec
{
    [Fact]
    public void The_offset_is_server_time_minus_client_time_plus_half_the_round_trip()
    {
        var c = new SessionClock();
        Assert.False(c.HasEstimate);
        c.Observe(serverNowUs: 10_000, clientTimeUs: 4_000, rttUs: 2_000);
        Assert.True(c.HasEstimate);
        Assert.Equal(5_000, c.OffsetUs);
        Assert.Equal(15_000, c.SessionNowUs(20_000));
    }

    [Fact]
    public void The_sample_with_the_smallest_round_trip_wins_and_drift_is_reported()
    {
        var c = new SessionClock();
        c.Observe(10_000, 4_000, 2_000);  // offset 5000
        c.Observe(20_000, 14_500, 9_000); // offset 1000, worse round trip: ignored
        Assert.Equal(5_000, c.OffsetUs);
        c.Observe(30_000, 24_900, 200);   // offset 5000, better round trip
        c.Observe(40_000, 34_700, 100);   // offset 5250, best
        Assert.Equal(5_250, c.OffsetUs);
        Assert.Equal(250, c.DriftUs);
        Assert.Throws<ArgumentOutOfRangeException>(() => c.Observe(0, 0, -1));
    }

    [Fact]
    public void Old_samples_leave_the_sliding_set()
    {
        var c = new SessionClock();
        c.Observe(0, 0, 0); // offset 0, perfect round trip
        for (var i = 1; i <= 8; i++) c.Observe(i * 1_000, i * 1_000 - 300, 100);
        Assert.Equal(250, c.OffsetUs);
    }
}
