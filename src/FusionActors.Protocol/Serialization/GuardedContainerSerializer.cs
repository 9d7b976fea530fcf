using System.Runtime.Serialization;
using Akka.Actor;
using Akka.Remote.Serialization;

namespace FusionActors.Protocol.Serialization;

/// <summary>
/// Akka's serializer of actor selections (id 6), which clients and nodes need to reach the gateway, the
/// receptionist and the cluster's own actors by path. Refused: selections with wildcards or parent steps, with
/// which a peer would list or reach every session's actors at once (none of Akka's own selections use them).
/// </summary>
public sealed class GuardedContainerSerializer(ExtendedActorSystem system) : Akka.Serialization.Serializer(system)
{
    private readonly MessageContainerSerializer _inner = new(system);

    public override int Identifier => 6;

    public override bool IncludeManifest => _inner.IncludeManifest;

    public override byte[] ToBinary(object obj) => _inner.ToBinary(obj);

    public override object FromBinary(byte[] bytes, Type? type)
    {
        var message = _inner.FromBinary(bytes, type);
        if (message is ActorSelectionMessage { Elements: var elements } && elements.Any(e => e is not SelectChildName))
            throw new SerializationException($"refused an actor selection with wildcards or parent steps ({string.Join("/", elements)}) from the wire");
        return message;
    }
}
