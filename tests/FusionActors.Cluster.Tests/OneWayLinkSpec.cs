using FusionActors.Client;
using FusionActors.Inference.Data;
using FusionActors.Scenarios;
using FusionActors.Scenarios.Faults;
using FusionActors.Scenarios.Playback;
using FusionActors.Scenarios.Remote;
using FusionActors.Soak;
using Xunit;
using Xunit.Abstractions;

namespace FusionActors.Cluster.Tests;

/// <summary>
/// A node SIGKILLed and started again at its address while its link to the client works one way only: the client's
/// bytes reach the restarted node and the node's answers are held, or the other way round. The client cannot attach
/// while it lasts (an open it sent may reach the node, the answer does not come back); once the link heals it resumes
/// and loses no frame and no window. The third case breaks the link after the client attached to the restarted node:
/// the node's pings still arrive while nothing the client sends does.
/// </summary>
[Collection(NodeProcessCollection.Name)]
public sealed class OneWayLinkSpec(ITestOutputHelper output)
{
    /// <summary>How long the restarted node's link stays broken one way: longer than an open's timeout and a reopen's back-off.</summary>
    private static readonly TimeSpan BrokenFor = TimeSpan.FromSeconds(12);

    [Theory]
    [InlineData(LinkDirection.FromNode, false)]
    [InlineData(LinkDirection.ToNode, false)]
    [InlineData(LinkDirection.ToNode, true)]
    public async Task A_client_resumes_without_loss_after_a_restarted_node_was_reachable_one_way_only(LinkDirection held, bool afterAttach)
    {
        var logs = Path.Combine(Path.GetTempPath(), $"fusion-oneway-spec-{Guid.NewGuid():N}");
        var bind = NodeProcess.FreePort();
        var advertised = NodeProcess.FreePort();
        var partitions = new PartitionTable();
        // The node binds one port and advertises the proxy's: the client reaches it only through the proxy.
        await using var proxy = new LoopbackProxy(0, advertised, bind, port => port == advertised ? 0 : null, partitions);
        var hocon = $"akka.remote.dot-netty.tcp {{\n  public-hostname = \"127.0.0.1\"\n  public-port = {advertised}\n}}\n";
        var node = NodeProcess.Start(bind, [advertised], logs, hocon);
        NodeProcess? again = null;
        try
        {
            await node.WaitUpAsync(TimeSpan.FromSeconds(90));
            await using var client = await FusionClient.ConnectAsync(new FusionClientOptions { Contacts = [$"127.0.0.1:{advertised}"] });
            await using var played = await PlayedSession.StartAsync(client, "oneway", 24);
            var session = played.Session;

            await session.WaitCommittedAsync(4_000_000, TimeSpan.FromSeconds(60));
            node.Kill();
            Assert.NotNull(await node.WaitExitAsync(TimeSpan.FromSeconds(30)));
            if (!afterAttach) partitions.CutOneWay(0, held);
            again = NodeProcess.Start(bind, [advertised], logs, hocon);
            await again.WaitUpAsync(TimeSpan.FromSeconds(90));
            if (afterAttach)
            {
                await WaitForAsync(() => session.Stats.Resumes.Count >= 1, TimeSpan.FromSeconds(120), "the client to resume on the restarted node");
                partitions.CutOneWay(0, held);
            }
            var committedWhileBroken = session.Stats.CommittedThroughUs;
            var connectionsBefore = proxy.Connections;
            // The fault's duration, not a synchronization: the client keeps trying through the broken link meanwhile.
            await Task.Delay(BrokenFor);
            var statsBroken = session.Stats;
            output.WriteLine($"held {held}{(afterAttach ? " after the client attached" : "")} for {BrokenFor.TotalSeconds:0} s: {proxy.Connections - connectionsBefore} connections dialled, " +
                             $"opens {statsBroken.Opens}, committed {committedWhileBroken} -> {statsBroken.CommittedThroughUs}");
            // Nothing can be committed while the client and the node cannot talk (after an attach, frames the node had
            // before the break still may be).
            if (!afterAttach) Assert.Equal(committedWhileBroken, statsBroken.CommittedThroughUs);
            partitions.Heal(0);

            var (stats, _) = await played.FinishAsync(output, logs);
            Assert.True(stats.Resumes.Count >= 1, "the session must have resumed on the restarted node");
        }
        finally
        {
            partitions.Heal(0);
            if (again is not null) await again.StopAsync(TimeSpan.FromSeconds(20));
            again?.Dispose();
            node.Dispose();
        }
        Directory.Delete(logs, recursive: true);
    }

    private static async Task WaitForAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"gave up waiting for {what}");
            await Task.Delay(100);
        }
    }
}
