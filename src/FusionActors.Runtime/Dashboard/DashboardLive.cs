using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Akka.Actor;
using Microsoft.Extensions.Logging;
using FusionActors.Protocol;
using FusionActors.Runtime.Ingress;
using FusionActors.Runtime.OperatorConsole;
using FusionActors.Runtime.OperatorConsole.Palettes;

namespace FusionActors.Runtime.Dashboard;

/// <summary>
/// One live feed of the dashboard: a WebSocket whose first message is <c>{"token": ..., "session": ...}</c>, after which
/// the node pushes the session's fused results, stream state changes and late evidence as the console's <c>watch</c>
/// gets them (a subscription to the session), and its status once a second. Everything is bounded: a message from the
/// page is at most <see cref="MaxClientMessageBytes"/>, an event at most <see cref="MaxEventBytes"/> (a larger one is
/// replaced by a notice), and at most <see cref="MaxQueuedEvents"/> wait for a reader; one more, a send the reader does
/// not take within the send timeout, or no pong for the pong timeout cuts the connection. The session is not touched.
/// </summary>
internal sealed class DashboardLive
{
    public const int MaxClientMessageBytes = 4096;
    public const int MaxEventBytes = 64 << 10;
    public const int MaxQueuedEvents = 256;
    public static readonly TimeSpan StatusInterval = TimeSpan.FromSeconds(1);

    /// <summary>Status polls between two renewals of the subscription.</summary>
    public const int ResubscribeEvery = 5;

