using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Event;
using FusionActors.Protocol;
using FusionActors.Runtime.Sessions;

namespace FusionActors.Runtime.Ingress;

/// <summary>
/// The session's client for one writer on this node's ingress: the actor an <see cref="OpenSession"/> names as its
/// <see cref="OpenSession.Client"/>. Like the .NET client's link it takes answers to its opens only with its nonce and
/// results, commits and pings only with the seal of the incarnation it opened, and hands them to its connection. It
/// watches the session: a terminated session, or one silent for <see cref="HttpOptions.SessionSilence"/>, is lost.
/// <para>
/// It outlives a connection that drops: for <see cref="ParkFor"/> it keeps what the session sends (up to
/// <see cref="HttpOptions.MaxQueuedMessages"/>), and the writer's next connection to this node (the same session and
/// nonce) takes it over and gets those first, so that a result fused while the client was reconnecting is not lost.
/// </para>
/// </summary>
internal sealed class IngressLink : UntypedActor, IWithTimers
{
    /// <summary>How long a link waits for its writer to reconnect.</summary>
    public static readonly TimeSpan ParkFor = TimeSpan.FromSeconds(30);

    private readonly string _key;
    private readonly string _nonce;
    private readonly HttpOptions _options;
    private readonly ConcurrentDictionary<string, IActorRef> _registry;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Queue<byte[]> _parked = new();
    private IngressConnection? _connection;
    private string? _seal;
    private IActorRef? _session;
    private long _lastHeard = Environment.TickCount64;
    private bool _opened;
    private bool _finished; // everything committed: the writer has no reason to come back
    private readonly List<RelinkedOutput> _handedOver = []; // arrived before this link's open was answered: its seal is not known yet
    private long _handedOverBytes;
    private const long MaxHandedOverBytes = 8 << 20;

