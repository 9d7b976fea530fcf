using System.Buffers.Binary;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using FusionActors.Runtime.Ingress;
using Xunit;

namespace FusionActors.Ingress.Tests;

/// <summary>
/// Hostile input on the ingress: every malformed, oversized, unauthorized or out-of-order message gets a typed
/// error (and a close, when the framing itself is broken) or a typed rejection, never an exception or a stall; the
/// node serves the next client as before.
/// </summary>
public sealed class IngressAttackSpec : IAsyncLifetime
{
    private IngressNode _node = null!;

    public async ValueTask InitializeAsync() => _node = await IngressNode.StartAsync(new Dictionary<string, string?>
    {
        ["Fusion:Http:MaxMessageBytes"] = (256 << 10).ToString(),
        ["Fusion:Http:MaxQueuedMessages"] = "32",
        ["Fusion:Http:SendTimeout"] = "00:00:05",
    });

    public async ValueTask DisposeAsync() => await _node.DisposeAsync();

    private Task<WireClient> Connect() => WireClient.ConnectAsync(_node.IngressUri);

    /// <summary>Opens a fresh session and returns the client with its OPENED message.</summary>
    private async Task<(WireClient Client, JsonNode Opened)> OpenAsync(string sessionId, params string[] streams)
    {
        var c = await Connect();
        await c.SendAsync(WireClient.Open(WireClient.Spec(sessionId, 4, streams), IngressNode.Token, WireClient.NewNonce()));
        var opened = await c.ReceiveUntilAsync(IngressType.Opened);
        Assert.NotNull(opened);
        return (c, opened!.Json);
    }

