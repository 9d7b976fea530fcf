using FusionActors.Client;
using FusionActors.Inference.Data;
using FusionActors.Scenarios;
using FusionActors.Scenarios.Faults;
using FusionActors.Scenarios.Playback;
using FusionActors.Scenarios.Remote;
using Xunit;
using Xunit.Abstractions;

namespace FusionActors.Cluster.Tests;

/// <summary>
/// Every node of a three-node cluster SIGKILLed at once (a power cut of the rack, or all of them quarantined and exiting
/// together), then started again in the worst order, the first seed last: the two that come up first find no cluster
/// and must not form one without the first seed; when it comes, the three form one cluster, and a client whose session
/// lived there resumes and loses no frame and no window.
/// </summary>
[Collection(NodeProcessCollection.Name)]
public sealed class WholeClusterRestartSpec(ITestOutputHelper output)
{
    [Fact]
    public async Task A_cluster_whose_every_node_died_at_once_forms_again_and_its_sessions_resume_without_loss()
    {
        var logs = Path.Combine(Path.GetTempPath(), $"fusion-whole-cluster-spec-{Guid.NewGuid():N}");
        var ports = new[] { NodeProcess.FreePort(), NodeProcess.FreePort(), NodeProcess.FreePort() };
        var nodes = new List<NodeProcess>();
        var again = new List<NodeProcess>();
        try
        {
            foreach (var p in ports) nodes.Add(NodeProcess.Start(p, ports, logs));
            foreach (var n in nodes) await n.WaitUpAsync(TimeSpan.FromSeconds(90));
            await using var client = await FusionClient.ConnectAsync(new FusionClientOptions { Contacts = ports.Select(p => $"127.0.0.1:{p}").ToArray() });
            await WaitFor(client, m => m.Up.Length == 3, "3 members up");
            await using var played = await PlayedSession.StartAsync(client, "rack", 30);
            await played.Session.WaitCommittedAsync(4_000_000, TimeSpan.FromSeconds(60));

            foreach (var n in nodes) n.Kill();
            foreach (var n in nodes) Assert.NotNull(await n.WaitExitAsync(TimeSpan.FromSeconds(30)));
            for (var i = 0; i < 3; i++) File.Move(nodes[i].LogPath, nodes[i].LogPath + ".1");
            // The first seed last: the other two wait for it (a non-first seed never forms a cluster on its own).
            foreach (var i in new[] { 2, 1, 0 }) again.Add(NodeProcess.Start(ports[i], ports, logs));
            foreach (var n in again) await n.WaitUpAsync(TimeSpan.FromSeconds(120));
            await WaitFor(client, m => m.Up.Length == 3 && m.Unreachable.Length == 0, "the three restarted nodes up in one cluster");

            await played.FinishAsync(output, logs);
            Assert.All(again, n => Assert.False(n.Exited));
        }
        finally
        {
            foreach (var n in again.Where(n => !n.Exited)) await n.StopAsync(TimeSpan.FromSeconds(20));
            foreach (var n in again) n.Dispose();
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
