using FusionActors.Core.Alignment;
using FusionActors.Core.Streams;
using FusionActors.Core.Time;
using FusionActors.Protocol;

namespace FusionActors.Core.Tests;

public class SessionWatermarkSpec
{
    private static SessionWatermark Make() => new(["audio", "video", "imu"], maxOutOfOrdernessUs: 50);

    [Fact]
    public void A_session_whose_streams_have_promised_nothing_has_no_watermark()
    {
        var w = Make();
        Assert.False(w.Recompute(null));
        Assert.Equal(EventTime.MinusInfinity, w.CurrentUs);
    }

    [Fact]
    public void The_session_watermark_is_the_minimum_over_active_streams()
    {
        var w = Make();
        w.SetWatermark("audio", 300);
        w.SetWatermark("video", 100);
        w.SetWatermark("imu", 200);
        Assert.True(w.Recompute(null));
        Assert.Equal(100, w.CurrentUs);
        Assert.False(w.FollowsProcessingTime);
    }

    [Fact]
    public void Restarting_and_finished_streams_hold_the_watermark_back()
    {
        var w = Make();
        w.SetWatermark("audio", 300);
        w.SetWatermark("video", 100);
        w.SetWatermark("imu", 200);
        w.SetState("video", StreamState.Restarting);
        w.Recompute(null);
        Assert.Equal(100, w.CurrentUs);
        w.SetWatermark("video", 400);
        w.SetState("imu", StreamState.Finished);
        w.Recompute(null);
        Assert.Equal(200, w.CurrentUs);
    }

    [Fact]
    public void A_stream_that_goes_idle_must_not_hold_back_the_session_watermark()
    {
        var w = Make();
        w.SetWatermark("audio", 300);
        w.SetWatermark("video", 100);
        w.SetWatermark("imu", 250);
        w.SetState("video", StreamState.Idle);
        w.Recompute(null);
        Assert.Equal(250, w.CurrentUs);
    }

    [Fact]
    public void A_failed_stream_must_not_hold_back_the_session_watermark()
    {
        var w = Make();
        w.SetWatermark("audio", 300);
        w.SetWatermark("imu", 250);
        w.SetState("video", StreamState.Failed);
        w.Recompute(null);
        Assert.Equal(250, w.CurrentUs);
    }

    [Fact]
    public void When_every_stream_is_idle_the_watermark_follows_the_session_clock_minus_the_largest_out_of_orderness()
    {
        var w = Make();
        foreach (var id in w.StreamIds.ToList()) w.SetState(id, StreamState.Idle);
        Assert.False(w.Recompute(null)); // no clock, nothing to follow
        Assert.True(w.Recompute(10_000));
        Assert.Equal(9_950, w.CurrentUs);
        Assert.True(w.FollowsProcessingTime);
        w.SetState("audio", StreamState.Failed);
        Assert.True(w.Recompute(20_000));
        Assert.Equal(19_950, w.CurrentUs);
    }

    [Fact]
    public void The_session_watermark_never_decreases()
    {
        var w = Make();
        foreach (var id in w.StreamIds.ToList()) w.SetState(id, StreamState.Idle);
        w.Recompute(10_000);
        // A stream comes back with an old watermark: the session watermark stays.
        w.SetState("video", StreamState.Active);
        w.SetWatermark("video", 5);
        Assert.False(w.Recompute(null));
        Assert.Equal(9_950, w.CurrentUs);
        Assert.False(w.Recompute(1_000));
        Assert.Equal(9_950, w.CurrentUs);
    }

    [Fact]
    public void A_stream_watermark_never_decreases()
    {
        var w = Make();
        w.SetWatermark("audio", 500);
        w.SetWatermark("audio", 100);
        Assert.Equal(500, w.StreamWatermarkUs("audio"));
    }

    [Fact]
    public void When_every_stream_is_finished_the_watermark_is_plus_infinity()
    {
        var w = Make();
        foreach (var id in w.StreamIds.ToList())
        {
            w.SetState(id, StreamState.Finished);
            w.SetWatermark(id, EventTime.PlusInfinity);
        }
        w.Recompute(null);
        Assert.Equal(EventTime.PlusInfinity, w.CurrentUs);
    }
}
