using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Akka.Actor;
using Microsoft.Extensions.Logging;
using FusionActors.OperatorConsole.Protocol;

namespace FusionActors.Runtime.OperatorConsole;

/// <summary>
/// The console endpoint of a node: a TCP listener speaking line-delimited JSON (<see cref="ConsoleFrame"/>),
/// over TLS (<see cref="SslStream"/>, TLS 1.2/1.3) when <see cref="ConsoleOptions.TlsCertificate"/> is set: then
/// a connection reads no frame before its handshake completed, and one that does not speak TLS is closed.
/// Each invocation runs in its palette's handler actor under a <see cref="ResponseSink"/> that feeds the
/// connection; closing the connection or a Cancel frame stops the invocation.
/// </summary>
public sealed class ConsoleHost : IAsyncDisposable
{
    private static readonly TimeSpan HelloTimeout = TimeSpan.FromSeconds(10);
    private const int MaxRunningPerConnection = 16;
    private readonly TcpListener _listener;
    private readonly ConsoleOptions _options;
    private readonly ActorSystem _system;
    private readonly IReadOnlyList<CommandPaletteHandler> _palettes;
    private readonly string _node;
    private readonly ILogger _log;
    private readonly X509Certificate2? _certificate;
    private readonly SslServerAuthenticationOptions? _tls;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<Task, byte> _connections = new();
    // Connections that have not been welcomed yet (no TLS handshake, no hello), by when they were accepted: at the cap, a
    // new connection displaces the oldest of them, so silent sockets cannot lock operators out.
    private readonly ConcurrentDictionary<Connection, long> _unwelcomed = new();
    private long _accepted;
    private long _displaced;
    private Task _accepting = Task.CompletedTask;
    private int _running;
    private int _open;
    private long _refused;
    private long _dropped;
    private DateTime _lastRefusalLog;

    private ConsoleHost(TcpListener listener, ConsoleOptions options, ActorSystem system, IReadOnlyList<CommandPaletteHandler> palettes, string node, ILogger log,
        ServerCertificate? certificate)
    {
        _listener = listener;
        _certificate = certificate?.Certificate;
        _tls = certificate is null ? null : new SslServerAuthenticationOptions
        {
            ServerCertificateContext = certificate.Context,
            EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            ClientCertificateRequired = false,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        };
        _options = options;
        _system = system;
        _palettes = palettes;
        _node = node;
        _log = log;
    }

    public IPEndPoint Endpoint => (IPEndPoint)_listener.LocalEndpoint;

    /// <summary>Invocations whose handler has not ended yet, over all connections.</summary>
    public int RunningInvocations => Volatile.Read(ref _running);

    /// <summary>Connections accepted and not closed yet (said hello or not).</summary>
    public int OpenConnections => Volatile.Read(ref _open);

    /// <summary>Connections closed at accept because <see cref="ConsoleOptions.MaxConnections"/> were open and all of them had been welcomed.</summary>
    public long RefusedConnections => Interlocked.Read(ref _refused);

    /// <summary>Connections not yet welcomed that were closed at the cap to make room for a new one.</summary>
    public long DisplacedConnections => Interlocked.Read(ref _displaced);

    /// <summary>Responses dropped because a client read slower than its commands wrote (<see cref="ConsoleOptions.MaxQueuedResponses"/>).</summary>
    public long DroppedResponses => Interlocked.Read(ref _dropped);

    public IReadOnlyList<CommandPalette> Palettes => _palettes.Select(p => p.Palette).ToArray();

