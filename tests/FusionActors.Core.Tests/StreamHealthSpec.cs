using FusionActors.Core.Streams;
using FusionActors.Protocol;

namespace FusionActors.Core.Tests;

public class StreamHealthSpec
{
    [Fact]
    public void A_new_stream_is_active_and_fully_reliable()
    {
        var h = new StreamHealth();
        Assert.Equal(StreamState.Active, h.State);
        Assert.Equal(1.0, h.Reliability);
    }

    [Fact]
    public void An_idle_stream_becomes_active_again_on_its_first_frame()
    {
        var h = new StreamHealth();
        Assert.True(h.OnIdle());
        Assert.False(h.OnIdle());
        Assert.Equal(StreamState.Idle, h.State);
        Assert.Equal(1.0, h.Reliability);
        Assert.True(h.OnActivity());
        Assert.False(h.OnActivity());
        Assert.Equal(StreamState.Active, h.State);
    }

    [Fact]
    public void Reliability_is_zero_while_restarting_and_resumes_after()
    {
        var h = new StreamHealth();
        h.RecordSuccess(0.5, onTime: true);
        var before = h.Score;
        Assert.True(h.OnEncoderDown());
        Assert.Equal(StreamState.Restarting, h.State);
        Assert.Equal(0.0, h.Reliability);
        Assert.Equal(before, h.Score);
        Assert.False(h.OnIdle()); // a restarting stream is not idle
        Assert.True(h.OnEncoderUp());
        Assert.Equal(before, h.Reliability);
    }

    [Fact]
    public void A_spent_budget_fails_the_stream_and_a_revive_restarts_it()
    {
        var h = new StreamHealth();
        h.OnEncoderDown();
        Assert.True(h.OnBudgetSpent());
        Assert.Equal(StreamState.Failed, h.State);
        Assert.Equal(0.0, h.Reliability);
        Assert.False(h.OnActivity()); // a frame alone does not revive it
        Assert.False(h.OnEncoderDown());
        Assert.True(h.OnRevive());
        Assert.Equal(StreamState.Restarting, h.State);
        Assert.False(h.OnRevive());
    }

    [Fact]
    public void A_finished_stream_stays_finished()
    {
        var h = new StreamHealth();
        Assert.True(h.OnFinished());
        Assert.False(h.OnFinished());
        Assert.False(h.OnBudgetSpent());
        Assert.False(h.OnDisabled());
        Assert.False(h.OnEncoderDown());
        Assert.False(h.OnIdle());
        Assert.Equal(StreamState.Finished, h.State);
    }

    [Fact]
    public void A_disabled_stream_is_treated_as_failed()
    {
        var h = new StreamHealth();
        Assert.True(h.OnDisabled());
        Assert.Equal(StreamState.Failed, h.State);
        Assert.Equal(0.0, h.Reliability);
    }

    [Fact]
    public void Reliability_is_an_exponential_average_of_coverage_and_on_time_arrival()
    {
        var h = new StreamHealth(alpha: 0.5);
        h.RecordSuccess(0.5, onTime: true);   // 1 + .5(.5 - 1) = .75
        Assert.Equal(0.75, h.Reliability, 12);
        h.RecordSuccess(1.0, onTime: false);  // .75 + .5(.5 - .75) = .625
        Assert.Equal(0.625, h.Reliability, 12);
        h.RecordFailure();                    // .3125
        Assert.Equal(0.3125, h.Reliability, 12);
        h.RecordSuccess(7, onTime: true);     // coverage clamps to 1: .65625
        Assert.Equal(0.65625, h.Reliability, 12);
    }

    [Fact]
    public void Repeated_failures_drive_reliability_towards_zero()
    {
        var h = new StreamHealth();
        for (var i = 0; i < 100; i++) h.RecordFailure();
        Assert.InRange(h.Reliability, 0, 1e-4);
    }
}
