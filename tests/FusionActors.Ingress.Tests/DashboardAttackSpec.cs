using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using FusionActors.Protocol;
using FusionActors.Runtime.Dashboard;
using FusionActors.Scenarios.Faults;
using Xunit;

namespace FusionActors.Ingress.Tests;

/// <summary>
/// The dashboard's API and live feed against a real node with a live AV-Digits session: every read needs the operator
/// token, a token never travels in a URL, live feeds are capped and a reader that stops reading is cut, operator
/// actions are audited in the node's log, and none of it disturbs the session.
/// </summary>
public sealed class DashboardAttackSpec(ITestOutputHelper output)
{
    private const string OperatorToken = DashboardBrowserSpec.OperatorToken;
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Without_an_operator_token_the_dashboard_is_off_and_says_why()
    {
        await using var node = await IngressNode.StartAsync();
        using var http = new HttpClient();
        var page = await http.GetAsync(node.HttpUri(DashboardEndpoints.Path), Cancel);
        Assert.Equal(HttpStatusCode.NotFound, page.StatusCode);
        Assert.Contains("Fusion:Console:Token", await page.Content.ReadAsStringAsync(Cancel));
        var api = await http.GetAsync(node.HttpUri(DashboardEndpoints.ApiPath + "sessions"), Cancel);
        Assert.Equal(HttpStatusCode.NotFound, api.StatusCode);
        Assert.Equal("DashboardOff", (await Json(api)).GetProperty("error").GetString());
        Assert.False(node.Ingress.Dashboard!.Enabled);
    }

    [Fact]
    public async Task Reads_need_the_token_in_the_header_feeds_are_capped_a_stalled_reader_is_cut_and_the_session_runs_on()
    {
        var log = new SpecLog();
        await using var node = await IngressNode.StartAsync(new Dictionary<string, string?>
        {
            ["Fusion:Console:Token"] = OperatorToken,
            ["Fusion:Http:DashboardMaxConnections"] = "3",
            ["Fusion:Http:DashboardPongTimeout"] = "00:00:05",
        }, logs: log);
        await using var session = await LiveAvSession.StartAsync(node, "dashboard-attacks", 40, new SensorFaults());
        var dashboard = node.Ingress.Dashboard!;
        using var http = new HttpClient();

        // The page is public (it holds nothing), with its security headers.
        var page = await http.GetAsync(node.HttpUri(DashboardEndpoints.Path), Cancel);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("connect-src 'self'", page.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Contains("dashboard.js", await page.Content.ReadAsStringAsync(Cancel));
        var script = await http.GetAsync(node.HttpUri(DashboardEndpoints.Path + "dashboard.js"), Cancel);
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        // Session ids, labels and reasons come from peers: the page sets text, never HTML.
        Assert.DoesNotContain("innerHTML", await script.Content.ReadAsStringAsync(Cancel));
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync(node.HttpUri(DashboardEndpoints.Path + "..%2Fhealthz%2Flive"), Cancel)).StatusCode);

