using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using FusionActors.Protocol;

namespace FusionActors.Actors;

/// <summary>
/// The node's front door for remote clients (registered with the ClusterClient receptionist as
/// <c>/user/fusion-gateway</c>): a client's session operation goes to the session region, which finds the
/// session wherever it lives and authorizes it there (token at open, capability after); a question about the
/// cluster is answered here. Operator and chaos commands are never served here, whatever they carry, and nor
/// is anything else: a typed <see cref="UnsupportedMessage"/> goes back with a log line, and the node carries on.
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
            case IOperatorCommand:
                Refuse(message, "operator commands are served by the operator console, never by the client gateway");
                break;
            case OpenSession or CloseSession or Subscribe or Unsubscribe or GetSessionStatus or Frame or FrameBatch or StreamHeartbeat or CloseStream:
                _sessions.Forward(message);
                break;
            case GetClusterMembers:
                var state = Cluster.Get(Context.System).State;
                Sender.Tell(new ClusterMembers(
                    state.Members.Where(m => m.Status == MemberStatus.Up).Select(m => m.Address.ToString()).ToArray(),
                    state.Unreachable.Select(m => m.Address.ToString()).ToArray()));
                break;
            default:
                Refuse(message, "the gateway serves a client's session operations and GetClusterMembers only");
                break;
        }
    }

    private void Refuse(object message, string why)
    {
        Log.Warning("Gateway: refused a {0} from {1}: {2}", message.GetType().FullName, Sender.Path.Address, why);
        Sender.Tell(new UnsupportedMessage(message.GetType().FullName ?? message.GetType().Name, why));
    }
}
