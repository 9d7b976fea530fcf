using FusionActors.Supervision;

namespace FusionActors.Core.Tests;

public class BackoffPolicySpec
{
    private static readonly BackoffPolicy Policy = new();

    [Fact]
    public void The_first_delay_is_the_minimum_of_100ms()
    {
        Assert.Equal(TimeSpan.FromMilliseconds(100), Policy.Delay(0, 0));
    }

    [Fact]
    public void Delays_double_per_attempt()
    {
        Assert.Equal(new[] { 100.0, 200, 400, 800, 1600, 3200, 6400 },
            Enumerable.Range(0, 7).Select(a => Policy.Delay(a, 0).TotalMilliseconds));
    }

    [Fact]
    public void Delays_are_capped_at_the_maximum_even_after_many_attempts()
    {
        Assert.Equal(TimeSpan.FromSeconds(10), Policy.Delay(7, 0));
        Assert.Equal(TimeSpan.FromSeconds(10), Policy.Delay(1_000, 0));
        Assert.Equal(TimeSpan.FromSeconds(10), Policy.Delay(int.MaxValue, 0));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(40)]
    public void Jitter_stays_within_one_to_one_plus_jitter_times_the_base(int attempt)
    {
        var @base = Policy.Delay(attempt, 0).TotalMilliseconds;
        for (var u = 0.0; u < 1; u += 0.05)
        {
            var d = Policy.Delay(attempt, u).TotalMilliseconds;
            Assert.InRange(d, @base, @base * 1.2 + 1e-6);
            Assert.InRange(d, 100, 12_000 + 1e-6);
        }
        Assert.True(Policy.Delay(attempt, 0.999).TotalMilliseconds > @base);
    }
}

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

public class QuarantineTrackerSpec
{
    [Fact]
    public void An_input_is_quarantined_at_its_third_failure()
    {
        var q = new QuarantineTracker();
        Assert.False(q.RecordFailure(100, 0));
        Assert.False(q.RecordFailure(100, 0));
        Assert.Equal(2, q.FailuresOf(100, 0));
        Assert.True(q.RecordFailure(100, 0));
        Assert.Equal(1, q.Quarantined);
        Assert.Equal(0, q.FailuresOf(100, 0));
    }

    [Fact]
    public void Failures_are_counted_per_input_and_revision()
    {
        var q = new QuarantineTracker();
        q.RecordFailure(100, 0);
        q.RecordFailure(100, 0);
        Assert.False(q.RecordFailure(100, 1));
        Assert.False(q.RecordFailure(200, 0));
        Assert.True(q.RecordFailure(100, 0));
    }

    [Fact]
    public void A_forgotten_input_starts_counting_again()
    {
        var q = new QuarantineTracker();
        q.RecordFailure(100, 0);
        q.RecordFailure(100, 0);
        q.Forget(100, 0);
        Assert.False(q.RecordFailure(100, 0));
        Assert.False(q.RecordFailure(100, 0));
        Assert.True(q.RecordFailure(100, 0));
    }

    [Fact]
    public void Memory_is_bounded_by_forgetting_the_oldest_suspects()
    {
        var q = new QuarantineTracker(maxFailures: 3, capacity: 2);
        q.RecordFailure(1, 0);
        q.RecordFailure(2, 0);
        q.RecordFailure(3, 0);
        Assert.Equal(0, q.FailuresOf(1, 0));
        Assert.Equal(1, q.FailuresOf(3, 0));
    }

    [Fact]
    public void A_forgotten_input_that_fails_again_is_not_forgotten_early_because_of_its_old_entry()
    {
        var q = new QuarantineTracker(maxFailures: 3, capacity: 2);
        q.RecordFailure(1, 0);
        q.Forget(1, 0);          // it encoded after all
        q.RecordFailure(1, 0);   // and fails again later: one live suspect
        q.RecordFailure(2, 0);   // two live suspects fit in a capacity of two
        Assert.Equal(1, q.FailuresOf(1, 0));
        Assert.Equal(1, q.FailuresOf(2, 0));
    }

    [Fact]
    public void Many_forgotten_inputs_neither_grow_memory_nor_evict_live_suspects()
    {
        var q = new QuarantineTracker(maxFailures: 3, capacity: 4);
        q.RecordFailure(-1, 0);
        q.RecordFailure(-1, 0);
        for (var i = 0; i < 10_000; i++)
        {
            q.RecordFailure(i, 0);
            q.Forget(i, 0);
        }
        Assert.Equal(2, q.FailuresOf(-1, 0));
        Assert.True(q.RecordFailure(-1, 0));
    }

    [Fact]
    public void A_stale_entry_of_an_already_quarantined_input_does_not_evict_a_live_suspect()
    {
        var q = new QuarantineTracker(maxFailures: 3, capacity: 2);
        for (var i = 0; i < 3; i++) q.RecordFailure(1, 0);   // quarantined
        q.RecordFailure(2, 0);
        q.RecordFailure(2, 0);
        // Two suspects at most are live: 2 and 3. Input 2 must keep its two failures.
        q.RecordFailure(3, 0);
        Assert.Equal(2, q.FailuresOf(2, 0));
        Assert.True(q.RecordFailure(2, 0));
    }
}
