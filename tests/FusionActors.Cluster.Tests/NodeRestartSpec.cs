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
/// A node SIGKILLed and started again at the same address (same port, a new actor system): a client whose session
/// lived there resumes on the new incarnation once, not in a storm of reopens, and loses no frame.
/// </summary>
[Collection(NodeProcessCollection.Name)]
public sealed class NodeRestartSpec(ITestOutputHelper output)
{
    [Fact]
    public async Task A_client_resumes_on_a_node_restarted_at_its_own_address_without_a_storm_of_reopens()
    {
        var logs = Path.Combine(Path.GetTempPath(), $"fusion-restart-spec-{Guid.NewGuid():N}");
        var port = NodeProcess.FreePort();
        var node = NodeProcess.Start(port, [port], logs);
        NodeProcess? again = null;
        try
        {
            await node.WaitUpAsync(TimeSpan.FromSeconds(90));
            await using var client = await FusionClient.ConnectAsync(new FusionClientOptions { Contacts = [$"127.0.0.1:{port}"] });
            await using var played = await PlayedSession.StartAsync(client, "restart", 24);
            var session = played.Session;

            // Some windows fused and committed, then the power cut, then the same node again at the same address.
            await session.WaitCommittedAsync(4_000_000, TimeSpan.FromSeconds(60));
            node.Kill();
            Assert.NotNull(await node.WaitExitAsync(TimeSpan.FromSeconds(30)));
            again = NodeProcess.Start(port, [port], logs);
            await again.WaitUpAsync(TimeSpan.FromSeconds(90));

            var (stats, _) = await played.FinishAsync(output, logs);
            Assert.True(stats.Resumes.Count >= 1, "the session must have resumed on the restarted node");
            // One loss, one reopen; a retry or two while the node starts are tolerable, a storm is not.
            Assert.True(stats.Opens <= 4, $"{stats.Opens} opens: a storm of reopens");
        }
        finally
        {
            if (again is not null) await again.StopAsync(TimeSpan.FromSeconds(20));
            again?.Dispose();
            node.Dispose();
        }
        Directory.Delete(logs, recursive: true);
    }
}
