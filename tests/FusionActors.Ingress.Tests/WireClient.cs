using System.Buffers.Binary;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FusionActors.Protocol;
using FusionActors.Runtime.Ingress;

namespace FusionActors.Ingress.Tests;

/// <summary>One message from the node, as the spec reads it.</summary>
public sealed record WireMessage(IngressType Type, byte[] Body)
{
    public JsonNode Json => JsonNode.Parse(Body)!;

    public long Int64 => BinaryPrimitives.ReadInt64LittleEndian(Body);

    public override string ToString() => Type is IngressType.Committed or IngressType.Ping ? $"{Type} {Int64}" : $"{Type} {Encoding.UTF8.GetString(Body)}";
}

/// <summary>
/// The ingress protocol spoken by hand, byte by byte (docs/ingress.md), so that the specs can send what no client
/// library would: truncated frames, huge lengths, wrong seqs, no token.
/// </summary>
public sealed class WireClient : IAsyncDisposable
{
    private readonly ClientWebSocket _ws = new();
    private readonly byte[] _buffer = new byte[1 << 20];

    public WebSocket Socket => _ws;

    public WebSocketCloseStatus? CloseStatus => _ws.CloseStatus;

    public static async Task<WireClient> ConnectAsync(Uri uri)
    {
        var c = new WireClient();
        await c._ws.ConnectAsync(uri, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        return c;
    }

    /// <summary>A per-frame session of streams that take <paramref name="frameLength"/> values each, with the built-in no-op encoder.</summary>
    public static JsonObject Spec(string sessionId, int frameLength = 4, params string[] streams) => new()
    {
        ["sessionId"] = sessionId,
        ["streams"] = new JsonArray((streams.Length == 0 ? ["s0"] : streams).Select(s => (JsonNode)new JsonObject
        {
            ["streamId"] = s, ["modality"] = s, ["model"] = "noop", ["frameLength"] = frameLength,
        }).ToArray()),
        ["window"] = new JsonObject { ["kind"] = "Tumbling", ["lengthUs"] = 100_000, ["hopUs"] = 100_000 },
    };

    public static byte[] Open(JsonObject spec, string? token, string nonce, JsonObject? resume = null, long clientNowUs = 0)
    {
        var body = new JsonObject { ["protocol"] = 1, ["spec"] = spec.DeepClone(), ["nonce"] = nonce, ["clientNowUs"] = clientNowUs };
        if (token is not null) body["token"] = token;
        if (resume is not null) body["resume"] = resume.DeepClone();
        return [(byte)IngressType.Open, .. Encoding.UTF8.GetBytes(body.ToJsonString())];
    }

    public static byte[] Frames(params (byte Stream, long Seq, long TimeUs, float[] Values)[] frames)
    {
        var size = 3 + frames.Sum(f => IngressWire.FrameHeaderBytes + f.Values.Length * 4);
        var b = new byte[size];
        b[0] = (byte)IngressType.Frames;
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(1), (ushort)frames.Length);
        var at = 3;
        foreach (var f in frames)
        {
            b[at] = f.Stream;
            BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(at + 1), f.Seq);
            BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(at + 9), f.TimeUs);
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(at + 17), (uint)f.Values.Length);
            at += IngressWire.FrameHeaderBytes;
            foreach (var v in f.Values)
            {
                BinaryPrimitives.WriteSingleLittleEndian(b.AsSpan(at), v);
                at += 4;
            }
        }
        return b;
    }

    public static byte[] CloseStream(byte stream) => [(byte)IngressType.CloseStream, stream];

    public static string NewNonce() => Secrets.New();

    public Task SendAsync(byte[] message) => _ws.SendAsync(message, WebSocketMessageType.Binary, true, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));

    /// <summary>The next message; null once the node closed the connection.</summary>
    public async Task<WireMessage?> ReceiveAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        var length = 0;
        while (true)
        {
            ValueWebSocketReceiveResult r;
            try { r = await _ws.ReceiveAsync(_buffer.AsMemory(length), cts.Token); }
            catch (WebSocketException) { return null; }
            if (r.MessageType == WebSocketMessageType.Close) return null;
            length += r.Count;
            if (r.EndOfMessage) return new WireMessage((IngressType)_buffer[0], _buffer[1..length]);
        }
    }

    /// <summary>Messages until one of <paramref name="type"/> (returned), skipping pings; null once closed.</summary>
    public async Task<WireMessage?> ReceiveUntilAsync(IngressType type, Action<WireMessage>? onOther = null)
    {
        while (await ReceiveAsync() is { } m)
        {
            if (m.Type == type) return m;
            onOther?.Invoke(m);
        }
        return null;
    }

    /// <summary>The error message the node ends the connection with, after whatever came before it.</summary>
    public async Task<JsonNode> ExpectErrorAsync()
    {
        var error = await ReceiveUntilAsync(IngressType.Error);
        Xunit.Assert.NotNull(error);
        // The close follows the error.
        Xunit.Assert.Null(await ReceiveAsync());
        return error!.Json;
    }

    public async ValueTask DisposeAsync()
    {
        if (_ws.State == WebSocketState.Open)
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try { await _ws.CloseAsync(WebSocketCloseStatus.NormalClosure, null, cts.Token); }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException) { }
        }
        _ws.Dispose();
    }
}
