using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using FusionActors.Protocol;

namespace FusionActors.Actors;

/// <summary>
/// The node's front door for remote clients (registered with the ClusterClient receptionist as
/// <c>/user/fusion-gateway</c>): a message with a session id goes to the session region, which finds the
/// session wherever it lives; a question about the cluster is answered here; anything else gets a typed
/// <see cref="UnsupportedMessage"/> back and a log line, and the node carries on.
/// </summary>
public sealed class SessionGateway : UntypedActor
{
    public const string Name = "fusion-gateway";

    /// <summary>The path clients send to through the receptionist.</summary>
    public const string Path = "/user/" + Name;

    private readonly IActorRef _sessions;
    private ILoggingAdapter? _log;

    public SessionGateway(IActorRef sessions) => _sessions = sessions;

    public static Props Props(IActorRef sessions) => ActorFactory.Props(() => new SessionGateway(sessions));

    private ILoggingAdapter Log => _log ??= Context.GetLogger();

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case IWithSessionId: _sessions.Forward(message); break;
            case GetClusterMembers:
                var state = Cluster.Get(Context.System).State;
                Sender.Tell(new ClusterMembers(
                    state.Members.Where(m => m.Status == MemberStatus.Up).Select(m => m.Address.ToString()).ToArray(),
                    state.Unreachable.Select(m => m.Address.ToString()).ToArray()));
                break;
            default:
                Log.Warning("Gateway: refused a {0} from {1}: not a session message", message.GetType().FullName, Sender.Path.Address);
                Sender.Tell(new UnsupportedMessage(message.GetType().FullName ?? message.GetType().Name,
                    "the gateway serves session messages (with a session id) and GetClusterMembers only"));
                break;
        }
    }
}
