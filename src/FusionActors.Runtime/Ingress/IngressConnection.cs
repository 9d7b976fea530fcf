using System.Buffers;
using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Threading.Channels;
using Akka.Actor;
using Akka.Streams;
using Akka.Streams.Dsl;
using Microsoft.Extensions.Logging;
using FusionActors.Protocol;
using FusionActors.Runtime.Gateway;

namespace FusionActors.Runtime.Ingress;

/// <summary>
/// One WebSocket of the ingress (docs/ingress.md). The client opens a session with its token and nonce (and a resume
/// point on a reconnect); the open goes to the node's <see cref="SessionGateway"/> as an <see cref="OpenSession"/>
/// naming an <see cref="IngressLink"/> as the client, exactly as the .NET client's opens do, and its frames,
/// heartbeats and stream closes go into the frame sink the session answers with. Nothing here decides anything about
/// a frame: the session checks and counts them as it does for any client.
/// <para>
/// Back-pressure: the next message is read from the socket only once the sink has taken the previous one, so a
/// session that falls behind stops the reads and TCP flow control holds the client back. What goes to the client
/// waits in a queue of <see cref="HttpOptions.MaxQueuedMessages"/>; a client that does not read and lets it fill, or
/// takes no send for <see cref="HttpOptions.SendTimeout"/>, is cut off (<see cref="IngressErrorCode.SlowConsumer"/>).
/// </para>
/// </summary>
internal sealed class IngressConnection
{
    private readonly WebSocket _ws;
    private readonly HttpOptions _options;
    private readonly ActorSystem _system;
    private readonly IActorRef _gateway;
    private readonly SessionTokens _tokens;
    private readonly ILogger _log;
    private readonly IngressCounters _counters;
    private readonly Channel<byte[]> _out;
    private readonly TaskCompletionSource<object> _open = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _failed = new(TaskCreationOptions.RunContinuationsAsynchronously); // an error ends the connection
    private (IngressErrorCode Code, string Message)? _error;
    private readonly object _gate = new();
    private OpenSession? _openMessage;
    private IActorRef? _link;
    private string? _linkKey;
    private SessionOpened? _opened;
    private volatile bool _closing;
    private Task<ValueWebSocketReceiveResult>? _pendingReceive; // a receive still running when a timeout ended the reads

    private readonly IMaterializer _materializer;
    private readonly ConcurrentDictionary<string, IActorRef> _links;