    /// <summary>
    /// Loads the TLS certificate (if any), binds and starts accepting. Refuses, before binding, a non-loopback
    /// address without both TLS and a token (<see cref="ConsoleOptions.EnsureSafeToBind"/>), and a certificate
    /// that cannot be loaded or has no private key.
    /// </summary>
    public static ConsoleHost Start(ConsoleOptions options, ActorSystem system, IReadOnlyList<CommandPaletteHandler> palettes, string node, ILogger log)
    {
        options.EnsureSafeToBind();
        var certificate = options.Tls ? ServerCertificate.Load(options) : null;
        try
        {
            var address = options.Hostname == "localhost" ? IPAddress.Loopback
                : IPAddress.TryParse(options.Hostname, out var ip) ? ip
                : Dns.GetHostAddresses(options.Hostname).First();
            var listener = new TcpListener(address, options.Port);
            listener.Start();
            var host = new ConsoleHost(listener, options, system, palettes, node, log, certificate);
            host._accepting = host.AcceptAsync();
            log.LogInformation("Operator console on {Endpoint} ({Transport}, {Auth})", host.Endpoint,
                certificate is null ? "plain TCP" : $"TLS, certificate {certificate.Certificate.Subject}",
                options.Token is null ? "no token" : "token required");
            if (certificate is null && options.Token is not null)
                log.LogInformation("Operator console: the token travels in clear on loopback; set fusion.console.tls.certificate to encrypt it");
            return host;
        }
        catch
        {
            certificate?.Certificate.Dispose();
            throw;
        }
    }

