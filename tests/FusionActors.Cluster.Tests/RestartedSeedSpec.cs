using FusionActors.Client;
using FusionActors.Scenarios.Remote;
using Xunit;
using Xunit.Abstractions;

namespace FusionActors.Cluster.Tests;

/// <summary>
/// The first seed node SIGKILLed and started again at once with the same command line (every node lists all seeds,
/// itself first for the first node) joins the cluster the others still run instead of forming one of its own.
/// </summary>
[Collection(NodeProcessCollection.Name)]
public sealed class RestartedSeedSpec(ITestOutputHelper output)
{
    [Fact]
    public async Task The_first_seed_restarted_at_once_with_its_command_line_joins_the_running_cluster()
    {
        var logs = Path.Combine(Path.GetTempPath(), $"fusion-restarted-seed-spec-{Guid.NewGuid():N}");
        var ports = new[] { NodeProcess.FreePort(), NodeProcess.FreePort(), NodeProcess.FreePort() };
        var nodes = new List<NodeProcess>();
        NodeProcess? again = null;
        try
        {
            foreach (var p in ports) nodes.Add(NodeProcess.Start(p, ports, logs));
            foreach (var n in nodes) await n.WaitUpAsync(TimeSpan.FromSeconds(90));
            await using var client = await FusionClient.ConnectAsync(new FusionClientOptions { Contacts = [$"127.0.0.1:{ports[1]}", $"127.0.0.1:{ports[2]}"] });
            await WaitFor(client, m => m.Up.Length == 3, "3 members up");

            // The power cut, and the same command line again at once: the others still hold the old incarnation
            // (unreachable) and have gated its address when it starts.
            nodes[0].Kill();
            await nodes[0].WaitExitAsync(TimeSpan.FromSeconds(30));
            File.Move(nodes[0].LogPath, nodes[0].LogPath + ".1");
            again = NodeProcess.Start(ports[0], ports, logs);
            await again.WaitUpAsync(TimeSpan.FromSeconds(90));

            // The new incarnation is Up in the cluster of the other two: the old one was removed and it joined them.
            await WaitFor(client, m => m.Up.Length == 3 && m.Unreachable.Length == 0, "the restarted seed up among the others");
            var log = await File.ReadAllTextAsync(again.LogPath);
            output.WriteLine($"restarted seed: {(log.Contains("JOINING itself") ? "formed a cluster of its own" : "joined")}; logs in {logs}");
            Assert.DoesNotContain("JOINING itself", log);
            Assert.Contains("Welcome from", log);
            // It asked the others first, found their cluster running and only joined it (SeedJoin).
            Assert.Contains("joining it, not forming one", log);
            Assert.False(again.Exited);
        }
        finally
        {
            if (again is not null) await again.StopAsync(TimeSpan.FromSeconds(20));
            again?.Dispose();
            foreach (var n in nodes.Where(n => !n.Exited)) await n.StopAsync(TimeSpan.FromSeconds(20));
            foreach (var n in nodes) n.Dispose();
        }
        Directory.Delete(logs, recursive: true);
    }

    private static async Task WaitFor(FusionClient client, Func<FusionActors.Protocol.ClusterMembers, bool> done, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        while (true)
        {
            try
            {
                if (done(await client.MembersAsync())) return;
            }
            catch (FusionSessionException) when (DateTime.UtcNow < deadline)
            {
            }
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Delay(250);
        }
    }
}