    public IngressConnection(WebSocket ws, HttpOptions options, ActorSystem system, IMaterializer materializer, IActorRef gateway, SessionTokens tokens,
        ConcurrentDictionary<string, IActorRef> links, ILogger log, IngressCounters counters)
    {
        _materializer = materializer;
        _links = links;
        _ws = ws;
        _options = options;
        _system = system;
        _gateway = gateway;
        _tokens = tokens;
        _log = log;
        _counters = counters;
        _out = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(options.MaxQueuedMessages)
            { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });
    }

    public string? SessionId => _opened?.SessionId;

    /// <summary>Serves the connection until it ends; never throws for what the client sends.</summary>
    public async Task RunAsync(CancellationToken stopping)
    {
        var writer = WriteLoopAsync();
        ISourceQueueWithComplete<IWithSessionId>? queue = null;
        var buffer = _receiveBuffer = ArrayPool<byte>.Shared.Rent(64 << 10);
        try
        {
            using var onStop = stopping.Register(() => Fail(IngressErrorCode.ShuttingDown, "the node is stopping"));
            (buffer, var length, var kind) = await ReceiveAsync(buffer, _options.OpenTimeout, IngressErrorCode.OpenTimeout, "no open within the open timeout");
            if (kind is null) return;
            var (sessionId, streams) = await OpenAsync(buffer.AsSpan(0, length).ToArray());
            if (sessionId is null) return;
            var (q, done) = Source.Queue<IWithSessionId>(1, OverflowStrategy.Backpressure)
                .WatchTermination(Keep.Both)
                .To(_opened!.FrameSink!.Sink)
                .Run(_materializer);
            queue = q;
            _ = done.ContinueWith(t => Lost(t.IsFaulted ? $"the frame stream failed: {t.Exception?.GetBaseException().Message}" : "the frame stream completed"),
                TaskScheduler.Default);
            while (true)
            {
                (buffer, length, kind) = await ReceiveAsync(buffer, _options.IdleTimeout, IngressErrorCode.IdleTimeout, "nothing received within the idle timeout");
                if (kind is null) return;
                var m = Parse(buffer.AsSpan(0, length), sessionId, streams);
                if (m is null) continue;
                IQueueOfferResult offered;
                try { offered = await queue.OfferAsync(m); }
                catch (Exception e)
                {
                    // The sink failed (its incarnation stopped, or the writer was fenced): the client reconnects and learns which.
                    Lost($"the session's frame sink failed: {e.GetBaseException().Message}");
                    return;
                }
                if (offered is not QueueOfferResult.Enqueued)
                {
                    Lost($"the session's frame sink no longer takes frames ({offered.GetType().Name})");
                    return;
                }
            }
        }
        catch (IngressProtocolException e)
        {
            Fail(e.Code, e.Message);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException or StreamDetachedException)
        {
            Fail(IngressErrorCode.SessionLost, e.Message);
        }
        catch (Exception e)
        {
            // Whatever a client sends must not take the node down or leave the connection hanging.
            _log.LogError(e, "Ingress: session {Session}: failed to handle a message", SessionId ?? "(not open)");
            Fail(IngressErrorCode.InternalError, "the node failed to handle a message");
        }
        finally
        {
            _closing = true;
            queue?.Complete();
            _out.Writer.TryComplete();
            if (_link is not null)
            {
                // A writer that may come back finds its link parked here, with what the session sent meanwhile; one that
                // will not leaves no link for the next connection with its nonce to find.
                (IngressErrorCode Code, string Message)? error;
                lock (_gate) error = _error;
                var final = error is { } e && !IngressWire.Retryable(e.Code);
                if (final) lock (_links) _links.TryRemove(KeyValuePair.Create(_linkKey!, _link));
                _link.Tell(new IngressLink.Detached(this, final));
            }
            var closed = await Task.WhenAny(writer, Task.Delay(_options.SendTimeout + TimeSpan.FromSeconds(5)));
            // The close handshake: the client's close frame is awaited (briefly), so that what was sent before it, the
            // error message above all, is not lost to a reset.
            if (closed == writer && _ws.State is WebSocketState.CloseSent) await DrainUntilClosedAsync(TimeSpan.FromSeconds(5));
            if (_ws.State is not WebSocketState.Closed) _ws.Abort();
            // A receive still running writes into the buffer: the buffer goes back to the pool only once no receive can.
            // It is the current one (ReceiveAsync may have grown it and then thrown): the one it grew from is back in the
            // pool already, and returning that twice would hand one array to two renters.
            if (_pendingReceive is null || _pendingReceive.IsCompleted) ArrayPool<byte>.Shared.Return(_receiveBuffer!);
            _ended.TrySetResult();
        }
    }

    private IWithSessionId? Parse(ReadOnlySpan<byte> message, string sessionId, IReadOnlyList<string> streams)
    {
        var body = message[1..];
        switch ((IngressType)message[0])
        {
            case IngressType.Frames:
                var frames = IngressWire.ParseFrames(body, sessionId, streams);
                _counters.Frames(frames.Count);
                return new FrameBatch(sessionId, frames);
            case IngressType.Heartbeat: return IngressWire.ParseHeartbeat(body, sessionId, streams);
            case IngressType.CloseStream: return IngressWire.ParseCloseStream(body, sessionId, streams);
            case IngressType.Pong:
                var (sent, now) = IngressWire.ParsePong(body);
                // Straight to the session, as the .NET client answers; with the capability, which a remote session asks of it.
                _opened!.Frames?.Tell(new ClockPong(sessionId, sent, now, _opened.Capability), _link);
                return null;
            case IngressType.Open: throw new IngressProtocolException(IngressErrorCode.ProtocolViolation, "the session is open already");
            default: throw new IngressProtocolException(IngressErrorCode.UnknownType, $"message type 0x{message[0]:x2} is not a client message");
        }
    }

    /// <summary>The open: parsed, its token checked here first (the session checks it again), then sent and answered.</summary>
    private async Task<(string? SessionId, IReadOnlyList<string> Streams)> OpenAsync(byte[] message)
    {
        if ((IngressType)message[0] != IngressType.Open)
            throw new IngressProtocolException(IngressErrorCode.ProtocolViolation, "the first message must be an open");
        var o = IngressWire.ParseOpen(message.AsSpan(1));
        if (!_tokens.Accepts(o.Token))
            throw new IngressProtocolException(IngressErrorCode.Unauthorized, o.Token is null ? "a session token is required" : "the session token is not valid");
        var resume = o.Resume is { } r ? new SessionResume(r.CommittedThroughUs, r.NextSeq, r.Epoch, r.Capability, r.HeldBelow, r.Delivered, r.Generation) : null;
        // The writer's link on this node: the one it left parked when its last connection dropped, else a new one.
        var key = _linkKey = o.Spec.SessionId + "\n" + o.Nonce;
        lock (_links)
        {
            if (!_links.TryGetValue(key, out var link))
                _links[key] = link = _system.ActorOf(IngressLink.Props(key, o.Nonce, _options, _links));
            _link = link;
        }
        _link.Tell(new IngressLink.Adopt(this));
        lock (_gate) _openMessage = new OpenSession(o.Spec, o.ClientNowUs, o.Token, resume, _link, o.Nonce);
        _gateway.Tell(_openMessage, _link);
        var outcome = await Task.WhenAny(_open.Task, Task.Delay(_options.OpenTimeout));
        if (outcome != _open.Task) throw new IngressProtocolException(IngressErrorCode.OpenTimeout, "the session did not answer the open within the open timeout");
        switch (_open.Task.Result)
        {
            case SessionOpened opened:
                _opened = opened;
                _counters.Opened(o.Resume is not null);
                _log.LogInformation("Ingress: session {Session} opened (epoch {Epoch}{Resume})", opened.SessionId, opened.Epoch,
                    o.Resume is null ? "" : $", resuming at {o.Resume.CommittedThroughUs}");
                return (opened.SessionId, o.Spec.Streams.Select(s => s.StreamId).ToArray());
            case IngressProtocolException e: throw e;
            default: return (null, []);
        }
    }

    internal void ResendOpen(IActorRef link)
    {
        OpenSession? open;
        lock (_gate) open = _openMessage;
        if (open is not null && !_open.Task.IsCompleted) _gateway.Tell(open, link);
    }

    /// <summary>
    /// On the link's thread: the answer goes into the client's queue at once, before anything the link kept for the
    /// writer while it was away, which it sends next.
    /// </summary>
    internal void OnOpened(SessionOpened opened)
    {
        if (_open.Task.IsCompleted) return;
        var address = opened.Frames?.Path.Address is { HasGlobalScope: true } remote ? remote : Akka.Cluster.Cluster.Get(_system).SelfAddress;
        Send(IngressWire.Opened(opened, address.ToString()));
        _open.TrySetResult(opened);
    }

    internal void OnRefused(IngressErrorCode code, string reason)
    {
        if (!_open.TrySetResult(new IngressProtocolException(code, reason))) Fail(code, reason);
    }

    internal void Lost(string why)
    {
        if (_closing) return;
        Fail(IngressErrorCode.SessionLost, why);
    }

    /// <summary>Queues a message for the client; a client that lets the queue fill is cut off.</summary>
    internal void Send(byte[] message)
    {
        if (_out.Writer.TryWrite(message)) return;
        lock (_gate)
        {
            if (_error is not null) return;
            _error = (IngressErrorCode.SlowConsumer, "the client does not read");
        }
        _counters.Refused(IngressErrorCode.SlowConsumer);
        _log.LogWarning("Ingress: session {Session}: the client let {Count} messages wait unread; closing", SessionId, _options.MaxQueuedMessages);
        _out.Writer.TryComplete();
        _failed.TrySetResult();
        _ws.Abort(); // a client that does not read would not take the error either
    }

    /// <summary>Ends the connection with an error message (the first error wins), after what is queued before it.</summary>
    private void Fail(IngressErrorCode code, string message)
    {
        lock (_gate)
        {
            if (_error is not null) return;
            _error = (code, message);
        }
        _counters.Refused(code);
        _failed.TrySetResult();
        _open.TrySetResult(new IngressProtocolException(code, message));
        if (code is not (IngressErrorCode.ShuttingDown or IngressErrorCode.SessionLost))
            _log.LogWarning("Ingress: session {Session}: closing the connection: {Code}: {Message}", SessionId ?? "(not open)", code, message);
        else _log.LogInformation("Ingress: session {Session}: closing the connection: {Code}: {Message}", SessionId ?? "(not open)", code, message);
        _out.Writer.TryComplete();
    }

    private async Task WriteLoopAsync()
    {
        try
        {
            await foreach (var m in _out.Reader.ReadAllAsync())
                if (!await SendAsync(m)) return;
            (IngressErrorCode Code, string Message)? error;
            lock (_gate) error = _error;
            if (error is { Code: IngressErrorCode.SlowConsumer }) return;
            if (error is { } e && !await SendAsync(IngressWire.Error(e.Code, e.Message, IngressWire.Retryable(e.Code)))) return;
            using var cts = new CancellationTokenSource(_options.SendTimeout);
            var status = error is null ? WebSocketCloseStatus.NormalClosure
                : error.Value.Code is IngressErrorCode.MessageTooLarge ? WebSocketCloseStatus.MessageTooBig
                : IngressWire.Retryable(error.Value.Code) ? (WebSocketCloseStatus)1013
                : WebSocketCloseStatus.PolicyViolation;
            if (_ws.State is WebSocketState.Open or WebSocketState.CloseReceived)
                await _ws.CloseOutputAsync(status, error?.Code.ToString(), cts.Token);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
        {
            _ws.Abort();
        }
    }

    private async Task<bool> SendAsync(byte[] m)
    {
        if (_ws.State is not (WebSocketState.Open or WebSocketState.CloseReceived)) return false;
        using var cts = new CancellationTokenSource(_options.SendTimeout);
        try
        {
            await _ws.SendAsync(m, WebSocketMessageType.Binary, true, cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            lock (_gate) _error ??= (IngressErrorCode.SlowConsumer, "a send waited for the send timeout");
            _counters.Refused(IngressErrorCode.SlowConsumer);
            _ws.Abort();
            return false;
        }
    }

    private async Task DrainUntilClosedAsync(TimeSpan timeout)
    {
        var deadline = Task.Delay(timeout);
        var scratch = new byte[4096];
        try
        {
            while (_ws.State is WebSocketState.CloseSent)
            {
                if (_pendingReceive is { IsCompleted: false } pending)
                {
                    // The receive the reads left running (into their buffer) is the one to wait for.
                    if (await Task.WhenAny(pending, deadline) == deadline) return;
                    if ((await pending).MessageType == WebSocketMessageType.Close) return;
                    continue;
                }
                var receive = _ws.ReceiveAsync(scratch.AsMemory(), CancellationToken.None).AsTask();
                if (await Task.WhenAny(receive, deadline) == deadline) return;
                if ((await receive).MessageType == WebSocketMessageType.Close) return;
            }
        }
        catch (Exception e) when (e is WebSocketException or IOException or ObjectDisposedException or OperationCanceledException)
        {
            // gone already
        }
    }

    /// <summary>
    /// One whole message, into a buffer grown up to <see cref="HttpOptions.MaxMessageBytes"/> (never further, whatever
    /// the client sends); null kind when the client closed the connection or it ended.
    /// </summary>
    /// <summary>The buffer receives go into now: the one to give back to the pool when the connection ends.</summary>
    private byte[]? _receiveBuffer;

    private async Task<(byte[] Buffer, int Length, WebSocketMessageType? Kind)> ReceiveAsync(byte[] buffer, TimeSpan timeout, IngressErrorCode onTimeout,
        string timeoutMessage)
    {
        var length = 0;
        using var timer = new CancellationTokenSource();
        var deadline = Task.Delay(timeout, timer.Token);
        while (true)
        {
            if (length >= _options.MaxMessageBytes)
                throw new IngressProtocolException(IngressErrorCode.MessageTooLarge, $"a message over {_options.MaxMessageBytes} bytes");
            if (length == buffer.Length)
            {
                var bigger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, _options.MaxMessageBytes));
                buffer.AsSpan(0, length).CopyTo(bigger);
                ArrayPool<byte>.Shared.Return(buffer);
                buffer = _receiveBuffer = bigger;
            }
            var room = Math.Min(buffer.Length, _options.MaxMessageBytes) - length;
            var receive = _ws.ReceiveAsync(buffer.AsMemory(length, room), CancellationToken.None).AsTask();
            var first = await Task.WhenAny(receive, deadline, _failed.Task);
            if (first == _failed.Task && !receive.IsCompleted)
            {
                // Ended from elsewhere (the session lost, the writer fenced, the node stopping): stop waiting for the client.
                _pendingReceive = receive;
                return (buffer, 0, null);
            }
            if (first == deadline)
            {
                _pendingReceive = receive;
                Fail(onTimeout, timeoutMessage);
                return (buffer, 0, null);
            }
            ValueWebSocketReceiveResult r;
            try { r = await receive; }
            catch (WebSocketException) { return (buffer, 0, null); } // the client went away: it reconnects and resumes
            if (r.MessageType == WebSocketMessageType.Close) return (buffer, 0, null);
            if (r.MessageType == WebSocketMessageType.Text)
                throw new IngressProtocolException(IngressErrorCode.UnknownType, "the ingress speaks binary messages only");
            length += r.Count;
            if (length > _options.MaxMessageBytes)
                throw new IngressProtocolException(IngressErrorCode.MessageTooLarge, $"a message over {_options.MaxMessageBytes} bytes");
            if (!r.EndOfMessage) continue;
            timer.Cancel();
            if (length == 0) throw new IngressProtocolException(IngressErrorCode.BadMessage, "an empty message");
            return (buffer, length, r.MessageType);
        }
    }
}