        // No token, a wrong one, another scheme: 401, typed. The token in a query string: refused, even beside a good header.
        var sessions = node.HttpUri(DashboardEndpoints.ApiPath + "sessions");
        var none = await http.GetAsync(sessions, Cancel);
        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Equal("Unauthorized", (await Json(none)).GetProperty("error").GetString());
        Assert.Contains("Bearer", none.Headers.WwwAuthenticate.ToString());
        Assert.Equal(HttpStatusCode.Unauthorized, (await Get(http, sessions, "Bearer " + OperatorToken[..^1] + "X")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Get(http, sessions, "Bearer " + new string('x', 5000))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Get(http, sessions, "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("op:" + OperatorToken)))).StatusCode);
        var inQuery = await Get(http, new Uri(sessions + "?token=" + OperatorToken), "Bearer " + OperatorToken);
        Assert.Equal(HttpStatusCode.BadRequest, inQuery.StatusCode);
        Assert.Equal("QueryRefused", (await Json(inQuery)).GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, (await http.GetAsync(node.HttpUri(DashboardEndpoints.Path + "?access_token=" + OperatorToken), Cancel)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.PostAsync(node.HttpUri(DashboardEndpoints.ApiPath + "sessions/dashboard-attacks/close"), null, Cancel)).StatusCode);
        Assert.DoesNotContain(log.Lines, l => l.Contains(OperatorToken, StringComparison.Ordinal));

        // With the token: the session is listed, as fusionctl lists it, and its status has both streams.
        var listed = await Json(await Get(http, sessions, "Bearer " + OperatorToken));
        Assert.Contains("dashboard-attacks", listed.GetProperty("sessions").EnumerateArray().Select(s => s.GetProperty("sessionId").GetString()));
        var detail = await Json(await Get(http, node.HttpUri(DashboardEndpoints.ApiPath + "sessions/dashboard-attacks"), "Bearer " + OperatorToken));
        Assert.Equal(["audio", "camera"], detail.GetProperty("streams").EnumerateArray().Select(s => s.GetProperty("streamId").GetString()).Order());
        var missing = await Get(http, node.HttpUri(DashboardEndpoints.ApiPath + "sessions/no-such-session"), "Bearer " + OperatorToken);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);

        // The live feed: a wrong token as its first message is refused and closed; another site's page is refused before the upgrade.
        using (var wrong = await Connect(node))
        {
            await SendText(wrong, JsonSerializer.Serialize(new { token = "wrong-token-wrong-token-wrong", session = "dashboard-attacks" }));
            var refusal = await ReceiveJson(wrong);
            Assert.Equal("Unauthorized", refusal.GetProperty("error").GetString());
            await ReceiveClose(wrong);
            Assert.Equal(WebSocketCloseStatus.PolicyViolation, wrong.CloseStatus);
        }
        using (var huge = await Connect(node))
        {
            await SendText(huge, JsonSerializer.Serialize(new { token = OperatorToken, session = new string('s', 8000) }));
            Assert.Equal("TooLarge", (await ReceiveJson(huge)).GetProperty("error").GetString());
            await ReceiveClose(huge);
            Assert.Equal(WebSocketCloseStatus.MessageTooBig, huge.CloseStatus);
        }
        using (var foreign = new ClientWebSocket())
        {
            foreign.Options.SetRequestHeader("Origin", "http://evil.example");
            foreign.Options.CollectHttpResponseDetails = true;
            await Assert.ThrowsAnyAsync<WebSocketException>(() => foreign.ConnectAsync(LiveUri(node), Cancel));
            Assert.Equal(HttpStatusCode.Forbidden, foreign.HttpStatusCode);
        }

        // A reader that never reads (it answers no ping) is cut; the feeds that read keep going.
        var cutBefore = dashboard.Counters.CutFeeds;
        var stalled = await Connect(node, keepAlive: TimeSpan.Zero);
        await SendText(stalled, Hello());
        await AwaitCondition(() => dashboard.Counters.CutFeeds > cutBefore, TimeSpan.FromSeconds(60), "the stalled reader was not cut");
        Assert.Contains(log.Lines, l => l.Contains("cut the live feed of session dashboard-attacks", StringComparison.Ordinal));
        stalled.Dispose();
        await AwaitCondition(() => dashboard.Counters.Live == 0, TimeSpan.FromSeconds(30), "the cut feed is still counted");

        // The cap: three feeds that read are served; a fourth is refused before the upgrade, typed.
        var readers = new List<(ClientWebSocket Ws, Task<List<JsonElement>> Events)>();
        for (var i = 0; i < 3; i++)
        {
            var ws = await Connect(node);
            await SendText(ws, Hello());
            Assert.Equal("subscribed", (await ReceiveJson(ws)).GetProperty("kind").GetString());
            readers.Add((ws, ReadAll(ws)));
        }
        Assert.Equal(3, dashboard.Counters.Live);
        var over = await RawUpgrade(node);
        Assert.StartsWith("HTTP/1.1 503", over);
        Assert.Contains("TooManyConnections", over);

        // Operator actions: audited in the node log; the live feeds see the encoder crash as stream state changes.
        var crash = await Post(http, node.HttpUri(DashboardEndpoints.ApiPath + "sessions/dashboard-attacks/streams/camera/crash-encoder"));
        Assert.Equal(HttpStatusCode.OK, crash.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Post(http, node.HttpUri(DashboardEndpoints.ApiPath + "sessions/dashboard-attacks/streams/lidar/crash-encoder"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Post(http, node.HttpUri(DashboardEndpoints.ApiPath + "sessions/dashboard-attacks/streams/audio/drop/1"))).StatusCode);
        Assert.Contains(log.Lines, l => l.Contains("Dashboard audit: crash encoder on session dashboard-attacks stream camera", StringComparison.Ordinal));
        Assert.Contains(log.Lines, l => l.Contains("Dashboard audit: drop frames for 1 s on session dashboard-attacks stream audio", StringComparison.Ordinal));

        // None of it disturbed the session: results keep coming to the feeds, as they do to the session's status.
        var resultsBefore = (await session.StatusAsync()).Fusion!.Results;
        await AwaitCondition(async () => (await session.StatusAsync()).Fusion!.Results >= resultsBefore + 3, TimeSpan.FromSeconds(60), "the session stopped fusing");
        var close = await Post(http, node.HttpUri(DashboardEndpoints.ApiPath + "sessions/dashboard-attacks/close"));
        Assert.Equal(HttpStatusCode.OK, close.StatusCode);
        Assert.Contains(log.Lines, l => l.Contains("Dashboard audit: close session on session dashboard-attacks", StringComparison.Ordinal));
        foreach (var line in log.Lines.Where(l => l.Contains("Dashboard", StringComparison.Ordinal))) output.WriteLine(line);
        foreach (var (ws, events) in readers)
        {
            var got = await events.WaitAsync(TimeSpan.FromSeconds(60), Cancel);
            output.WriteLine($"a feed got {got.Count} events: {string.Join(" ", got.GroupBy(e => e.GetProperty("kind").GetString()).Select(g => $"{g.Key}={g.Count()}"))}; " +
                             $"closed {ws.CloseStatus} {ws.CloseStatusDescription}; last {got.LastOrDefault()}");
            Assert.Contains(got, e => e.GetProperty("kind").GetString() == "result");
            Assert.Contains(got, e => e.GetProperty("kind").GetString() == "state" && e.GetProperty("streamId").GetString() == "camera");
            Assert.Contains(got, e => e.GetProperty("kind").GetString() == "closed");
            ws.Dispose();
        }
        Assert.False((await session.StatusAsync()).Open);

        async Task<HttpResponseMessage> Post(HttpClient client, Uri uri)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, uri);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", OperatorToken);
            return await client.SendAsync(request, Cancel);
        }
    }