    public IngressLink(string key, string nonce, HttpOptions options, ConcurrentDictionary<string, IActorRef> registry)
    {
        _key = key;
        _nonce = nonce;
        _options = options;
        _registry = registry;
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(string key, string nonce, HttpOptions options, ConcurrentDictionary<string, IActorRef> registry) =>
        ActorFactory.Props(() => new IngressLink(key, nonce, options, registry));

    protected override void PostStop() => _registry.TryRemove(KeyValuePair.Create(_key, Self));

    protected override void OnReceive(object message)
    {
        if (message is RelinkedOutput early && _seal is null)
        {
            // The link the writer left may hand over before the session's answer reaches this one: kept, checked then.
            // Unchecked until then, so bounded by bytes: a forged one costs at most this much, for as long as the open takes.
            var size = early.Messages?.Sum(m => (long)(m?.Length ?? 0)) ?? 0;
            if (_handedOverBytes + size <= MaxHandedOverBytes)
            {
                _handedOver.Add(early);
                _handedOverBytes += size;
            }
            return;
        }
        switch (message)
        {
            case ISealed { Seal: var seal } when !Secrets.Equal(seal, _seal): return; // before the answer, or forged
            case SessionOpened { Nonce: var n } when !Secrets.Equal(n, _nonce): return;
            case CommandRejected { Command: nameof(OpenSession), Nonce: var n } when !Secrets.Equal(n, _nonce): return;
            case NodeFull { Nonce: var n } when !Secrets.Equal(n, _nonce): return;
            case SessionFenced f when !Secrets.Equal(f.Nonce, _nonce) && !Secrets.Equal(f.Seal, _seal): return;
        }
        switch (message)
        {
            case Adopt a:
                if (_connection is not null && !ReferenceEquals(_connection, a.Connection))
                    _connection.Lost("another connection of this writer took over");
                _connection = a.Connection;
                _opened = false;
                Timers.Cancel("park");
                break;
            case Detached d when ReferenceEquals(d.Connection, _connection):
                _connection = null;
                if (d.Final || _finished)
                {
                    Context.Stop(Self);
                    break;
                }
                Timers.StartSingleTimer("park", ParkExpired.Instance, ParkFor);
                break;
            case Detached: break; // a connection already replaced
            case ParkExpired:
                _log.Info("Ingress: the writer of session {0} did not reconnect within {1}; {2} messages dropped", _key[.._key.IndexOf('\n')], ParkFor, _parked.Count);
                Context.Stop(Self);
                break;
            case SessionOpened o:
                if (_opened || o.FrameSink is null || _connection is null) return; // an answer to a retried or abandoned open: its sink times out unused
                _opened = true;
                _seal = o.Seal;
                _lastHeard = Environment.TickCount64;
                if (_session is not null && !_session.Equals(o.Frames)) Context.Unwatch(_session);
                _session = o.Frames;
                if (_session is not null) Context.Watch(_session);
                Timers.StartPeriodicTimer("liveness", CheckLiveness.Instance,
                    TimeSpan.FromMilliseconds(Math.Max(100, _options.SessionSilence.TotalMilliseconds / 4)));
                _connection.OnOpened(o);
                while (_parked.TryDequeue(out var m)) _connection.Send(m); // what came while the writer was away, after the answer
                foreach (var h in _handedOver)
                    if (Secrets.Equal(h.Seal, _seal)) Deliver(h);
                _handedOver.Clear();
                _handedOverBytes = 0;
                break;
            case WriterRelinked w when !w.To.Equals(Self):
                HandOver(w.To);
                break;
            case WriterRelinked: break;
            case RelinkedOutput h:
                Deliver(h);
                break;
            case CommandRejected { Command: nameof(OpenSession) } x:
                if (x.Reason.Contains("retry", StringComparison.Ordinal)) Timers.StartSingleTimer("reopen", Retry.Instance, TimeSpan.FromMilliseconds(300));
                else _connection?.OnRefused(x.Reason.Contains("session token", StringComparison.Ordinal) ? IngressErrorCode.Unauthorized : IngressErrorCode.OpenRefused, x.Reason);
                break;
            case Retry: _connection?.ResendOpen(Self); break;
            case NodeFull full: _connection?.OnRefused(IngressErrorCode.NodeFull, $"the node holds its maximum of open sessions ({full.OpenSessions})"); break;
            case SessionFenced f:
                if (_connection is null) Context.Stop(Self); // nothing to come back for
                else _connection.OnRefused(IngressErrorCode.Fenced, $"{f.Reason} (writer epoch {f.CurrentEpoch}, this writer {f.Epoch})");
                break;
            case FusedResult r:
                _lastHeard = Environment.TickCount64;
                Send(IngressWire.Result(r));
                break;
            case FramesCommitted c:
                _lastHeard = Environment.TickCount64;
                _finished |= c.ThroughUs == long.MaxValue;
                Send(IngressWire.Committed(c.ThroughUs));
                break;
            case ClockPing p:
                _lastHeard = Environment.TickCount64;
                _connection?.Send(IngressWire.Ping(p.ServerSentUs)); // a ping is worth nothing later
                break;
            case FrameRejected x: Send(IngressWire.Rejected(x.StreamId, x.Seq, x.Reason.ToString(), x.Detail)); break;
            case CommandRejected x: Send(IngressWire.Rejected(null, -1, "CommandRejected", $"{x.Command}: {x.Reason}")); break;
            case Terminated t when t.ActorRef.Equals(_session):
                _session = null;
                _connection?.Lost($"the session actor on {t.ActorRef.Path.Address} terminated");
                break;
            case CheckLiveness:
                var silent = Environment.TickCount64 - _lastHeard;
                if (_connection is not null && _opened && silent > _options.SessionSilence.TotalMilliseconds)
                    _connection.Lost($"no word from the session for {silent} ms");
                break;
            case StreamStateChanged or LateEvidence or Subscribed or Terminated or ClockOffsetChanged: break;
            default:
                _log.Debug("Ingress link: ignored a {0}", message.GetType().Name);
                break;
        }
    }

    /// <summary>
    /// The writer reopened the session through another link (on another node's ingress): what this one kept for it goes
    /// there, in chunks under the wire's payload cap, and this link is done.
    /// </summary>
    private void HandOver(IActorRef to)
    {
        var sessionId = _key[.._key.IndexOf('\n')];
        var chunk = new List<byte[]>();
        var bytes = 0;
        while (_parked.TryDequeue(out var m))
        {
            if (chunk.Count > 0 && (bytes + m.Length > RelinkedOutput.MaxChunkBytes || chunk.Count == RelinkedOutput.MaxMessages))
            {
                to.Tell(new RelinkedOutput(sessionId, [.. chunk], _seal));
                chunk.Clear();
                bytes = 0;
            }
            chunk.Add(m);
            bytes += m.Length;
        }
        if (chunk.Count > 0) to.Tell(new RelinkedOutput(sessionId, [.. chunk], _seal));
        _log.Info("Ingress: the writer of session {0} reconnected through {1}; what was kept for it went there", sessionId, to.Path.Address);
        _connection?.Lost("the writer reconnected through another link");
        Context.Stop(Self);
    }

    /// <summary>Handed over by the link the writer left: ingress messages as they go to the client, bounded.</summary>
    private void Deliver(RelinkedOutput handedOver)
    {
        if (handedOver.Messages is not { } messages) return;
        foreach (var m in messages.Take(RelinkedOutput.MaxMessages))
            if (m is { Length: > 0 } && m.Length <= _options.MaxMessageBytes) Send(m);
    }

    private void Send(byte[] message)
    {
        if (_connection is not null && _opened)
        {
            _connection.Send(message);
            return;
        }
        // Parked, or the writer's connection not open yet: kept for it, the oldest dropped beyond the cap.
        _parked.Enqueue(message);
        if (_parked.Count > _options.MaxQueuedMessages) _parked.Dequeue();
    }

    /// <summary>A connection of the writer takes the link over (its first, or one after a drop).</summary>
    public sealed record Adopt(IngressConnection Connection);

    /// <summary>The connection ended; <see cref="Final"/>: the writer will not come back (refused, fenced, done).</summary>
    public sealed record Detached(IngressConnection Connection, bool Final);

    private sealed record ParkExpired
    {
        public static readonly ParkExpired Instance = new();
    }

    private sealed record CheckLiveness
    {
        public static readonly CheckLiveness Instance = new();
    }

    private sealed record Retry
    {
        public static readonly Retry Instance = new();
    }
}
