using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using FusionActors.Protocol;
using FusionActors.Runtime.Gateway;

namespace FusionActors.Runtime.Hosting;

/// <summary>
/// Joins the seed nodes, and keeps a restarted first seed from forming a cluster of its own. A node that is first in
/// its seed list forms a new cluster when the other seeds do not let it in within seed-node-timeout, which they may
/// not do while they still hold its old incarnation and gate its address, longer still under load. So the first seed
/// asks the other seeds' gateways (<see cref="GetClusterMembers"/>) first: when any of them is in a cluster with
/// members up, it only joins them (the seed process that never forms a cluster, retrying until let in); when all of
/// them answer that they are not (a cold start), or none answers for <see cref="ProbeFor"/> (they are down), it joins
/// with its seed list as given and may form the cluster.
/// </summary>
public static class SeedJoin
{
    /// <summary>How long a first seed asks the others whether a cluster runs before it may form one.</summary>
    public static readonly TimeSpan ProbeFor = TimeSpan.FromSeconds(20);

    public static async Task JoinAsync(ActorSystem system, IReadOnlyList<Address> seeds)
    {
        var cluster = Cluster.Get(system);
        var log = Logging.GetLogger(system, typeof(SeedJoin));
        if (seeds.Count < 2 || !seeds[0].Equals(cluster.SelfAddress))
        {
            cluster.JoinSeedNodes(seeds);
            return;
        }
        var others = seeds.Skip(1).ToArray();
        var deadline = DateTime.UtcNow + ProbeFor;
        while (DateTime.UtcNow < deadline && !system.WhenTerminated.IsCompleted)
        {
            var answers = await Task.WhenAll(others.Select(a => MembersOf(system, a)));
            if (answers.FirstOrDefault(m => m is { Up.Length: > 0 }) is { } running)
            {
                log.Info("First seed {0}: a cluster runs (up: {1}); joining it, not forming one", cluster.SelfAddress, string.Join(", ", running.Up));
                cluster.JoinSeedNodes(others);
                return;
            }
            if (answers.All(m => m is not null)) break; // every other seed answered and none is in a cluster: a cold start
            await Task.Delay(TimeSpan.FromSeconds(1));
        }
        cluster.JoinSeedNodes(seeds);
    }

    private static async Task<ClusterMembers?> MembersOf(ActorSystem system, Address node)
    {
        try
        {
            var gateway = system.ActorSelection(new RootActorPath(node) / "user" / SessionGateway.Name);
            return await gateway.Ask<ClusterMembers>(GetClusterMembers.Instance, TimeSpan.FromSeconds(2));
        }
        catch (Exception e) when (e is AskTimeoutException or TaskCanceledException or InvalidCastException)
        {
            return null;
        }
    }
}
