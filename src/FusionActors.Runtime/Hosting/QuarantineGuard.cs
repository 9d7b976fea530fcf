using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Akka.Remote;

namespace FusionActors.Runtime.Hosting;

/// <summary>
/// Shuts a node down when a member of its cluster has quarantined it. A quarantine is for good: no association with
/// that member is possible until this actor system restarts. A node that goes on anyway (woken from a long pause after
/// the others downed and removed it) would see every other member unreachable, and its split-brain resolver could
/// down them and keep it running as a cluster of one, with the shard coordinator and the sessions it had. Stopped
/// instead, the node program exits non-zero (3), so its supervisor starts it again and it joins afresh. A client
/// that quarantined this node does not count: clients are never members.
/// </summary>
public sealed class QuarantineGuard : ReceiveActor
{
    public const string Name = "fusion-quarantine-guard";

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private bool _stopping;

    public QuarantineGuard()
    {
        Receive<ThisActorSystemQuarantinedEvent>(OnQuarantined);
    }

    public static Props Props() => Akka.Actor.Props.Create(() => new QuarantineGuard());

    protected override void PreStart() => Context.System.EventStream.Subscribe(Self, typeof(ThisActorSystemQuarantinedEvent));

    protected override void PostStop() => Context.System.EventStream.Unsubscribe(Self);

    private void OnQuarantined(ThisActorSystemQuarantinedEvent e)
    {
        var cluster = Cluster.Get(Context.System);
        var member = cluster.State.Members.Any(m => m.Address.Equals(e.RemoteAddress))
                     || cluster.State.Unreachable.Any(m => m.Address.Equals(e.RemoteAddress));
        if (!member || _stopping)
        {
            if (!member) _log.Warning("{0} has quarantined this node; it is not a member of the cluster, so the node stays", e.RemoteAddress);
            return;
        }
        _stopping = true;
        _log.Error("Cluster member {0} has quarantined this node ({1}): it cannot rejoin without a restart; shutting down", e.RemoteAddress, e.LocalAddress);
        CoordinatedShutdown.Get(Context.System).Run(QuarantinedByMember.Instance);
    }
}

/// <summary>Why a node shut itself down: a cluster member quarantined it (<see cref="QuarantineGuard"/>).</summary>
public sealed class QuarantinedByMember : CoordinatedShutdown.Reason
{
    public static readonly QuarantinedByMember Instance = new();

    private QuarantinedByMember()
    {
    }

    /// <summary>The node program's code for a node whose actor system the cluster ended (it exits with it).</summary>
    public override int ExitCode => 3;

    public override string ToString() => "quarantined by a cluster member";
}
