using FusionActors.Core.Supervision;

namespace FusionActors.Core.Tests;

public class RestartBudgetSpec
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly BackoffPolicy Policy = new() { MaxRestarts = 3, Within = TimeSpan.FromMinutes(1) };

    [Fact]
    public void Restarts_up_to_the_maximum_within_the_window_are_allowed_and_the_next_spends_the_budget()
    {
        var b = new RestartBudget(Policy);
        Assert.True(b.TryRestart(T0));
        Assert.True(b.TryRestart(T0.AddSeconds(10)));
        Assert.True(b.TryRestart(T0.AddSeconds(20)));
        Assert.False(b.TryRestart(T0.AddSeconds(30)));
        Assert.Equal((4, 4), (b.Consecutive, b.Total));
    }

    [Fact]
    public void The_budget_recovers_once_old_restarts_leave_the_window()
    {
        var b = new RestartBudget(Policy);
        b.TryRestart(T0);
        b.TryRestart(T0.AddSeconds(1));
        b.TryRestart(T0.AddSeconds(2));
        Assert.True(b.TryRestart(T0.AddSeconds(61)));   // the first has left the window
        Assert.True(b.TryRestart(T0.AddSeconds(200)));  // all have left
    }

    [Fact]
    public void A_restart_exactly_one_window_later_still_counts()
    {
        var b = new RestartBudget(Policy);
        b.TryRestart(T0);
        b.TryRestart(T0);
        b.TryRestart(T0);
        Assert.False(b.TryRestart(T0.AddMinutes(1)));
    }

    [Fact]
    public void Success_resets_the_consecutive_count_but_not_the_budget_and_reset_clears_both()
    {
        var b = new RestartBudget(Policy);
        b.TryRestart(T0);
        b.TryRestart(T0);
        b.OnSuccess();
        Assert.Equal(0, b.Consecutive);
        b.TryRestart(T0);
        Assert.False(b.TryRestart(T0));
        b.Reset();
        Assert.True(b.TryRestart(T0));
        Assert.Equal(1, b.Consecutive);
        Assert.Equal(5, b.Total);
    }
}
