using Akka.Actor;
using Akka.Event;
using FusionActors.Protocol;
using FusionActors.Runtime.Sessions;

namespace FusionActors.Runtime.Ingress;

/// <summary>
/// The session's client, for one ingress connection: the actor an <see cref="OpenSession"/> names as its
/// <see cref="OpenSession.Client"/>. Like the .NET client's link it takes answers to its open only with its nonce and
/// results, commits and pings only with the seal of the incarnation it opened, and hands them to the connection.
/// It watches the session: a terminated session, or one silent for <see cref="HttpOptions.SessionSilence"/>, is lost.
/// </summary>
internal sealed class IngressLink : UntypedActor, IWithTimers
{
    private readonly IngressConnection _connection;
    private readonly string _nonce;
    private readonly TimeSpan _silence;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private string? _seal;
    private IActorRef? _session;
    private long _lastHeard = Environment.TickCount64;
    private bool _opened;

    public IngressLink(IngressConnection connection, string nonce, TimeSpan silence)
    {
        _connection = connection;
        _nonce = nonce;
        _silence = silence;
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(IngressConnection connection, string nonce, TimeSpan silence) =>
        ActorFactory.Props(() => new IngressLink(connection, nonce, silence));

    protected override void OnReceive(object message)
    {
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
            case SessionOpened o:
                if (_opened || o.FrameSink is null) return; // an answer to a retried open: its sink times out unused
                _opened = true;
                _seal = o.Seal;
                _lastHeard = Environment.TickCount64;
                _session = o.Frames;
                if (_session is not null) Context.Watch(_session);
                Timers.StartPeriodicTimer("liveness", CheckLiveness.Instance, TimeSpan.FromMilliseconds(Math.Max(100, _silence.TotalMilliseconds / 4)));
                _connection.OnOpened(o);
                break;
            case CommandRejected { Command: nameof(OpenSession) } x:
                if (x.Reason.Contains("retry", StringComparison.Ordinal)) Timers.StartSingleTimer("reopen", Retry.Instance, TimeSpan.FromMilliseconds(300));
                else _connection.OnRefused(x.Reason.Contains("session token", StringComparison.Ordinal) ? IngressErrorCode.Unauthorized : IngressErrorCode.OpenRefused, x.Reason);
                break;
            case Retry: _connection.ResendOpen(Self); break;
            case NodeFull full: _connection.OnRefused(IngressErrorCode.NodeFull, $"the node holds its maximum of open sessions ({full.OpenSessions})"); break;
            case SessionFenced f:
                _connection.OnRefused(IngressErrorCode.Fenced, $"{f.Reason} (writer epoch {f.CurrentEpoch}, this writer {f.Epoch})");
                break;
            case FusedResult r:
                _lastHeard = Environment.TickCount64;
                _connection.Send(IngressWire.Result(r));
                break;
            case FramesCommitted c:
                _lastHeard = Environment.TickCount64;
                _connection.Send(IngressWire.Committed(c.ThroughUs));
                break;
            case ClockPing p:
                _lastHeard = Environment.TickCount64;
                _connection.Send(IngressWire.Ping(p.ServerSentUs));
                break;
            case FrameRejected x: _connection.Send(IngressWire.Rejected(x.StreamId, x.Seq, x.Reason.ToString(), x.Detail)); break;
            case CommandRejected x: _connection.Send(IngressWire.Rejected(null, -1, "CommandRejected", $"{x.Command}: {x.Reason}")); break;
            case Terminated t when t.ActorRef.Equals(_session):
                _connection.Lost($"the session actor on {t.ActorRef.Path.Address} terminated");
                break;
            case CheckLiveness:
                var silent = Environment.TickCount64 - _lastHeard;
                if (silent > _silence.TotalMilliseconds) _connection.Lost($"no word from the session for {silent} ms");
                break;
            case StreamStateChanged or LateEvidence or Subscribed or Terminated or ClockOffsetChanged: break;
            default:
                _log.Debug("Ingress link: ignored a {0}", message.GetType().Name);
                break;
        }
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
