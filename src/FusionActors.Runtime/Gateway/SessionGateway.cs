using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using FusionActors.Core.Specs;
using FusionActors.Core.Streams;
using FusionActors.Protocol;
using FusionActors.Protocol.Specs;
using FusionActors.Runtime.Alignment;
using FusionActors.Runtime.Fusion;
using FusionActors.Runtime.Sessions;
using FusionActors.Runtime.Streams;

namespace FusionActors.Runtime.Gateway;

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
    private readonly SpecLimits _limits;
    private ILoggingAdapter? _log;

    public SessionGateway(IActorRef sessions, SpecLimits? limits = null)
    {
        _sessions = sessions;
        _limits = limits ?? SpecLimits.Default;
    }

    /// <param name="limits">What a spec may ask (fusion.limits): checked here, before a shard entity exists for it.</param>
    public static Props Props(IActorRef sessions, SpecLimits? limits = null) => ActorFactory.Props(() => new SessionGateway(sessions, limits));

    private ILoggingAdapter Log => _log ??= Context.GetLogger();

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case IOperatorCommand:
                Refuse(message, "operator commands are served by the operator console, never by the client gateway");
                break;
            case OpenSession o when SpecValidator.Problems(o.Spec, _limits) is { Count: > 0 } problems:
                // Refused at the boundary: a spec that cannot run never gets a shard entity, on any node.
                Log.Warning("Gateway: refused an open of session {0} from {1}: {2}", o.SessionId.Length > 64 ? o.SessionId[..64] : o.SessionId,
                    Sender.Path.Address, string.Join("; ", problems));
                Sender.Tell(new CommandRejected(o.SessionId, nameof(OpenSession), string.Join("; ", problems), o.Nonce));
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
