using FusionActors.Scenarios.Remote;
using Xunit;
using Xunit.Abstractions;

namespace FusionActors.Cluster.Tests;

/// <summary>
/// The proof of no loss: three nodes in separate processes on loopback, a long AV-Digits session
/// pushed through the client library in real time, and a SIGKILL of the node hosting the session midway.
/// </summary>
public sealed class FailoverSpec(ITestOutputHelper output)
{
    [Fact]
    public async Task Killing_the_node_that_hosts_a_session_loses_no_frame_and_no_window()
    {
        var logs = Path.Combine(Path.GetTempPath(), $"fusion-failover-spec-{Guid.NewGuid():N}");
        var report = await FailoverScenario.RunAsync(new FailoverScenario.Options
        {
            Seconds = 16,
            KillAtSeconds = 5,
            // The target is 10 s, and ./build.sh failover-demo checks that (7.2-9.0 s measured). On a CI
            // machine busy with the other test projects the same steps (failure detector, split-brain resolver,
            // removal, coordinator) run on starved timers, so the test allows 12 s to stay reliable.
            ResumeLimit = TimeSpan.FromSeconds(12),
            LogDir = logs,
            Progress = output.WriteLine,
        }, CancellationToken.None);
        output.WriteLine(System.Text.Json.JsonSerializer.Serialize(report, FailoverScenario.Json));

        Assert.True(report.Passed, string.Join("; ", report.Failures) + $" (node logs in {logs})");
        // Every frame seq was processed at least once: the server committed every frame the client sent.
        Assert.Equal(report.FramesSent, report.FramesCommitted);
        Assert.Equal(16 * 60, report.FramesSent);
        // Every window got a result decided on evidence, and none is missing.
        Assert.Equal(16, report.WindowsExpected);
        Assert.Equal(16, report.WindowsFused);
        Assert.Empty(report.MissingWindows);
        Assert.NotEqual(report.KilledNode, report.ResumedNode);
        Assert.InRange(report.ResumeSeconds, 0, 12);
        // Committed means processed, not dropped: no frame was refused on the way either.
        Assert.Empty(report.FramesRejected);
        Assert.True(report.EntriesReplayed > 0, "nothing was replayed: the kill did not interrupt the session");
        Directory.Delete(logs, recursive: true);
    }
}
