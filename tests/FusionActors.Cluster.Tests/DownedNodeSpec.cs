using FusionActors.Scenarios.Remote;
using Xunit;
using Xunit.Abstractions;

namespace FusionActors.Cluster.Tests;

/// <summary>
/// A node paused long enough to be downed by the others (a long GC pause, a suspended VM) finds on waking that its
/// actor system was shut down: the process exits non-zero, so whatever supervises it starts it again.
/// </summary>
public sealed class DownedNodeSpec(ITestOutputHelper output)
{
    [Fact]
    public async Task A_node_downed_while_it_was_paused_exits_non_zero_instead_of_lingering()
    {
        var logs = Path.Combine(Path.GetTempPath(), $"fusion-downed-spec-{Guid.NewGuid():N}");
        // The split-brain resolver keeps the side with the lowest address on a tie: the survivor gets the lower port.
        var ports = new[] { NodeProcess.FreePort(), NodeProcess.FreePort() }.Order().ToArray();
        using var survivor = NodeProcess.Start(ports[0], [ports[0]], logs);
        await survivor.WaitUpAsync(TimeSpan.FromSeconds(60));
        using var paused = NodeProcess.Start(ports[1], [ports[0]], logs);
        await paused.WaitUpAsync(TimeSpan.FromSeconds(60));

        // The fault itself: config/node.hocon marks a node unreachable after 2 s of silence and downs it 2 s later.
        paused.Pause(stop: true);
        await Task.Delay(TimeSpan.FromSeconds(10));
        paused.Pause(stop: false);

        var exit = await paused.WaitExitAsync(TimeSpan.FromSeconds(60));
        output.WriteLine($"paused node exit code: {exit?.ToString() ?? "still running"}; logs in {logs}");
        Assert.Equal(HostExitCodes.NodeTerminated, exit);
        Assert.False(survivor.Exited);
        await survivor.StopAsync(TimeSpan.FromSeconds(20));
        Directory.Delete(logs, recursive: true);
    }
}
