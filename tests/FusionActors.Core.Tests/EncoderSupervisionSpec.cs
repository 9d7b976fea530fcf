using FusionActors.Core.Streams;
using FusionActors.Core.Supervision;
using FusionActors.Protocol;

namespace FusionActors.Core.Tests;

public class EncoderSupervisionSpec
{
    private static readonly BackoffPolicy Policy = new()
    {
        Min = TimeSpan.FromMilliseconds(100), Max = TimeSpan.FromSeconds(1), Jitter = 0.5, MaxRestarts = 2,
        Within = TimeSpan.FromSeconds(10), FailedCooldown = TimeSpan.FromSeconds(30),
    };

    private static EncoderInput In(long startUs) => new("s", startUs, startUs + 1, [0f], 1.0, 0, 0);

    [Fact]
    public void A_failure_within_the_budget_restarts_after_the_backoff_with_its_jitter_and_reports_once()
    {
        var s = new EncoderSupervision(Policy);
        Assert.Equal(TimeSpan.FromMilliseconds(150), s.OnEncoderFailed(0, 1.0, out var reason, out _));
        Assert.Equal("encoder failed; restart in 150 ms", reason);
        Assert.Equal(StreamState.Restarting, s.State);
        Assert.True(s.EncoderHeldDown && s.MayRestart);
        Assert.Equal(0.0, s.Health.Reliability);
        Assert.Equal(TimeSpan.FromMilliseconds(200), s.OnEncoderFailed(1, 0.0, out reason, out _)); // doubled, no jitter
        Assert.Null(reason); // already Restarting
        Assert.Equal("encoder restarted", s.OnEncoderUp());
        Assert.Null(s.OnEncoderUp());
        Assert.Equal(StreamState.Active, s.State);
    }

    [Fact]
    public void A_closed_stream_whose_encoder_fails_restarts_it_to_encode_what_it_holds_and_stays_finished()
    {
        var s = new EncoderSupervision(Policy);
        Assert.Equal("closed by the client", s.OnFinished());
        Assert.NotNull(s.OnEncoderFailed(0, 0, out var reason, out _));
        Assert.Null(reason); // a Finished stream does not go Restarting
        Assert.True(s.MayRestart && !s.EncoderHeldDown);
        Assert.Null(s.OnEncoderUp());
        Assert.Equal(StreamState.Finished, s.State);
    }

    [Fact]
    public void A_success_resets_the_backoff_exponent()
    {
        var s = new EncoderSupervision(Policy);
        s.OnEncoderFailed(0, 0, out _, out _);
        s.OnEncoderUp();
        s.OnEncoded([In(0)]);
        Assert.Equal(Policy.Min, s.OnEncoderFailed(1, 0, out _, out _));
    }

    [Fact]
    public void Past_the_budget_the_stream_fails_and_a_frame_revives_it_only_after_the_cooldown()
    {
        var s = new EncoderSupervision(Policy);
        s.OnEncoderFailed(0, 0, out _, out _);
        s.OnEncoderFailed(1, 0, out _, out _);
        Assert.Null(s.OnEncoderFailed(2, 0, out _, out var spent));
        Assert.Equal("restart budget spent (2 restarts within 00:00:10)", spent);
        Assert.Equal(spent, s.Fail(nowMs: 1_000, spent));
        Assert.Null(s.Fail(1_000, spent));
        Assert.True(s.NothingWillWait);
        Assert.False(s.MayRevive(30_999));
        Assert.True(s.MayRevive(31_000));
        Assert.True(s.Revive("a frame arrived after the failed cooldown", out var report));
        Assert.Equal("a frame arrived after the failed cooldown", report);
        Assert.Equal(StreamState.Restarting, s.State);
        Assert.Equal(Policy.Min, s.ReviveDelay);
        Assert.Equal(TimeSpan.FromMilliseconds(100), s.OnEncoderFailed(3, 0, out _, out _)); // a fresh budget
    }

    [Fact]
    public void A_disabled_stream_is_not_revived_until_enabled()
    {
        var s = new EncoderSupervision(Policy) { Disabled = true };
        Assert.Equal("disabled by an operator", s.Fail(0, "disabled by an operator"));
        Assert.False(s.Revive("operator restart", out _));
        s.Disabled = false;
        Assert.True(s.Revive("enabled by an operator", out _));
        Assert.False(s.Revive("operator restart", out _)); // not Failed any more
    }

    [Fact]
    public void Idle_and_finished_report_their_reasons_once()
    {
        var s = new EncoderSupervision(Policy);
        Assert.Equal("no frame or heartbeat for 2000 ms", s.OnIdle(2000));
        Assert.Null(s.OnIdle(2500));
        Assert.Equal("a frame arrived", s.OnActivity());
        Assert.Null(s.OnActivity());
        Assert.Equal("closed by the client", s.OnFinished());
        Assert.True(s.NothingWillWait);
        Assert.Null(s.Fail(0, "x")); // a finished stream stays finished
    }
}