    private static string Hello() => JsonSerializer.Serialize(new { token = OperatorToken, session = "dashboard-attacks" });

    private static Uri LiveUri(IngressNode node) => new($"ws://127.0.0.1:{node.HttpPort}{DashboardEndpoints.ApiPath}live");

    private static async Task<ClientWebSocket> Connect(IngressNode node, TimeSpan? keepAlive = null)
    {
        var ws = new ClientWebSocket();
        if (keepAlive is { } k) ws.Options.KeepAliveInterval = k;
        await ws.ConnectAsync(LiveUri(node), Cancel);
        return ws;
    }

    private static Task SendText(ClientWebSocket ws, string text) => ws.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, Cancel);

    private static async Task<JsonElement?> Receive(ClientWebSocket ws)
    {
        var buffer = new byte[1 << 16];
        using var message = new MemoryStream();
        while (true)
        {
            var r = await ws.ReceiveAsync(buffer, Cancel).WaitAsync(TimeSpan.FromSeconds(60), Cancel);
            if (r.MessageType == WebSocketMessageType.Close) return null;
            message.Write(buffer, 0, r.Count);
            if (r.EndOfMessage) return JsonDocument.Parse(message.ToArray()).RootElement.Clone();
        }
    }

    private static async Task<JsonElement> ReceiveJson(ClientWebSocket ws) => await Receive(ws) ?? throw new InvalidOperationException("closed");

    private static async Task ReceiveClose(ClientWebSocket ws)
    {
        while (await Receive(ws) is not null) { }
    }

    /// <summary>Every event until the node closes the feed (it does once the session is closed).</summary>
    private static Task<List<JsonElement>> ReadAll(ClientWebSocket ws) => Task.Run(async () =>
    {
        var events = new List<JsonElement>();
        try
        {
            while (await Receive(ws) is { } e) events.Add(e);
        }
        catch (WebSocketException e)
        {
            events.Add(JsonSerializer.SerializeToElement(new { kind = "broken", error = e.Message, code = e.WebSocketErrorCode.ToString() }));
        }
        return events;
    });

    /// <summary>A WebSocket upgrade written by hand, to read the node's refusal (status line and body) as it is.</summary>
    private static async Task<string> RawUpgrade(IngressNode node)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, node.HttpPort, Cancel);
        var stream = tcp.GetStream();
        var request = $"GET {DashboardEndpoints.ApiPath}live HTTP/1.1\r\nHost: 127.0.0.1:{node.HttpPort}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
                      "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request), Cancel);
        var buffer = new byte[8192];
        var text = new StringBuilder();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Cancel);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        while (!text.ToString().Contains("}", StringComparison.Ordinal))
        {
            var n = await stream.ReadAsync(buffer, timeout.Token);
            if (n == 0) break;
            text.Append(Encoding.UTF8.GetString(buffer, 0, n));
        }
        return text.ToString();
    }

    private static async Task<HttpResponseMessage> Get(HttpClient http, Uri uri, string authorization)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        request.Headers.TryAddWithoutValidation("Authorization", authorization);
        return await http.SendAsync(request, Cancel);
    }

    private static async Task<JsonElement> Json(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync(Cancel)).RootElement.Clone();

    private static Task AwaitCondition(Func<bool> done, TimeSpan timeout, string what) => AwaitCondition(() => Task.FromResult(done()), timeout, what);

    private static async Task AwaitCondition(Func<Task<bool>> done, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await done())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException(what);
            await Task.Delay(100, Cancel);
        }
    }
}
