using FusionActors.Client;
using FusionActors.Scenarios.Remote;
using Xunit;
using Xunit.Abstractions;

namespace FusionActors.Cluster.Tests;

/// <summary>
/// A node of three frozen (SIGSTOP) long enough that the other two down and remove it, and quarantine it, wakes to
/// find no way back: it exits non-zero instead of running on as a cluster of its own with the sessions it had.
/// </summary>
[Collection(NodeProcessCollection.Name)]
public sealed class QuarantinedNodeSpec(ITestOutputHelper output)
{
    [Fact]
    public async Task A_node_the_majority_removed_and_quarantined_while_it_was_paused_exits_non_zero_instead_of_forming_an_island()
    {
        var logs = Path.Combine(Path.GetTempPath(), $"fusion-quarantined-spec-{Guid.NewGuid():N}");
        var ports = new[] { NodeProcess.FreePort(), NodeProcess.FreePort(), NodeProcess.FreePort() };
        var nodes = new List<NodeProcess>();
        try
        {
            foreach (var p in ports) nodes.Add(NodeProcess.Start(p, [ports[0]], logs));
            foreach (var n in nodes) await n.WaitUpAsync(TimeSpan.FromSeconds(90));
            await using var client = await FusionClient.ConnectAsync(new FusionClientOptions { Contacts = [$"127.0.0.1:{ports[0]}", $"127.0.0.1:{ports[1]}"] });
            await WaitForUp(client, 3);

            // config/node.hocon: unreachable after ~2 s of silence, downed 2 s later, removed about a second after.
            var paused = nodes[2];
            paused.Pause(stop: true);
            await Task.Delay(TimeSpan.FromSeconds(9)); // the fault
            paused.Pause(stop: false);

            var exit = await paused.WaitExitAsync(TimeSpan.FromSeconds(90));
            var tail = File.ReadLines(paused.LogPath).Where(l => l.Contains("quarantined this node") || l.Contains("terminated (downed")).Take(3);
            output.WriteLine($"paused node exit code: {exit?.ToString() ?? "still running"}: {string.Join(" | ", tail)}; logs in {logs}");
            Assert.Equal(HostExitCodes.NodeTerminated, exit);
            Assert.False(nodes[0].Exited);
            Assert.False(nodes[1].Exited);
            var members = await client.MembersAsync();
            Assert.DoesNotContain(members.Up, a => a.EndsWith($":{ports[2]}", StringComparison.Ordinal));
            Assert.Equal(2, members.Up.Length);
        }
        finally
        {
            foreach (var n in nodes.Where(n => !n.Exited)) await n.StopAsync(TimeSpan.FromSeconds(20));
            foreach (var n in nodes) n.Dispose();
        }
        Directory.Delete(logs, recursive: true);
    }

    private static async Task WaitForUp(FusionClient client, int count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (true)
        {
            try
            {
                if ((await client.MembersAsync()).Up.Length >= count) return;
            }
            catch (FusionSessionException) when (DateTime.UtcNow < deadline)
            {
            }
            Assert.True(DateTime.UtcNow < deadline, $"the cluster did not reach {count} members");
            await Task.Delay(250);
        }
    }
}
