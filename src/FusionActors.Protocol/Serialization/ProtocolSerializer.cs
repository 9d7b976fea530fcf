using System.Runtime.Serialization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Akka.Actor;
using Akka.Serialization;
using Akka.Streams;
using FusionActors.Protocol;

namespace FusionActors.Protocol.Serialization;

/// <summary>
/// The wire format of every application message but frames: System.Text.Json of the concrete type that the
/// manifest names in <see cref="WireTypes.Control"/>, never a type named by the payload. Strict: unknown
/// fields, missing required fields, nulls where the record has none, enums other than the name of one defined value and payloads over
/// <see cref="MaxPayloadBytes"/> are refused with a <see cref="SerializationException"/> saying what was wrong.
/// Actor refs travel as paths; a frame sink as the payload of Akka's stream-ref serializer, and only that.
/// </summary>
public sealed class ProtocolSerializer : SerializerWithStringManifest
{
    public const int Id = 162;

    /// <summary>The largest control message accepted (a session's status with many streams is a few tens of KB).</summary>
    public const int MaxPayloadBytes = 1 << 20;

    private readonly Dictionary<Type, string> _manifests = WireTypes.Control.ToDictionary(kv => kv.Value, kv => kv.Key);
    private readonly JsonSerializerOptions _json;

    public ProtocolSerializer(ExtendedActorSystem system) : base(system)
    {
        _json = new JsonSerializerOptions
        {
            MaxDepth = 16,
            UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
            RespectNullableAnnotations = true,
            RespectRequiredConstructorParameters = true,
            IgnoreReadOnlyProperties = true,
            NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
            Converters =
            {
                new StrictEnumConverterFactory(),
                new ActorRefConverter(system),
                new SinkRefConverter(system),
            },
        };
    }

    public override int Identifier => Id;

    public override string Manifest(object o) =>
        _manifests.TryGetValue(o.GetType(), out var m) ? m : throw new ArgumentException($"{o.GetType()} is not a FusionActors control message", nameof(o));

    public override byte[] ToBinary(object obj) => JsonSerializer.SerializeToUtf8Bytes(obj, obj.GetType(), _json);

    public override object FromBinary(byte[] bytes, string manifest)
    {
        if (!WireTypes.Control.TryGetValue(manifest, out var type))
            throw new SerializationException($"unknown manifest '{manifest}' for {nameof(ProtocolSerializer)}");
        if (bytes.Length > MaxPayloadBytes)
            throw new SerializationException($"a '{manifest}' message of {bytes.Length} bytes is over the limit of {MaxPayloadBytes}");
        object? message;
        try { message = JsonSerializer.Deserialize(bytes, type, _json); }
        catch (JsonException e) { throw new SerializationException($"malformed '{manifest}' message: {e.Message}", e); }
        catch (Exception e) when (e is InvalidOperationException or FormatException or ArgumentException or OverflowException or NotSupportedException)
        {
            // What a converter or a record's own checks throw on values the JSON reader let through.
            throw new SerializationException($"malformed '{manifest}' message: {e.Message}", e);
        }
        if (message is not ProtocolMessage built) throw new SerializationException($"a '{manifest}' message was null");
        built.FromWire = true;
        return built;
    }

    private sealed class ActorRefConverter(ExtendedActorSystem system) : JsonConverter<IActorRef>
    {
        public override IActorRef Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            var path = reader.GetString();
            if (string.IsNullOrEmpty(path) || path.Length > 1024) throw new JsonException("an actor path must be 1 to 1024 characters");
            try
            {
                // Akka's own parse throws on a malformed uid (after '#') instead of answering false.
                if (!ActorPath.TryParse(path, out _)) throw new JsonException("not an actor path");
                return system.Provider.ResolveActorRef(path);
            }
            catch (Exception e) when (e is FormatException or ArgumentException or OverflowException)
            {
                throw new JsonException($"not an actor path: {e.Message}");
            }
        }

        public override void Write(Utf8JsonWriter writer, IActorRef value, JsonSerializerOptions options) =>
            writer.WriteStringValue(Akka.Serialization.Serialization.SerializedActorPath(value));
    }

    /// <summary>
    /// A frame sink as Akka.Streams itself serializes it. Reading accepts only the stream-ref serializer's id and a
    /// sink ref of session messages: the nested payload can name no other serializer.
    /// </summary>
    private sealed class SinkRefConverter(ExtendedActorSystem system) : JsonConverter<ISinkRef<IWithSessionId>>
    {
        private const int StreamRefSerializerId = 30; // Akka.Streams' own (akka-stream-ref)

        public override ISinkRef<IWithSessionId> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            var wire = JsonSerializer.Deserialize<NestedPayload>(ref reader, options) ?? throw new JsonException("a frame sink cannot be null");
            if (wire.Serializer != StreamRefSerializerId)
                throw new JsonException($"a frame sink must be in Akka's stream-ref serializer, not serializer {wire.Serializer}");
            return system.Serialization.Deserialize(wire.Bytes, wire.Serializer, wire.Manifest) as ISinkRef<IWithSessionId>
                ?? throw new JsonException("the stream ref is not a sink of session messages");
        }

        public override void Write(Utf8JsonWriter writer, ISinkRef<IWithSessionId> value, JsonSerializerOptions options)
        {
            var serializer = system.Serialization.FindSerializerFor(value);
            var manifest = Akka.Serialization.Serialization.ManifestFor(serializer, value);
            JsonSerializer.Serialize(writer, new NestedPayload(serializer.Identifier, manifest, serializer.ToBinary(value)), options);
        }

        private sealed record NestedPayload(int Serializer, string Manifest, byte[] Bytes);
    }
}