    private readonly WebSocket _ws;
    private readonly HttpOptions _http;
    private readonly ActorSystem _system;
    private readonly IActorRef _sessions;
    private readonly DashboardAccess _access;
    private readonly DashboardCounters _counters;
    private readonly ILogger _log;
    private readonly string _remote;
    private readonly Channel<byte[]> _queue = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(MaxQueuedEvents)
    {
        SingleReader = true, SingleWriter = false, FullMode = BoundedChannelFullMode.Wait,
    });
    private readonly CancellationTokenSource _cut = new();
    private string? _cutReason;

    public DashboardLive(WebSocket ws, HttpOptions http, ActorSystem system, IActorRef sessions, DashboardAccess access,
        DashboardCounters counters, ILogger log, string remote)
    {
        _ws = ws;
        _http = http;
        _system = system;
        _sessions = sessions;
        _access = access;
        _counters = counters;
        _log = log;
        _remote = remote;
    }

    public async Task RunAsync(CancellationToken stopping)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stopping, _cut.Token);
        var cancel = linked.Token;
        var hello = await Hello(cancel);
        if (hello is null) return;
        var sessionId = hello.Value.Session;

        SessionStatus status;
        try { status = await SessionQueries.OpenStatus(_sessions, _access.Credential, sessionId); }
        catch (Exception e) when (e is CommandFailedException or AskTimeoutException)
        {
            await Refuse(e is AskTimeoutException ? "Timeout" : "NotOpen", e.Message, WebSocketCloseStatus.NormalClosure, cancel);
            return;
        }

        var subscriber = _system.ActorOf(Props.Create(() => new Subscriber(this)));
        // A pending receive that is cancelled aborts the WebSocket, so the receive only ends with the page's close (or
        // the node's stop); the send and the poll end with the feed.
        Task? receive = null;
        try
        {
            await _sessions.Ask<Subscribed>(new Subscribe(sessionId, subscriber, _access.Credential), SessionQueries.Timeout, cancel);
            // The recent results make a page that opens mid-session show the last minute; without them if they are too large.
            var subscribed = new { kind = "subscribed", status = DashboardJson.Status(status, withRecent: true) };
            Offer(DashboardJson.Bytes(subscribed).Length <= MaxEventBytes ? subscribed : new { kind = "subscribed", status = DashboardJson.Status(status, withRecent: false) });
            var send = SendLoop(cancel);
            receive = ReceiveLoop(stopping);
            var poll = PollLoop(sessionId, subscriber, cancel);
            var first = await Task.WhenAny(send, receive, poll);
            // The session closed: the poll completed the queue; the page gets what is in it, the close last.
            if (first == poll && poll.IsCompletedSuccessfully) first = await Task.WhenAny(send, receive);
            // The receive fails when the WebSocket aborted itself (no pong within the pong timeout) or the connection broke.
            if (_cutReason is null && !stopping.IsCancellationRequested && first == receive && (receive.IsFaulted || receive.IsCanceled))
                Cut($"the reader answered no ping for {_http.DashboardPongTimeout.TotalSeconds:0.#} s, or the connection broke ({receive.Exception?.InnerException?.GetType().Name ?? "aborted"})");
            if (_cutReason is null && first == send && send.IsFaulted) Cut($"a send failed ({send.Exception!.InnerException!.GetType().Name})");
            await _cut.CancelAsync();
            await Task.WhenAll(Quiet(send), Quiet(poll));
        }
        catch (Exception e) when (e is AskTimeoutException or OperationCanceledException)
        {
            // The session did not take the subscription in time, or the node is stopping.
        }
        finally
        {
            _sessions.Tell(new Unsubscribe(sessionId, subscriber, _access.Credential));
            subscriber.Tell(PoisonPill.Instance);
        }
        if (_cutReason is { } why)
        {
            _counters.Cut();
            _log.LogWarning("Dashboard: cut the live feed of session {Session} to {Remote}: {Why}", sessionId, _remote, why);
            _ws.Abort();
        }
        else if (_ws.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            using var close = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try
            {
                await _ws.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, stopping.IsCancellationRequested ? "node stopping" : "feed ended", close.Token);
                if (receive is not null) await Task.WhenAny(receive, Task.Delay(TimeSpan.FromSeconds(5), CancellationToken.None));
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException) { }
        }
        if (receive is { IsCompleted: false }) _ws.Abort();
        if (receive is not null) await Quiet(receive);
    }

    private static async Task Quiet(Task t)
    {
        try { await t; }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException or ChannelClosedException or AskTimeoutException or InvalidOperationException) { }
    }

    /// <summary>The first message: the token (checked in constant time) and the session; anything else is refused and closed.</summary>
    private async Task<(string Token, string Session)?> Hello(CancellationToken cancel)
    {
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        wait.CancelAfter(_http.OpenTimeout);
        byte[]? message;
        try { message = await ReceiveMessage(wait.Token); }
        catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
        {
            await Refuse("HelloTimeout", $"no first message within {_http.OpenTimeout.TotalSeconds:0} s", WebSocketCloseStatus.PolicyViolation, cancel);
            return null;
        }
        catch (WebSocketException) { return null; }
        if (message is null)
        {
            if (_cutReason is not null)
                await Refuse("TooLarge", $"the first message is at most {MaxClientMessageBytes} bytes", WebSocketCloseStatus.MessageTooBig, CancellationToken.None);
            return null;
        }
        string? token = null, session = null;
        try
        {
            using var doc = JsonDocument.Parse(message, new JsonDocumentOptions { MaxDepth = 2 });
            if (doc.RootElement.ValueKind == JsonValueKind.Object)
            {
                if (doc.RootElement.TryGetProperty("token", out var t) && t.ValueKind == JsonValueKind.String) token = t.GetString();
                if (doc.RootElement.TryGetProperty("session", out var s) && s.ValueKind == JsonValueKind.String) session = s.GetString();
            }
        }
        catch (JsonException) { }
        if (!_access.Accepts(token))
        {
            _counters.CountUnauthorized();
            _log.LogWarning("Dashboard: refused a live feed from {Remote}: {Why}", _remote, token is null ? "no token" : "wrong token");
            await Refuse("Unauthorized", "the first message must be {\"token\": OPERATOR_TOKEN, \"session\": ID} with the node's operator token",
                WebSocketCloseStatus.PolicyViolation, cancel);
            return null;
        }
        if (DashboardEndpoints.SessionIdProblem(session) is { } problem)
        {
            await Refuse("BadRequest", problem, WebSocketCloseStatus.PolicyViolation, cancel);
            return null;
        }
        return (token!, session!);
    }

    private async Task Refuse(string error, string detail, WebSocketCloseStatus code, CancellationToken cancel)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        try
        {
            await _ws.SendAsync(DashboardJson.Bytes(DashboardJson.Error(error, detail)), WebSocketMessageType.Text, true, timeout.Token);
            await _ws.CloseOutputAsync(code, error, timeout.Token);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException) { _ws.Abort(); }
    }

    /// <summary>One whole text message of at most <see cref="MaxClientMessageBytes"/>; null when the page closed.</summary>
    private async Task<byte[]?> ReceiveMessage(CancellationToken cancel)
    {
        var buffer = new byte[MaxClientMessageBytes];
        var used = 0;
        while (true)
        {
            if (used == buffer.Length)
            {
                Cut($"a message over {MaxClientMessageBytes} bytes");
                return null;
            }
            var r = await _ws.ReceiveAsync(buffer.AsMemory(used), cancel);
            if (r.MessageType == WebSocketMessageType.Close) return null;
            used += r.Count;
            if (r.EndOfMessage) return buffer[..used];
        }
    }

    /// <summary>Reads what the page sends after the hello (nothing is expected) so that pongs and the close are seen.</summary>
    private async Task ReceiveLoop(CancellationToken cancel)
    {
        while (!cancel.IsCancellationRequested)
            if (await ReceiveMessage(cancel) is null) return;
    }

    private async Task SendLoop(CancellationToken cancel)
    {
        await foreach (var message in _queue.Reader.ReadAllAsync(cancel))
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            timeout.CancelAfter(_http.SendTimeout);
            try { await _ws.SendAsync(message, WebSocketMessageType.Text, true, timeout.Token); }
            catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
            {
                Cut($"a send was not taken within {_http.SendTimeout.TotalSeconds:0} s");
                return;
            }
        }
    }

    private async Task PollLoop(string sessionId, IActorRef subscriber, CancellationToken cancel)
    {
        using var timer = new PeriodicTimer(StatusInterval);
        var ticks = 0;
        while (await timer.WaitForNextTickAsync(cancel))
        {
            object reply;
            try { reply = await _sessions.Ask<object>(new GetSessionStatus(sessionId, _access.Credential), SessionQueries.Timeout, cancel); }
            catch (AskTimeoutException) { continue; } // a busy or moving session: the next tick asks again
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // An answer that is a failure (a session stopping as it is asked): the feed ends, saying so.
                End(new { kind = "closed", sessionId, reason = e.Message });
                return;
            }
            if (reply is SessionStatus { Open: true } status)
            {
                Offer(new { kind = "status", status = DashboardJson.Status(status, withRecent: false) });
                // A subscription lives in one incarnation of the session: renewed now and then, it follows the session
                // to the node it moved to after a failover (subscribing twice is subscribing once).
                if (++ticks % ResubscribeEvery == 0) _sessions.Tell(new Subscribe(sessionId, subscriber, _access.Credential), subscriber);
            }
            else
            {
                End(new { kind = "closed", sessionId });
                return;
            }
        }
    }

    /// <summary>Queues the last event: the feed ends once the page has it.</summary>
    internal void End(object value)
    {
        Offer(value);
        if (Interlocked.Exchange(ref _ended, 1) == 0) _queue.Writer.TryComplete();
    }

    private int _ended;

    /// <summary>Queues an event for the page; a full queue (the page reads too slowly) cuts the connection.</summary>
    internal void Offer(object value)
    {
        if (Volatile.Read(ref _ended) == 1) return;
        var bytes = DashboardJson.Bytes(value);
        if (bytes.Length > MaxEventBytes)
            bytes = DashboardJson.Bytes(new { kind = "dropped", reason = $"an event of {bytes.Length} bytes is over {MaxEventBytes}" });
        if (!_queue.Writer.TryWrite(bytes) && Volatile.Read(ref _ended) == 0 && _cutReason is null)
            Cut($"{MaxQueuedEvents} events are waiting for a reader that is too slow");
    }

    private void Cut(string reason)
    {
        if (Interlocked.CompareExchange(ref _cutReason, reason, null) is null) _cut.Cancel();
    }

    /// <summary>The subscription: turns what the session sends a subscriber into events of the feed.</summary>
    private sealed class Subscriber : ReceiveActor
    {
        public Subscriber(DashboardLive feed)
        {
            Receive<FusedResult>(r => feed.Offer(DashboardJson.Event(r)));
            Receive<StreamStateChanged>(c => feed.Offer(DashboardJson.Event(c)));
            Receive<LateEvidence>(l => feed.Offer(DashboardJson.Event(l)));
            Receive<SessionClosed>(c => feed.End(DashboardJson.Event(c)));
            ReceiveAny(_ => { }); // Subscribed, FramesCommitted, pings: not for a watching operator
        }
    }
}

