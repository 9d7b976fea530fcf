using System.Runtime.Serialization;
using Akka.Actor;

namespace FusionActors.Protocol.Serialization;

/// <summary>
/// Holds the id of one of Akka's serializers that builds whatever type a payload names, so that nothing from
/// the wire reaches it: a payload in it is refused before a byte of it is read, and sending a message that would
/// fall back to it fails with the message's type named (a binding in <see cref="WireTypes"/> is missing).
/// </summary>
public abstract class RefusingSerializer(ExtendedActorSystem system, int id, string what) : Akka.Serialization.Serializer(system)
{
    public override int Identifier => id;

    public override bool IncludeManifest => true;

    public override byte[] ToBinary(object obj) =>
        throw new SerializationException($"{obj.GetType().FullName} has no wire binding of FusionActors, and {what} (serializer {id}) is closed");

    public override object FromBinary(byte[] bytes, Type type) =>
        throw new SerializationException($"refused a {bytes.Length}-byte payload in serializer {id} ({what}): it is closed to the wire");

    /// <summary>Akka's default Newtonsoft JSON serializer (id 1), which honours <c>$type</c>.</summary>
    public sealed class Json(ExtendedActorSystem system) : RefusingSerializer(system, 1, "Newtonsoft JSON")
    {
        // Akka passes the settings it has for the key it replaces (serialization-settings.json).
        public Json(ExtendedActorSystem system, Akka.Configuration.Config settings) : this(system) { }
    }

    /// <summary>Akka's serializer of raw protobuf messages (id 2), which finds a parser on the type a manifest names.</summary>
    public sealed class Protobuf(ExtendedActorSystem system) : RefusingSerializer(system, 2, "raw protobuf");

    /// <summary>Remote deployment (id 3): a peer would create actors of a type it names, with arguments it sends.</summary>
    public sealed class RemoteDeploy(ExtendedActorSystem system) : RefusingSerializer(system, 3, "remote deployment");
}