    private async Task AssertStillServes()
    {
        var (c, opened) = await OpenAsync("after-" + Guid.NewGuid().ToString("N"));
        Assert.False(string.IsNullOrEmpty(opened["capability"]!.GetValue<string>()));
        await c.DisposeAsync();
        using var http = new HttpClient();
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(_node.HttpUri("/healthz/live"), TestContext.Current.CancellationToken)).StatusCode);
    }

    [Fact]
    public async Task An_open_without_a_token_is_refused_unauthorized()
    {
        await using var c = await Connect();
        await c.SendAsync(WireClient.Open(WireClient.Spec("no-token"), null, WireClient.NewNonce()));
        var error = await c.ExpectErrorAsync();
        Assert.Equal("Unauthorized", error["code"]!.GetValue<string>());
        Assert.False(error["retryable"]!.GetValue<bool>());
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, c.CloseStatus);
        await AssertStillServes();
    }

    [Fact]
    public async Task An_open_with_a_wrong_token_is_refused_unauthorized()
    {
        await using var c = await Connect();
        await c.SendAsync(WireClient.Open(WireClient.Spec("wrong-token"), "not-the-token", WireClient.NewNonce()));
        Assert.Equal("Unauthorized", (await c.ExpectErrorAsync())["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task Frames_before_an_open_are_a_protocol_violation()
    {
        await using var c = await Connect();
        await c.SendAsync(WireClient.Frames((0, 0, 0, [1, 2, 3, 4])));
        Assert.Equal("ProtocolViolation", (await c.ExpectErrorAsync())["code"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("{")]
    [InlineData("{\"protocol\":1}")]
    [InlineData("{\"protocol\":2,\"spec\":{\"sessionId\":\"x\",\"streams\":[]},\"nonce\":\"0123456789012345678901234\",\"clientNowUs\":0}")]
    [InlineData("{\"protocol\":1,\"spec\":{\"sessionId\":\"x\",\"streams\":[]},\"nonce\":\"short\",\"clientNowUs\":0}")]
    [InlineData("{\"protocol\":1,\"spec\":{\"sessionId\":\"x\",\"streams\":[]},\"nonce\":\"0123456789012345678901234\",\"clientNowUs\":0,\"extra\":1}")]
    public async Task A_malformed_open_is_a_bad_message(string json)
    {
        await using var c = await Connect();
        await c.SendAsync([(byte)IngressType.Open, .. Encoding.UTF8.GetBytes(json)]);
        Assert.Equal("BadMessage", (await c.ExpectErrorAsync())["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_spec_beyond_the_node_limits_is_refused_with_the_reasons()
    {
        await using var c = await Connect();
        var spec = WireClient.Spec("too-big", frameLength: 1 << 28);
        await c.SendAsync(WireClient.Open(spec, IngressNode.Token, WireClient.NewNonce()));
        var error = await c.ExpectErrorAsync();
        Assert.Equal("OpenRefused", error["code"]!.GetValue<string>());
        Assert.Contains("frame", error["message"]!.GetValue<string>(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_text_message_is_refused()
    {
        await using var c = await Connect();
        await c.Socket.SendAsync(Encoding.UTF8.GetBytes("hello"), WebSocketMessageType.Text, true, TestContext.Current.CancellationToken);
        Assert.Equal("UnknownType", (await c.ExpectErrorAsync())["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_truncated_frame_closes_the_connection_with_bad_message()
    {
        var (c, _) = await OpenAsync("truncated");
        await using var _ = c;
        var frames = WireClient.Frames((0, 0, 0, [1, 2, 3, 4]), (0, 1, 10, [1, 2, 3, 4]));
        await c.SendAsync(frames[..^6]); // the second frame's values cut short
        var error = await c.ExpectErrorAsync();
        Assert.Equal("BadMessage", error["code"]!.GetValue<string>());
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, c.CloseStatus);
        await AssertStillServes();
    }

    [Fact]
    public async Task A_frame_header_cut_short_is_a_bad_message()
    {
        var (c, _) = await OpenAsync("short-header");
        await using var _ = c;
        await c.SendAsync(WireClient.Frames((0, 0, 0, [1, 2, 3, 4]))[..10]);
        Assert.Equal("BadMessage", (await c.ExpectErrorAsync())["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_huge_declared_value_count_is_refused_before_anything_is_allocated_for_it()
    {
        var (c, _) = await OpenAsync("huge-count");
        await using var _ = c;
        var frames = WireClient.Frames((0, 0, 0, [1, 2, 3, 4]));
        BinaryPrimitives.WriteUInt32LittleEndian(frames.AsSpan(3 + 17), uint.MaxValue);
        await c.SendAsync(frames);
        var error = await c.ExpectErrorAsync();
        Assert.Equal("BadMessage", error["code"]!.GetValue<string>());
        Assert.Contains("declares", error["message"]!.GetValue<string>());
        await AssertStillServes();
    }

    [Fact]
    public async Task A_frame_count_over_the_cap_is_a_bad_message()
    {
        var (c, _) = await OpenAsync("many-frames");
        await using var _ = c;
        var frames = WireClient.Frames((0, 0, 0, [1, 2, 3, 4]));
        BinaryPrimitives.WriteUInt16LittleEndian(frames.AsSpan(1), 65535);
        await c.SendAsync(frames);
        Assert.Equal("BadMessage", (await c.ExpectErrorAsync())["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_message_over_the_size_cap_closes_with_message_too_big()
    {
        var (c, _) = await OpenAsync("too-large");
        await using var _ = c;
        // 1 MiB in pieces, as one message: the node stops reading at its cap of 256 KiB.
        var piece = new byte[64 << 10];
        piece[0] = (byte)IngressType.Frames;
        try
        {
            for (var i = 0; i < 16; i++)
                await c.Socket.SendAsync(piece, WebSocketMessageType.Binary, i == 15, TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        }
        catch (WebSocketException)
        {
            // the node may cut the connection before the last piece went out
        }
        var error = await c.ReceiveUntilAsync(IngressType.Error);
        Assert.Equal("MessageTooLarge", error!.Json["code"]!.GetValue<string>());
        Assert.Null(await c.ReceiveAsync());
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, c.CloseStatus);
        await AssertStillServes();
    }

    [Fact]
    public async Task A_stream_index_the_spec_does_not_have_is_unknown_stream()
    {
        var (c, _) = await OpenAsync("bad-stream");
        await using var _ = c;
        await c.SendAsync(WireClient.Frames((7, 0, 0, [1, 2, 3, 4])));
        Assert.Equal("UnknownStream", (await c.ExpectErrorAsync())["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task Wrong_seqs_and_bad_values_are_rejected_by_the_session_with_typed_reasons_and_the_connection_goes_on()
    {
        var (c, _) = await OpenAsync("wrong-seq");
        await using var _ = c;
        await c.SendAsync(WireClient.Frames((0, 0, 1_000, [1, 2, 3, 4])));
        await c.SendAsync(WireClient.Frames((0, -5, 2_000, [1, 2, 3, 4])));                // negative seq
        await c.SendAsync(WireClient.Frames((0, 0, 3_000, [1, 2, 3, 4])));                 // a repeat
        await c.SendAsync(WireClient.Frames((0, 1_000_000, 4_000, [1, 2, 3, 4])));         // far ahead of the seq window
        await c.SendAsync(WireClient.Frames((0, 1, 5_000, [1, 2, 3])));                    // wrong payload size
        await c.SendAsync(WireClient.Frames((0, 2, 6_000, [1, float.NaN, 3, 4])));         // not finite
        var reasons = new List<string>();
        while (reasons.Count < 5 && await c.ReceiveUntilAsync(IngressType.Rejected) is { } m) reasons.Add(m.Json["reason"]!.GetValue<string>());
        Assert.Equal(["SeqOutOfRange", "Duplicate", "SeqOutOfRange", "WrongPayloadSize", "NotFinite"], reasons);
        // Still open: the stream closes and the session commits everything.
        await c.SendAsync(WireClient.CloseStream(0));
        WireMessage? commit;
        do commit = await c.ReceiveUntilAsync(IngressType.Committed);
        while (commit is not null && commit.Int64 != long.MaxValue);
        Assert.NotNull(commit);
    }

    [Fact]
    public async Task A_client_that_does_not_read_is_cut_off_instead_of_growing_the_node_memory()
    {
        var (c, _) = await OpenAsync("slow-reader");
        await using var _ = c;
        // Every frame of a negative seq is answered with a rejection; this client never reads them. The node's queue
        // for it holds 32 messages (MaxQueuedMessages in this spec): beyond that it is cut off.
        var before = _node.Ingress.Counters.Errors(IngressErrorCode.SlowConsumer);
        var bad = Enumerable.Range(0, 64).Select(i => ((byte)0, -1L - i, (long)i, new float[] { 1, 2, 3, 4 })).ToArray();
        var message = WireClient.Frames(bad);
        var sent = 0;
        try
        {
            while (sent < 100_000 && c.Socket.State == WebSocketState.Open)
            {
                await c.SendAsync(message);
                sent++;
                if (_node.Ingress.Counters.Errors(IngressErrorCode.SlowConsumer) > before) break;
            }
        }
        catch (Exception e) when (e is WebSocketException or TimeoutException)
        {
            // cut off while sending
        }
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (_node.Ingress.Counters.Errors(IngressErrorCode.SlowConsumer) == before && DateTime.UtcNow < deadline) await Task.Delay(50, TestContext.Current.CancellationToken);
        Assert.True(_node.Ingress.Counters.Errors(IngressErrorCode.SlowConsumer) > before, $"not cut off after {sent} messages");
        await AssertStillServes();
    }

    [Fact]
    public async Task A_second_writer_fences_the_first_and_the_fenced_writer_cannot_come_back_with_its_old_epoch()
    {
        var nonce = WireClient.NewNonce();
        await using var first = await Connect();
        var spec = WireClient.Spec("fenced");
        await first.SendAsync(WireClient.Open(spec, IngressNode.Token, nonce));
        var opened = (await first.ReceiveUntilAsync(IngressType.Opened))!.Json;

        await using var second = await Connect();
        await second.SendAsync(WireClient.Open(spec, IngressNode.Token, WireClient.NewNonce()));
        var secondOpened = (await second.ReceiveUntilAsync(IngressType.Opened))!.Json;
        Assert.True(secondOpened["epoch"]!.GetValue<long>() > opened["epoch"]!.GetValue<long>());
        Assert.NotEqual(opened["capability"]!.GetValue<string>(), secondOpened["capability"]!.GetValue<string>());
        // The first writer learns it is fenced, or (when its frame sink is cut before the fence message reaches it) that
        // its session is lost: then its reconnect, below, is what tells it, as for the .NET client.
        Assert.Contains((await first.ExpectErrorAsync())["code"]!.GetValue<string>(), new[] { "Fenced", "SessionLost" });

        // The first writer, with its nonce, epoch and capability: still fenced.
        await using var again = await Connect();
        var resume = new JsonObject
        {
            ["committedThroughUs"] = 0, ["nextSeq"] = new JsonObject { ["s0"] = 0 },
            ["epoch"] = opened["epoch"]!.GetValue<long>(), ["capability"] = opened["capability"]!.GetValue<string>(),
        };
        await again.SendAsync(WireClient.Open(spec, IngressNode.Token, nonce, resume));
        Assert.Equal("Fenced", (await again.ExpectErrorAsync())["code"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("{\"protocol\":1,\"spec\":{\"sessionId\":\"n\",\"streams\":[null]},\"nonce\":\"0123456789012345678901234\",\"clientNowUs\":0,\"token\":\"" + IngressNode.Token + "\"}")]
    [InlineData("{\"protocol\":1,\"spec\":{\"sessionId\":\"n\",\"streams\":[],\"labels\":[null]},\"nonce\":\"0123456789012345678901234\",\"clientNowUs\":0,\"token\":\"" + IngressNode.Token + "\"}")]
    [InlineData("{\"protocol\":1,\"spec\":{\"sessionId\":\"n\",\"streams\":[],\"window\":null},\"nonce\":\"0123456789012345678901234\",\"clientNowUs\":0}")]
    [InlineData("{\"protocol\":1,\"spec\":{\"sessionId\":null,\"streams\":[]},\"nonce\":\"0123456789012345678901234\",\"clientNowUs\":0}")]
    public async Task Nulls_inside_the_spec_are_a_bad_message(string json)
    {
        await using var c = await Connect();
        await c.SendAsync([(byte)IngressType.Open, .. Encoding.UTF8.GetBytes(json)]);
        Assert.Equal("BadMessage", (await c.ExpectErrorAsync())["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task Random_bytes_after_an_open_always_end_in_a_typed_error_or_a_rejection_and_the_node_serves_on()
    {
        var rng = new Random(1234);
        var codes = new Dictionary<string, int>();
        for (var i = 0; i < 60; i++)
        {
            var (c, _) = await OpenAsync($"fuzz-{i}");
            await using var _ = c;
            var message = new byte[rng.Next(1, 200)];
            rng.NextBytes(message);
            if (i % 2 == 0) message[0] = (byte)IngressType.Frames; // half of them past the type byte
            await c.SendAsync(message);
            await c.SendAsync(WireClient.CloseStream(0)); // a valid message after it: served, or never read after an error
            string? outcome = null;
            while (outcome is null && await c.ReceiveAsync(TimeSpan.FromSeconds(60)) is { } m)
                outcome = m.Type switch
                {
                    IngressType.Error => m.Json["code"]!.GetValue<string>(),
                    IngressType.Rejected => "Rejected:" + m.Json["reason"]!.GetValue<string>(),
                    IngressType.Committed when m.Int64 == long.MaxValue => "Committed",
                    _ => null,
                };
            Assert.NotNull(outcome);
            Assert.NotEqual("InternalError", outcome);
            codes[outcome!] = codes.GetValueOrDefault(outcome!) + 1;
        }
        Assert.True(codes.Keys.Count >= 2, string.Join(", ", codes));
        await AssertStillServes();
    }

    [Fact]
    public async Task A_plain_http_request_to_the_ingress_is_told_it_is_a_websocket_endpoint()
    {
        using var http = new HttpClient();
        var response = await http.GetAsync(_node.HttpUri(IngressService.IngressPath), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.UpgradeRequired, response.StatusCode);
    }
}
