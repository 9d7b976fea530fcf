using System.Runtime.Serialization;
using Akka.Actor;
using Akka.Remote.Serialization;

namespace FusionActors.Protocol.Serialization;

/// <summary>
/// Akka's system-message serializer (id 22), for remote death watch (watch, unwatch, death notices), which
/// clustering and clients need. Refused unread: the rest (create, recreate, suspend, resume, terminate, supervise,
/// failed), which only remote deployment uses, and with which a peer could stop a node's actors or make it
/// rebuild an exception of a type the payload names.
/// </summary>
public sealed class GuardedSystemMessageSerializer(ExtendedActorSystem system) : Akka.Serialization.Serializer(system)
{
    private static readonly HashSet<string> Allowed =
        ["Akka.Dispatch.SysMsg.Watch", "Akka.Dispatch.SysMsg.Unwatch", "Akka.Dispatch.SysMsg.DeathWatchNotification"];

    private readonly SystemMessageSerializer _inner = new(system);

    public override int Identifier => 22;

    public override bool IncludeManifest => _inner.IncludeManifest;

    public override byte[] ToBinary(object obj) => _inner.ToBinary(obj);

    public override object FromBinary(byte[] bytes, Type type) =>
        type.FullName is { } name && Allowed.Contains(name)
            ? _inner.FromBinary(bytes, type)
            : throw new SerializationException($"refused a system message {type.FullName} from the wire: only remote watch is open to peers");
}
