using FusionActors.Core.Supervision;

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
