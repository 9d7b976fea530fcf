using System.Runtime.Serialization;
using Akka.Actor;
using Akka.Remote.Serialization;
using Akka.Serialization;

namespace FusionActors.Protocol.Serialization;

/// <summary>
/// Akka's misc-message serializer (id 16), for what remoting itself needs from the wire: identify, actor refs,
/// remote-watch heartbeats, <c>Status.Success</c>. Refused unread: <c>Status.Failure</c> (its exception is
/// rebuilt by invoking a constructor of whatever type the payload names), <c>PoisonPill</c> and <c>Kill</c>
/// (a peer would stop the gateway), and the deployment and router configurations.
/// </summary>
public sealed class GuardedMiscSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    private static readonly HashSet<string> Allowed = ["ID", "AID", "AR", "RWHB", "RWHR", "STS"];
    private readonly MiscMessageSerializer _inner = new(system);

    public override int Identifier => 16;

    public override string Manifest(object o) => _inner.Manifest(o);

    public override byte[] ToBinary(object obj) => _inner.ToBinary(obj);

    public override object FromBinary(byte[] bytes, string manifest) =>
        Allowed.Contains(manifest)
            ? _inner.FromBinary(bytes, manifest)
            : throw new SerializationException($"refused an Akka misc message with manifest '{manifest}' from the wire: it is closed to peers");
}
