using System.Text;

namespace FusionActors.Protocol.Serialization;

/// <summary>
/// The serialization settings both ends of the wire need, made from <see cref="WireTypes"/>: frames in the binary
/// <see cref="FrameSerializer"/>, every other application message in <see cref="ProtocolSerializer"/>, and no
/// way in for polymorphic or type-naming payloads. A node and the client library both load this text, so they
/// cannot disagree about serializer ids or bindings.
/// </summary>
/// <remarks>
/// Akka's Newtonsoft serializer (id 1) honours <c>$type</c>, so it would build any type a peer names; the
/// protobuf serializer (2) and the remote-deployment serializer (3) also build types named on the wire. Their
/// ids are taken by <see cref="RefusingSerializer"/>s, which refuse a payload before reading it. Akka's misc
/// and system-message serializers stay (remote watch, identify, heartbeats need them) behind guards that refuse
/// their manifests that build exceptions of a named type, stop actors, or deploy them; actor selections with
/// wildcards are refused.
/// With <c>allow-unregistered-types = false</c> an application type without a binding fails to send, loudly,
/// instead of falling back to JSON.
/// </remarks>
public static class WireConfig
{
    public static string Hocon { get; } = Build();

    private static string Build()
    {
        static string Q(Type t) => $"\"{WireTypes.ConfigName(t)}\"";
        var b = new StringBuilder();
        b.AppendLine("akka.actor {");
        b.AppendLine("  serialization-settings.allow-unregistered-types = false");
        b.AppendLine("  serializers {");
        b.AppendLine($"    fusion-frames = {Q(typeof(FrameSerializer))}");
        b.AppendLine($"    fusion-protocol = {Q(typeof(ProtocolSerializer))}");
        b.AppendLine($"    json = {Q(typeof(RefusingSerializer.Json))}");
        b.AppendLine($"    proto = {Q(typeof(RefusingSerializer.Protobuf))}");
        b.AppendLine($"    daemon-create = {Q(typeof(RefusingSerializer.RemoteDeploy))}");
        b.AppendLine($"    akka-misc = {Q(typeof(GuardedMiscSerializer))}");
        b.AppendLine($"    akka-system-msg = {Q(typeof(GuardedSystemMessageSerializer))}");
        b.AppendLine($"    akka-containers = {Q(typeof(GuardedContainerSerializer))}");
        b.AppendLine("  }");
        b.AppendLine("  serialization-bindings {");
        foreach (var t in WireTypes.Frames) b.AppendLine($"    {Q(t)} = fusion-frames");
        // The elements of a session's frame stream (SinkRef): batches written once, not nested in Akka's stream-ref format.
        b.AppendLine($"    \"{FrameSerializer.StreamElementTypeName}\" = fusion-frames");
        foreach (var t in WireTypes.Control.Values) b.AppendLine($"    {Q(t)} = fusion-protocol");
        b.AppendLine("  }");
        b.AppendLine("  serialization-identifiers {");
        b.AppendLine($"    {Q(typeof(FrameSerializer))} = {FrameSerializer.Id}");
        b.AppendLine($"    {Q(typeof(ProtocolSerializer))} = {ProtocolSerializer.Id}");
        b.AppendLine("  }");
        b.AppendLine("}");
        return b.ToString();
    }
}
