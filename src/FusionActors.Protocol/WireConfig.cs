namespace FusionActors.Serialization;

/// <summary>
/// The serialization settings both ends of the wire need: frames, frame batches and heartbeats in the
/// binary <see cref="FrameSerializer"/> (no JSON on the hot path). A node and the client library both
/// load this text, so they cannot disagree about serializer ids or bindings.
/// </summary>
public static class WireConfig
{
    public const string Hocon = """
        akka.actor {
          serializers {
            fusion-frames = "FusionActors.Serialization.FrameSerializer, FusionActors.Protocol"
          }
          serialization-bindings {
            "FusionActors.Protocol.Frame, FusionActors.Core" = fusion-frames
            "FusionActors.Protocol.FrameBatch, FusionActors.Core" = fusion-frames
            "FusionActors.Protocol.StreamHeartbeat, FusionActors.Core" = fusion-frames
          }
          serialization-identifiers {
            "FusionActors.Serialization.FrameSerializer, FusionActors.Protocol" = 161
          }
        }
        """;
}
