using FusionActors.Soak;
using Xunit;

namespace FusionActors.Cluster.Tests;

/// <summary>
/// The soak's island check: a restarted node that forms a cluster while another node is up is an island (killed and
/// counted as a failure); one that forms it when every other node is down (all were lost at once) is the recovery, which
/// the other nodes then join; a node's first start forms the cluster by design.
/// </summary>
public sealed class SoakIslandSpec
{
    // As Akka.Cluster logs it when a node finds no cluster at its seeds and forms one.
    private const string Forms = "[INFO][12/01/2026 20:31:02.118Z][Thread 0012][Cluster (akka://fusion)] Cluster Node [akka.tcp://fusion@127.0.0.1:4053] - " +
                                 "Node [akka.tcp://fusion@127.0.0.1:4053] is JOINING itself (with roles [fusion], version [0.0.0]) and forming a new cluster";

    private const string Joins = "[INFO][12/01/2026 20:31:02.118Z][Thread 0012][Cluster (akka://fusion)] Cluster Node [akka.tcp://fusion@127.0.0.1:4054] - " +
                                 "Welcome from [akka.tcp://fusion@127.0.0.1:4053]";

    [Theory]
    [InlineData(2, Forms, true, SoakNode.Forming.Island)]
    [InlineData(5, Forms, true, SoakNode.Forming.Island)]
    [InlineData(2, Forms, false, SoakNode.Forming.Recovery)]
    [InlineData(1, Forms, true, SoakNode.Forming.Nothing)]
    [InlineData(1, Forms, false, SoakNode.Forming.Nothing)]
    [InlineData(2, Joins, true, SoakNode.Forming.Nothing)]
    [InlineData(2, Joins, false, SoakNode.Forming.Nothing)]
    public void A_restart_forming_a_cluster_is_an_island_only_while_another_node_is_up(int incarnation, string line, bool othersUp, SoakNode.Forming expected) =>
        Assert.Equal(expected, SoakNode.Formed(incarnation, line, othersUp));
}
