using Xunit;
using FusionActors.Runtime.Metrics;

namespace FusionActors.Runtime.Tests;

public sealed class DriftMonitorSpec
{
    [Fact]
    public void The_window_mean_covers_the_last_scored_inputs_and_ignores_unscored_ones()
    {
        var m = new DriftMonitor(new DriftOptions { Window = 3, AlertThreshold = 100 });
        Assert.True(double.IsNaN(m.Mean));
        Assert.True(double.IsNaN(m.Last));
        foreach (var d in new[] { 1.0, double.NaN, 2.0, -1.0, double.PositiveInfinity, 3.0, 7.0 }) m.Add(d);
        Assert.Equal((2 + 3 + 7) / 3.0, m.Mean, 12);
        Assert.Equal((3, 4L, 7.0), (m.Count, m.Scored, m.Last));
    }

    [Fact]
    public void An_alert_is_raised_once_per_crossing_and_cleared_below_the_hysteresis()
    {
        var m = new DriftMonitor(new DriftOptions { Window = 4, AlertThreshold = 1.0 });
        var crossings = new List<DriftCrossing>();
        // Three high inputs: the window is not yet long enough (min(window, 10) = 4 inputs).
        for (var i = 0; i < 3; i++) crossings.Add(m.Add(5));
        Assert.All(crossings, c => Assert.Equal(DriftCrossing.None, c));
        Assert.Equal(DriftCrossing.Raised, m.Add(5));
        for (var i = 0; i < 20; i++) Assert.Equal(DriftCrossing.None, m.Add(5)); // still over: no new alert
        // Falling to 0.9 (between 0.8 and 1.0 × the threshold) does not clear it.
        for (var i = 0; i < 4; i++) Assert.Equal(DriftCrossing.None, m.Add(0.9));
        Assert.True(m.Alerting);
        var cleared = Enumerable.Range(0, 4).Select(_ => m.Add(0)).ToList();
        Assert.Contains(DriftCrossing.Cleared, cleared);
        Assert.False(m.Alerting);
        // Back over: alerted again, once.
        var again = Enumerable.Range(0, 8).Select(_ => m.Add(5)).ToList();
        Assert.Equal(1, again.Count(c => c == DriftCrossing.Raised));
        Assert.Equal(2, m.Alerts);
    }

    [Theory]
    [InlineData(0, 1.0)]
    [InlineData(-1, 1.0)]
    [InlineData(DriftOptions.MaxWindow + 1, 1.0)]
    [InlineData(10, 0.0)]
    [InlineData(10, -2.0)]
    [InlineData(10, double.NaN)]
    [InlineData(10, double.PositiveInfinity)]
    public void Invalid_options_are_refused_naming_the_key(int window, double threshold)
    {
        var options = new DriftOptions { Window = window, AlertThreshold = threshold };
        var problem = Assert.Single(options.Problems());
        Assert.Contains("Fusion:Drift:", problem);
        Assert.Throws<ArgumentException>(() => new DriftMonitor(options));
    }
}
