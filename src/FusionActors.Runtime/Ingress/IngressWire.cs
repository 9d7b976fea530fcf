using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using FusionActors.Core.Alignment;
using FusionActors.Protocol;
using FusionActors.Protocol.Specs;

namespace FusionActors.Runtime.Ingress;

/// <summary>The first byte of every WebSocket message of the ingress protocol (docs/ingress.md).</summary>
public enum IngressType : byte
{
    // client -> node
    Open = 0x01,
    Frames = 0x02,
    Heartbeat = 0x03,
    CloseStream = 0x04,
    Pong = 0x05,

    // node -> client
    Opened = 0x81,
    Committed = 0x82,
    Result = 0x83,
    Rejected = 0x84,
    Ping = 0x85,
    Error = 0xFF,
}

/// <summary>Why the node ends a connection: the <c>code</c> of an error message (docs/ingress.md lists what each means).</summary>
public enum IngressErrorCode
{
    /// <summary>A message that does not parse: truncated, trailing bytes, a count or length out of its bounds.</summary>
    BadMessage,
    /// <summary>A message over <see cref="HttpOptions.MaxMessageBytes"/>.</summary>
    MessageTooLarge,
    /// <summary>A first byte that is no client message type, or a text message.</summary>
    UnknownType,
    /// <summary>The first message was not an open, or an open came twice.</summary>
    ProtocolViolation,
    /// <summary>A stream index the session's spec does not have.</summary>
    UnknownStream,
    /// <summary>No session token, or one the node does not have.</summary>
    Unauthorized,
    /// <summary>The session refused the open (its spec, its resume point, another spec under the same id): final.</summary>
    OpenRefused,
    /// <summary>Another writer opened the session: this one may not write to it any more, and should not reopen.</summary>
    Fenced,
    /// <summary>The node holds its maximum of open sessions: retry later.</summary>
    NodeFull,
    /// <summary>No open arrived, or the session did not answer it, within the open timeout: retry.</summary>
    OpenTimeout,
    /// <summary>The session's frame stream ended or the session fell silent (its node died, it moved): reconnect and resume.</summary>
    SessionLost,
    /// <summary>The client did not read what the node sent fast enough: reconnect and resume.</summary>
    SlowConsumer,
    /// <summary>The client sent nothing for the idle timeout.</summary>
    IdleTimeout,
    /// <summary>The node is stopping: reconnect (to another node) and resume.</summary>
    ShuttingDown,
    /// <summary>The node failed to handle a message (a bug, logged with its stack): the connection ends, the node carries on.</summary>
    InternalError,
}

/// <summary>An error of the ingress protocol: sent to the client as an error message, then the connection closes.</summary>
public sealed class IngressProtocolException(IngressErrorCode code, string message) : Exception(message)
{
    public IngressErrorCode Code { get; } = code;
}

/// <summary>The open message's body (JSON, camelCase): what <see cref="OpenSession"/> needs from a client that is not an actor.</summary>
public sealed record IngressOpen
{
    /// <summary>The protocol version the client speaks; this node speaks 1.</summary>
    public required int Protocol { get; init; }
    public required SessionSpec Spec { get; init; }
    public string? Token { get; init; }
    /// <summary>The client's secret (22..128 characters), the same on every reconnect of one writer: it is who the writer is.</summary>
    public required string Nonce { get; init; }
    /// <summary>The session clock when the client sent the open, in µs.</summary>
    public required long ClientNowUs { get; init; }
    public IngressResume? Resume { get; init; }
}

/// <summary>A client's resume point (<see cref="SessionResume"/>).</summary>
public sealed record IngressResume
{
    public required long CommittedThroughUs { get; init; }
    public required Dictionary<string, long> NextSeq { get; init; }
    public long Epoch { get; init; }
    public string? Capability { get; init; }
    public Dictionary<string, long[]>? HeldBelow { get; init; }
    /// <summary>How many times the client opened the session before (<see cref="SessionResume.Generation"/>).</summary>
    public int Generation { get; init; }
    /// <summary>Per window start at or after the commit point, the highest revision the client got (<see cref="SessionResume.DeliveredRevisions"/>).</summary>
    public Dictionary<long, int>? Delivered { get; init; }
}

/// <summary>Parsing and writing of the ingress messages. Every field is bounded; anything else is an <see cref="IngressProtocolException"/>.</summary>
public static class IngressWire
{
    public const int ProtocolVersion = 1;

    /// <summary>Most frames in one frames message (as in a <see cref="FrameBatch"/> of the .NET client).</summary>
    public const int MaxFramesPerMessage = 64;

    /// <summary>Largest open message body.</summary>
    public const int MaxOpenBytes = 64 << 10;

    /// <summary>Longest token taken.</summary>
    public const int MaxTokenLength = 1024;