/// <summary>What the dashboard has served since the node started.</summary>
public sealed class DashboardCounters
{
    private int _live;
    private long _refused, _unauthorized, _cut, _actions;

    /// <summary>Live feeds open now.</summary>
    public int Live => Volatile.Read(ref _live);

    /// <summary>Live feeds refused at the cap.</summary>
    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>Requests and live feeds refused for a missing or wrong token.</summary>
    public long UnauthorizedRequests => Interlocked.Read(ref _unauthorized);

    /// <summary>Live feeds cut: a full queue, a send not taken, no pong, or a message too large.</summary>
    public long CutFeeds => Interlocked.Read(ref _cut);

    /// <summary>Operator actions taken through the dashboard.</summary>
    public long Actions => Interlocked.Read(ref _actions);

    internal bool TryAccept(int max)
    {
        while (true)
        {
            var now = Volatile.Read(ref _live);
            if (now >= max)
            {
                Interlocked.Increment(ref _refused);
                return false;
            }
            if (Interlocked.CompareExchange(ref _live, now + 1, now) == now) return true;
        }
    }

    internal void Closed() => Interlocked.Decrement(ref _live);

    internal void CountUnauthorized() => Interlocked.Increment(ref _unauthorized);

    internal void Cut() => Interlocked.Increment(ref _cut);

    internal void Action() => Interlocked.Increment(ref _actions);
}
