using FusionActors.Core.Streams;
using FusionActors.Protocol;
using static FusionActors.Core.Tests.TestData;

namespace FusionActors.Core.Tests;

public class StreamIntakeSpec
{
    private static StreamIntake Intake(long startedAtMs = 0) => new(Stream("cam") with { MaxFutureSkewUs = Sec }, new SeqTracker(16), startedAtMs);

    private static RejectReason? Admit(StreamIntake intake, Frame frame, StreamState state = StreamState.Active, bool disabled = false,
        long nowMs = 0, long sessionNowUs = 10 * Sec) => intake.Admit(frame, state, disabled, nowMs, sessionNowUs, null)?.Reason;

    [Fact]
    public void A_seq_is_taken_once_then_refused_as_a_duplicate()
    {
        var intake = Intake();
        Assert.Null(Admit(intake, Frame("cam", 0, 0, 4)));
        Assert.Equal(RejectReason.Duplicate, Admit(intake, Frame("cam", 0, 0, 4)));
        Assert.Equal(RejectReason.SeqOutOfRange, Admit(intake, Frame("cam", 100, 0, 4)));
    }

    [Fact]
    public void Refusals_come_in_order_finished_disabled_drill_invalid_seq_and_a_refused_frame_leaves_its_seq_free()
    {
        var intake = Intake();
        intake.DropFrames(nowMs: 0, TimeSpan.FromSeconds(1));
        var bad = Frame("cam", 0, 0, 3); // wrong payload size
        Assert.Equal(RejectReason.StreamFinished, Admit(intake, bad, StreamState.Finished, disabled: true));
        Assert.Equal(RejectReason.StreamDisabled, Admit(intake, bad, disabled: true));
        Assert.Equal(RejectReason.ChaosDropped, Admit(intake, bad, nowMs: 999));
        Assert.Equal(RejectReason.WrongPayloadSize, Admit(intake, bad, nowMs: 1000));
        Assert.Equal(RejectReason.TooFarInFuture, Admit(intake, Frame("cam", 0, 12 * Sec, 4), nowMs: 1000));
        Assert.Null(Admit(intake, Frame("cam", 0, 0, 4), nowMs: 1000));
    }

    [Fact]
    public void Silence_counts_from_the_last_activity_and_is_reported_once_it_reaches_the_timeout()
    {
        var intake = Intake(startedAtMs: 500);
        var timeout = TimeSpan.FromMilliseconds(200);
        Assert.Null(intake.SilentFor(699, timeout));
        Assert.Equal(200, intake.SilentFor(700, timeout));
        intake.OnActivity(700);
        Assert.Null(intake.SilentFor(800, timeout));
        Assert.Equal(250, intake.SilentFor(950, timeout));
    }

    [Theory]
    [InlineData(2000, 500)]
    [InlineData(8, 5)] // never more often than every 5 ms
    public void The_idle_check_runs_every_quarter_of_the_timeout(int timeoutMs, int everyMs) =>
        Assert.Equal(TimeSpan.FromMilliseconds(everyMs), StreamIntake.IdleCheckEvery(TimeSpan.FromMilliseconds(timeoutMs)));
}