    /// <summary>Header of one frame in a frames message: stream index (1), seq (8), event time (8), value count (4).</summary>
    public const int FrameHeaderBytes = 1 + 8 + 8 + 4;

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        MaxDepth = 16,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
        NumberHandling = JsonNumberHandling.Strict,
        Converters = { new JsonStringEnumConverter(allowIntegerValues: false) },
    };

    private static readonly JsonSerializerOptions Out = new(JsonSerializerDefaults.Web)
    {
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter() },
    };

    public static IngressOpen ParseOpen(ReadOnlySpan<byte> body)
    {
        if (body.Length > MaxOpenBytes) throw new IngressProtocolException(IngressErrorCode.BadMessage, $"an open of {body.Length} bytes is over {MaxOpenBytes}");
        IngressOpen? open;
        try { open = JsonSerializer.Deserialize<IngressOpen>(body, Json); }
        catch (JsonException e) { throw new IngressProtocolException(IngressErrorCode.BadMessage, $"the open is not valid: {Trim(e.Message)}"); }
        if (open is null) throw new IngressProtocolException(IngressErrorCode.BadMessage, "the open is null");
        if (open.Protocol != ProtocolVersion)
            throw new IngressProtocolException(IngressErrorCode.BadMessage, $"protocol {open.Protocol} is not the one this node speaks ({ProtocolVersion})");
        if (!Secrets.Plausible(open.Nonce))
            throw new IngressProtocolException(IngressErrorCode.BadMessage, $"the nonce must be {Secrets.MinLength}..{Secrets.MaxLength} characters");
        if (open.Token is { Length: > MaxTokenLength })
            throw new IngressProtocolException(IngressErrorCode.Unauthorized, "the session token is not valid");
        // The serializer checks the nulls of properties, not those inside collections: a spec with a null stream or
        // label must not reach the validator.
        if (open.Spec.Streams.Any(st => st is null) || open.Spec.Labels.Any(l => l is null))
            throw new IngressProtocolException(IngressErrorCode.BadMessage, "the spec has a null stream or label");
        if (open.Spec.Streams.Count > byte.MaxValue + 1)
            throw new IngressProtocolException(IngressErrorCode.OpenRefused, $"a session has at most {byte.MaxValue + 1} streams on the ingress");
        if (open.Resume is { } r)
        {
            if (r.Capability is not null && !Secrets.Plausible(r.Capability))
                throw new IngressProtocolException(IngressErrorCode.BadMessage, $"a capability is {Secrets.MinLength}..{Secrets.MaxLength} characters");
            if (r.NextSeq.Count > open.Spec.Streams.Count || (r.HeldBelow?.Count ?? 0) > open.Spec.Streams.Count)
                throw new IngressProtocolException(IngressErrorCode.BadMessage, "a resume names more streams than the spec has");
            if (r.Generation is < 0 or > Aligner.MaxResumedGeneration)
                throw new IngressProtocolException(IngressErrorCode.BadMessage, $"a resume's generation is 0..{Aligner.MaxResumedGeneration}, not {r.Generation}");
            if (r.Delivered is { Count: > Aligner.MaxResumedRevisions })
                throw new IngressProtocolException(IngressErrorCode.BadMessage, $"a resume names at most {Aligner.MaxResumedRevisions} delivered windows");
            if (r.Delivered?.Values.Any(v => v is < 0 or > Aligner.MaxResumedRevision) == true)
                throw new IngressProtocolException(IngressErrorCode.BadMessage, $"a delivered revision is 0..{Aligner.MaxResumedRevision}");
        }
        return open;
    }

    /// <summary>
    /// The frames of a frames message (<paramref name="body"/> without its type byte), checked for shape only: the
    /// session checks everything else (seq, event time, values, sizes), as it does for the .NET client's batches.
    /// </summary>
    public static List<Frame> ParseFrames(ReadOnlySpan<byte> body, string sessionId, IReadOnlyList<string> streams)
    {
        if (body.Length < 2) throw Truncated("frames message");
        int count = BinaryPrimitives.ReadUInt16LittleEndian(body);
        if (count is 0 or > MaxFramesPerMessage)
            throw new IngressProtocolException(IngressErrorCode.BadMessage, $"a frames message carries 1..{MaxFramesPerMessage} frames, not {count}");
        var frames = new List<Frame>(count);
        var at = 2;
        for (var i = 0; i < count; i++)
        {
            if (body.Length - at < FrameHeaderBytes) throw Truncated($"frame {i}");
            var stream = StreamAt(body[at], streams);
            var seq = BinaryPrimitives.ReadInt64LittleEndian(body[(at + 1)..]);
            var t = BinaryPrimitives.ReadInt64LittleEndian(body[(at + 9)..]);
            var n = BinaryPrimitives.ReadUInt32LittleEndian(body[(at + 17)..]);
            at += FrameHeaderBytes;
            // The count is checked against the bytes that are there before anything is allocated for it.
            if (n > (uint)(body.Length - at) / 4)
                throw new IngressProtocolException(IngressErrorCode.BadMessage, $"frame {i} declares {n} values, more than the message holds");
            var payload = new float[n];
            for (var k = 0; k < payload.Length; k++, at += 4)
                payload[k] = BinaryPrimitives.ReadSingleLittleEndian(body[at..]);
            frames.Add(new Frame(sessionId, stream, seq, t, payload));
        }
        if (at != body.Length) throw new IngressProtocolException(IngressErrorCode.BadMessage, $"{body.Length - at} bytes after the last frame");
        return frames;
    }

    public static StreamHeartbeat ParseHeartbeat(ReadOnlySpan<byte> body, string sessionId, IReadOnlyList<string> streams)
    {
        if (body.Length != 9) throw Sized("heartbeat", 9, body.Length);
        return new StreamHeartbeat(sessionId, StreamAt(body[0], streams), BinaryPrimitives.ReadInt64LittleEndian(body[1..]));
    }

    public static CloseStream ParseCloseStream(ReadOnlySpan<byte> body, string sessionId, IReadOnlyList<string> streams)
    {
        if (body.Length != 1) throw Sized("stream close", 1, body.Length);
        return new CloseStream(sessionId, StreamAt(body[0], streams));
    }

    public static (long ServerSentUs, long ClientNowUs) ParsePong(ReadOnlySpan<byte> body)
    {
        if (body.Length != 16) throw Sized("pong", 16, body.Length);
        return (BinaryPrimitives.ReadInt64LittleEndian(body), BinaryPrimitives.ReadInt64LittleEndian(body[8..]));
    }

    private static string StreamAt(byte index, IReadOnlyList<string> streams) =>
        index < streams.Count ? streams[index]
        : throw new IngressProtocolException(IngressErrorCode.UnknownStream, $"stream index {index}: the session has {streams.Count} streams");

    private static IngressProtocolException Truncated(string what) => new(IngressErrorCode.BadMessage, $"truncated {what}");

    private static IngressProtocolException Sized(string what, int expected, int got) =>
        new(IngressErrorCode.BadMessage, $"a {what} has {expected} bytes after its type, not {got}");

    private static string Trim(string s) => s.Length > 300 ? s[..300] : s;

    // ---- node -> client

    public static byte[] Opened(SessionOpened o, string node) => WithJson(IngressType.Opened, new
    {
        sessionId = o.SessionId, streams = o.Streams, epoch = o.Epoch, capability = o.Capability, clockOffsetUs = o.ClockOffsetUs, node,
        maxFramesPerMessage = MaxFramesPerMessage,
    });

    public static byte[] Committed(long throughUs)
    {
        var b = new byte[9];
        b[0] = (byte)IngressType.Committed;
        BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(1), throughUs);
        return b;
    }

    public static byte[] Ping(long serverSentUs)
    {
        var b = new byte[9];
        b[0] = (byte)IngressType.Ping;
        BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(1), serverSentUs);
        return b;
    }

    public static byte[] Result(FusedResult r) => WithJson(IngressType.Result, new
    {
        windowStartUs = r.WindowStartUs, windowEndUs = r.WindowEndUs, revision = r.Revision, status = r.Status.ToString(), topClass = r.TopClass,
        topLabel = r.TopLabel, confidence = r.Confidence, entropy = r.Entropy, posterior = r.Posterior, weights = r.Weights, missing = r.Missing,
        imputed = r.Imputed, states = r.States.ToDictionary(kv => kv.Key, kv => kv.Value.ToString()), watermarkLagUs = r.WatermarkLagUs, policy = r.Policy, models = r.Models,
        gates = r.Gates,
    });

    public static byte[] Rejected(string? stream, long seq, string reason, string detail) =>
        WithJson(IngressType.Rejected, new { stream, seq, reason, detail = Trim(detail) });

    public static byte[] Error(IngressErrorCode code, string message, bool retryable) =>
        WithJson(IngressType.Error, new { code = code.ToString(), message = Trim(message), retryable });

    private static byte[] WithJson(IngressType type, object body)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(body, Out);
        var b = new byte[json.Length + 1];
        b[0] = (byte)type;
        json.CopyTo(b, 1);
        return b;
    }

    /// <summary>Whether a client may reconnect and resume after this error.</summary>
    public static bool Retryable(IngressErrorCode code) =>
        code is IngressErrorCode.NodeFull or IngressErrorCode.OpenTimeout or IngressErrorCode.SessionLost or IngressErrorCode.SlowConsumer
            or IngressErrorCode.ShuttingDown or IngressErrorCode.IdleTimeout;

    internal static string Utf8(ReadOnlySpan<byte> b) => Encoding.UTF8.GetString(b);
}
