using Akka.Actor;
using Akka.Event;
using FusionActors.Core.Streams;
using FusionActors.Protocol;
using FusionActors.Runtime.Alignment;
using FusionActors.Runtime.Fusion;
using FusionActors.Runtime.Gateway;
using FusionActors.Runtime.Metrics;
using FusionActors.Runtime.Streams;

namespace FusionActors.Runtime.Sessions;

/// <summary>
/// The guard of a session's child actors. A peer can address them by path (the shard and entity names are no
/// secret), so they take a protocol message from the wire only once their session has authorized and admitted
/// it (<see cref="ProtocolMessage.Admit"/>); anything else is dropped, logged and counted, unanswered.
/// </summary>
internal static class Unadmitted
{
    public static bool Drop(object message, IActorContext context)
    {
        if (message is not ProtocolMessage { FromWire: true }) return false;
        var name = message.GetType().Name;
        context.GetLogger().Warning("{0}: dropped a {1} from {2} that its session did not admit", context.Self.Path.Name, name, context.Sender.Path.Address);
        FusionMetrics.Unauthorized(name);
        return true;
    }
}