    /// <summary>The console's certificate with its private key, and the chain it sends (the other certificates of the PKCS#12 file).</summary>
    private sealed record ServerCertificate(X509Certificate2 Certificate, SslStreamCertificateContext Context)
    {
        public static ServerCertificate Load(ConsoleOptions options)
        {
            var path = options.TlsCertificate!;
            X509Certificate2Collection all;
            try { all = X509CertificateLoader.LoadPkcs12CollectionFromFile(path, options.TlsPassword); }
            catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException)
            {
                throw new InvalidOperationException(
                    $"fusion.console.tls.certificate (or {ConsoleOptions.TlsCertificateVariable}) '{path}' cannot be loaded as PKCS#12 with " +
                    $"fusion.console.tls.password (or {ConsoleOptions.TlsPasswordVariable}): {e.Message}", e);
            }
            var leaf = all.FirstOrDefault(c => c.HasPrivateKey);
            if (leaf is null)
            {
                foreach (var c in all) c.Dispose();
                throw new InvalidOperationException(
                    $"fusion.console.tls.certificate (or {ConsoleOptions.TlsCertificateVariable}) '{path}' holds no certificate with a private key");
            }
            var chain = new X509Certificate2Collection(all.Where(c => !ReferenceEquals(c, leaf)).ToArray());
            return new ServerCertificate(leaf, SslStreamCertificateContext.Create(leaf, chain, offline: true));
        }
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
            catch (OperationCanceledException) { return; }
            catch (ObjectDisposedException) { return; }
            catch (SocketException e)
            {
                _log.LogWarning("Operator console: accept failed: {Error}", e.Message);
                continue;
            }
            if (Interlocked.Increment(ref _open) > _options.MaxConnections && !DisplaceOldestUnwelcomed())
            {
                Interlocked.Decrement(ref _open);
                Refuse(client);
                continue;
            }
            var connection = new Connection(client);
            _unwelcomed[connection] = Interlocked.Increment(ref _accepted);
            var served = ServeCountedAsync(connection);
            _connections.TryAdd(served, 0);
            _ = served.ContinueWith(t => _connections.TryRemove(t, out _), TaskScheduler.Default);
        }
    }

    /// <summary>Closes a connection beyond <see cref="ConsoleOptions.MaxConnections"/> before reading anything; logs at most once a second.</summary>
    private void Refuse(TcpClient client)
    {
        var refused = Interlocked.Increment(ref _refused);
        EndPoint? remote = null;
        try { remote = client.Client.RemoteEndPoint; } catch (Exception e) when (e is SocketException or ObjectDisposedException) { /* already gone */ }
        client.Dispose();
        var now = DateTime.UtcNow;
        if (now - _lastRefusalLog < TimeSpan.FromSeconds(1)) return;
        _lastRefusalLog = now;
        _log.LogWarning("Operator console: refused {Remote}: {Max} connections are open (fusion.console.max-connections); {Refused} refused so far",
            remote, _options.MaxConnections, refused);
    }

    /// <summary>
    /// Closes the connection accepted longest ago of those not yet welcomed, and takes over its slot; false when every
    /// open connection has been welcomed.
    /// </summary>
    private bool DisplaceOldestUnwelcomed()
    {
        while (true)
        {
            Connection? oldest = null;
            var first = long.MaxValue;
            foreach (var (c, order) in _unwelcomed)
                if (order < first) (oldest, first) = (c, order);
            if (oldest is null) return false;
            if (!_unwelcomed.TryRemove(oldest, out _)) continue; // welcomed or closed meanwhile: look again
            if (!oldest.Release()) continue; // it closed by itself and gave its slot back
            Interlocked.Decrement(ref _open);
            Interlocked.Increment(ref _displaced);
            oldest.Client.Dispose(); // its reads fail, and its serving ends without counting it again
            return true;
        }
    }

    private async Task ServeCountedAsync(Connection connection)
    {
        try { await ServeAsync(connection); }
        finally
        {
            _unwelcomed.TryRemove(connection, out _);
            if (connection.Release()) Interlocked.Decrement(ref _open);
        }
    }

    /// <summary>An accepted connection, and whether it still holds one of the open slots.</summary>
    private sealed class Connection(TcpClient client)
    {
        private int _holdsSlot = 1;

        public TcpClient Client { get; } = client;

        /// <summary>Gives the slot back; true for the one caller that does.</summary>
        public bool Release() => Interlocked.Exchange(ref _holdsSlot, 0) == 1;
    }

    private async Task ServeAsync(Connection connection)
    {
        var client = connection.Client;
        using var _ = client;
        client.NoDelay = true;
        var remote = client.Client.RemoteEndPoint;
        if (_tls is null)
        {
            await ServeFramesAsync(client.GetStream(), remote, connection);
            return;
        }
        await using var ssl = new SslStream(client.GetStream(), leaveInnerStreamOpen: false);
        using (var handshake = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token))
        {
            handshake.CancelAfter(HelloTimeout);
            try { await ssl.AuthenticateAsServerAsync(_tls, handshake.Token); }
            catch (Exception e)
            {
                // Not TLS (a plaintext hello), a client that did not trust the certificate, a timeout: nothing was read.
                if (!_stop.IsCancellationRequested)
                    _log.LogWarning("Operator console: TLS handshake with {Remote} failed: {Error}", remote, e.Message);
                return;
            }
        }
        await ServeFramesAsync(ssl, remote, connection);
    }

    private async Task ServeFramesAsync(Stream stream, EndPoint? remote, Connection connection)
    {
        var reader = new LineReader(stream, ConsoleFrame.MaxLineChars);
        var writer = new StreamWriter(stream, ConsoleFrame.Encoding, 4096, leaveOpen: true) { NewLine = "\n" };
        var writeLock = new SemaphoreSlim(1, 1);
        var running = new ConcurrentDictionary<int, IActorRef>();
        var pumps = new List<Task>();
        // Cancelled when the connection has been idle (no frame, nothing running) for IdleTimeout.
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        var idleLock = new object();

        // (Re)starts the idle clock when nothing runs, stops it while something does. Called after each frame
        // and when an invocation ends; under a lock so the last call sees the last state of `running`.
        void ArmIdle()
        {
            lock (idleLock)
            {
                try { idle.CancelAfter(running.IsEmpty ? _options.IdleTimeout : Timeout.InfiniteTimeSpan); }
                catch (ObjectDisposedException) { /* the connection is closed */ }
            }
        }

        // A write the client does not accept within IdleTimeout (it reads nothing, its window stays shut) closes
        // the connection, running commands or not: disposing the stream ends this write, the reads and the
        // writes waiting behind it, so a client that never reads cannot hold its connection open forever.
        async Task Send(ConsoleFrame frame)
        {
            await writeLock.WaitAsync();
            try
            {
                using var stall = new CancellationTokenSource(_options.IdleTimeout);
                using var close = stall.Token.Register(() => stream.Dispose());
                try
                {
                    await writer.WriteLineAsync(frame.ToLine());
                    await writer.FlushAsync();
                }
                catch (Exception e) when (stall.IsCancellationRequested && e is IOException or ObjectDisposedException or SocketException or OperationCanceledException)
                {
                    _log.LogWarning("Operator console: closed {Remote}: it accepted no output for {Idle} (fusion.console.idle-timeout)", remote, _options.IdleTimeout);
                    throw new IOException($"the client accepted no output for {_options.IdleTimeout}", e);
                }
            }
            finally { writeLock.Release(); }
        }

        try
        {
            using (var helloWait = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token))
            {
                helloWait.CancelAfter(HelloTimeout);
                if (await ConsoleFrame.ReadAsync(reader, helloWait.Token) is not Hello hello)
                {
                    await Send(new Refused("expected a hello frame"));
                    return;
                }
                if (!TokenMatches(hello.Token))
                {
                    _log.LogWarning("Operator console: refused {Remote}: {Why}", remote, hello.Token is null ? "no token" : "wrong token");
                    await Send(new Refused(hello.Token is null ? "this node requires a token (--token or FUSION_CONSOLE_TOKEN)" : "invalid token"));
                    return;
                }
            }
            // Welcomed: from here on the connection keeps its slot until it closes or idles out.
            _unwelcomed.TryRemove(connection, out _);
            await Send(new Welcome(_node, Palettes));
            ArmIdle();
            while (await ConsoleFrame.ReadAsync(reader, idle.Token) is { } frame)
            {
                switch (frame)
                {
                    // Refused without running anything: the id stays with the invocation that has it, and
                    // `running` counts every invocation of this connection (an id maps to one sink).
                    case Invoke invoke when running.ContainsKey(invoke.Id):
                        await Send(new Response(invoke.Id, CommandResponse.Refusal(
                            $"invocation id {invoke.Id} is already running on this connection; use a new id")));
                        break;
                    case Invoke invoke when running.Count >= MaxRunningPerConnection:
                        await Send(new Response(invoke.Id, CommandResponse.Refusal(
                            $"{MaxRunningPerConnection} commands are already running on this connection; cancel one first")));
                        break;
                    case Invoke invoke:
                        pumps.RemoveAll(p => p.IsCompleted);
                        pumps.Add(RunAsync(invoke, Send, running, ArmIdle));
                        break;
                    case Cancel cancel when running.TryGetValue(cancel.Id, out var sink):
                        _system.Stop(sink);
                        break;
                }
                ArmIdle();
            }
        }
        catch (OperationCanceledException) when (idle.IsCancellationRequested && !_stop.IsCancellationRequested)
        {
            _log.LogInformation("Operator console: closed {Remote}: no frame and no command for {Idle} (fusion.console.idle-timeout)", remote, _options.IdleTimeout);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or JsonException or InvalidDataException or NotSupportedException or DecoderFallbackException)
        {
            // The client went away or spoke something else: end its invocations below.
        }
        finally
        {
            foreach (var sink in running.Values) _system.Stop(sink);
            try { await Task.WhenAll(pumps).WaitAsync(TimeSpan.FromSeconds(5)); }
            catch (Exception) { /* the connection is gone; its invocations are stopped */ }
            try { await writer.DisposeAsync(); }
            catch (Exception e) when (e is IOException or ObjectDisposedException or SocketException) { /* closed under it (stalled) */ }
        }
    }

    private async Task RunAsync(Invoke invoke, Func<ConsoleFrame, Task> send, ConcurrentDictionary<int, IActorRef> running, Action ended)
    {
        var (bound, error) = CommandBinder.Bind(_palettes, invoke.Words);
        if (bound is null)
        {
            await SendQuietly(send, new Response(invoke.Id, CommandResponse.UsageError(error!)));
            return;
        }
        _log.LogInformation("Operator console: {Command}", bound.Command);
        // Bounded: a client that reads slower than the command writes loses the oldest waiting responses (the
        // final one, written last, is never dropped), and is told how many before the next one it gets.
        var dropped = 0L;
        var channel = Channel.CreateBounded<CommandResponse>(
            new BoundedChannelOptions(_options.MaxQueuedResponses) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true, SingleWriter = true },
            _ =>
            {
                Interlocked.Increment(ref dropped);
                Interlocked.Increment(ref _dropped);
            });
        var sink = _system.ActorOf(ResponseSink.Props(channel.Writer, replyTo => bound.Handler.HandlerProps(bound.Command, replyTo)));
        running[invoke.Id] = sink;
        Interlocked.Increment(ref _running);
        try
        {
            await foreach (var response in channel.Reader.ReadAllAsync())
            {
                var lost = Interlocked.Exchange(ref dropped, 0);
                if (lost > 0)
                {
                    _log.LogDebug("Operator console: dropped {Dropped} responses of '{Command}' to a slow reader", lost, bound.Command);
                    if (!await SendQuietly(send, new Response(invoke.Id, Dropped(lost))))
                    {
                        _system.Stop(sink);
                        break;
                    }
                }
                // The id is free once its final response is on its way: a client may reuse it at once.
                if (response.Final) Release(invoke.Id, sink, running, ended);
                if (!await SendQuietly(send, new Response(invoke.Id, response)))
                {
                    _system.Stop(sink);
                    break;
                }
            }
        }
        finally
        {
            Release(invoke.Id, sink, running, ended);
            // The channel completes when the sink stops (PostStop), so the handler is gone by now.
            // Drained, not just awaited: Completion waits for the channel to be empty too (after a failed send
            // the sink's last responses are still in it).
            await foreach (var _ in channel.Reader.ReadAllAsync()) { }
            Interlocked.Decrement(ref _running);
        }
    }

    /// <summary>Frees <paramref name="id"/> if it still belongs to <paramref name="sink"/> (the client may have reused it since the final).</summary>
    private static void Release(int id, IActorRef sink, ConcurrentDictionary<int, IActorRef> running, Action ended)
    {
        if (running.TryRemove(new KeyValuePair<int, IActorRef>(id, sink))) ended();
    }

    private CommandResponse Dropped(long count) =>
        new($"warning: {count} responses dropped: this client reads slower than the command writes " +
            $"(fusion.console.max-queued-responses = {_options.MaxQueuedResponses})", Final: false)
        {
            Data = new System.Text.Json.Nodes.JsonObject { ["kind"] = "dropped", ["dropped"] = count },
        };

    private static async Task<bool> SendQuietly(Func<ConsoleFrame, Task> send, ConsoleFrame frame)
    {
        try
        {
            await send(frame);
            return true;
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or SocketException) { return false; }
    }

    private bool TokenMatches(string? presented)
    {
        if (_options.Token is null) return true;
        if (presented is null) return false;
        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), Encoding.UTF8.GetBytes(_options.Token));
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        try { await _accepting; } catch (Exception) { /* stopping */ }
        try { await Task.WhenAll(_connections.Keys).WaitAsync(TimeSpan.FromSeconds(5)); } catch (Exception) { /* stopping */ }
        _stop.Dispose();
        _certificate?.Dispose();
    }

    /// <summary>
    /// Parent of one invocation's handler: passes its responses into the connection's channel and makes sure
    /// the invocation always ends with a final response (cancelled, or failed when the handler crashed).
    /// </summary>
    private sealed class ResponseSink : ReceiveActor
    {
        private readonly ChannelWriter<CommandResponse> _writer;
        private string? _crash;
        private bool _final;

        public ResponseSink(ChannelWriter<CommandResponse> writer, Func<IActorRef, Props> handler)
        {
            _writer = writer;
            Context.Watch(Context.ActorOf(handler(Self), "handler"));
            Receive<CommandResponse>(Forward);
            Receive<Terminated>(_ =>
            {
                if (!_final) Forward(CommandResponse.Failure(_crash is null ? "the command ended without an answer" : $"the command failed: {_crash}"));
                Context.Stop(Self);
            });
        }

        public static Props Props(ChannelWriter<CommandResponse> writer, Func<IActorRef, Props> handler) =>
            Akka.Actor.Props.Create(() => new ResponseSink(writer, handler));

        protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(e =>
        {
            _crash = $"{e.GetType().Name}: {e.Message}";
            return Directive.Stop;
        });

        private void Forward(CommandResponse response)
        {
            if (_final) return;
            _writer.TryWrite(response);
            if (!response.Final) return;
            _final = true;
            _writer.TryComplete();
            Context.Stop(Self);
        }

        protected override void PostStop()
        {
            // Stopped from outside (cancel, connection closed): the invocation still ends with a final response.
            if (!_final) _writer.TryWrite(CommandResponse.Done("cancelled"));
            _writer.TryComplete();
        }
    }
}
