using FusionActors.Core.Supervision;

namespace FusionActors.Core.Tests;

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
