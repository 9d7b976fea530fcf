using Akka.Actor;
using Akka.Cluster;
using Akka.Remote;
using FusionActors.Runtime.Hosting;
using Xunit;
using static FusionActors.Runtime.Tests.TestSessions;

namespace FusionActors.Runtime.Tests;

/// <summary>
/// Two real nodes over remoting on loopback: when one quarantines the other (as the majority does with a node it
/// downed and removed while that node was paused), the quarantined node shuts itself down instead of running on as
/// a cluster of one.
/// </summary>
public sealed class QuarantineGuardSpec
{
    [Fact]
    public async Task A_node_quarantined_by_a_cluster_member_shuts_itself_down()
    {
        var (portA, portB) = (FreePort(), FreePort());
        var seeds = $"fusion.node.seeds = [\"akka.tcp://fusion@127.0.0.1:{portA}\"]";
        await using var a = await StartNodeAsync(portA, seeds);
        var b = await StartNodeAsync(portB, seeds);
        try
        {
            await b.System.WhenUp();
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (Cluster.Get(a.System).State.Members.Count(m => m.Status == MemberStatus.Up) < 2)
            {
                Assert.True(DateTime.UtcNow < deadline, "the two nodes did not form a cluster");
                await Task.Delay(100);
            }

            // The member quarantines the other's incarnation: from now on every association between them is refused.
            var bAddress = Cluster.Get(b.System).SelfAddress;
            ((IRemoteActorRefProvider)((ExtendedActorSystem)a.System).Provider).Quarantine(bAddress, AddressUidExtension.Uid(b.System));

            // Well before the split-brain resolver of either could act (stable-after 20 s): the guard's doing.
            await b.System.WhenTerminated.WaitAsync(TimeSpan.FromSeconds(15));
            Assert.Same(QuarantinedByMember.Instance, CoordinatedShutdown.Get(b.System).ShutdownReason);
            Assert.False(a.System.WhenTerminated.IsCompleted);
        }
        finally
        {
            await b.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_node_quarantined_by_a_client_stays()
    {
        var port = FreePort();
        await using var node = await StartNodeAsync(port);
        var client = ActorSystem.Create("fusion-client", "akka.actor.provider = remote\nakka.remote.dot-netty.tcp { hostname = 127.0.0.1, port = 0 }\nakka.loglevel = WARNING");
        try
        {
            var nodeAddress = Cluster.Get(node.System).SelfAddress;
            var clientAddress = ((ExtendedActorSystem)client).Provider.DefaultAddress;
            var onNode = new Akka.TestKit.Xunit2.TestKit(node.System);
            node.System.EventStream.Subscribe(onNode.TestActor, typeof(ThisActorSystemQuarantinedEvent));
            // The client gives up on the node (its remote watch does, after a long silence), then the node tries it.
            ((IRemoteActorRefProvider)((ExtendedActorSystem)client).Provider).Quarantine(nodeAddress, AddressUidExtension.Uid(node.System));
            var told = new Akka.TestKit.Xunit2.TestKit(client);
            node.System.ActorSelection(told.TestActor.Path.ToStringWithAddress(clientAddress)).Tell(new Identify(1));
            var quarantined = onNode.ExpectMsg<ThisActorSystemQuarantinedEvent>(TimeSpan.FromSeconds(30));
            Assert.Equal(clientAddress, quarantined.RemoteAddress);

            // The guard got the same event before this Identify: it answers, and nothing shuts the node down.
            node.System.ActorSelection($"/user/{QuarantineGuard.Name}").Tell(new Identify(2), onNode.TestActor);
            Assert.NotNull(onNode.ExpectMsg<ActorIdentity>(TimeSpan.FromSeconds(20)).Subject);
            Assert.Null(CoordinatedShutdown.Get(node.System).ShutdownReason);
        }
        finally
        {
            await client.Terminate();
        }
    }
}
