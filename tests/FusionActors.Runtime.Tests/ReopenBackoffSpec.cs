using FusionActors.Client;
using Xunit;

namespace FusionActors.Runtime.Tests;

/// <summary>How long a client waits before reopening a session it lost again soon after reopening it.</summary>
public sealed class ReopenBackoffSpec
{
    private static readonly FusionClientOptions Options = new() { Contacts = ["127.0.0.1:1"] };

    [Fact]
    public void The_first_reopen_after_a_connection_that_held_is_at_once()
    {
        Assert.Equal(TimeSpan.Zero, Options.ReopenDelay(0, 0.99));
    }

    [Fact]
    public void Quick_losses_in_a_row_double_the_wait_up_to_the_cap_with_at_most_a_fifth_of_jitter()
    {
        Assert.Equal(TimeSpan.FromMilliseconds(250), Options.ReopenDelay(1, 0));
        Assert.Equal(TimeSpan.FromMilliseconds(500), Options.ReopenDelay(2, 0));
        Assert.Equal(TimeSpan.FromMilliseconds(1000), Options.ReopenDelay(3, 0));
        Assert.Equal(TimeSpan.FromSeconds(5), Options.ReopenDelay(6, 0));
        Assert.Equal(TimeSpan.FromSeconds(5), Options.ReopenDelay(1000, 0));
        Assert.Equal(TimeSpan.FromSeconds(6), Options.ReopenDelay(1000, 1));
        // Jittered: two clients that lost the same node do not come back in lockstep.
        Assert.NotEqual(Options.ReopenDelay(3, 0.1), Options.ReopenDelay(3, 0.7));
        // A storm of 100 quick losses in a row takes minutes, not a second.
        var total = Enumerable.Range(1, 100).Sum(n => Options.ReopenDelay(n, 0).TotalSeconds);
        Assert.True(total > 400, $"{total} s");
    }
}
