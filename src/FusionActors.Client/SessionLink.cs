using System.Threading.Channels;
using Akka.Actor;
using Akka.Cluster.Tools.Client;
using Akka.Event;
using Akka.Streams;
using Akka.Streams.Dsl;
using FusionActors.Core.Alignment;
using FusionActors.Core.Specs;
using FusionActors.Core.Streams;
using FusionActors.Protocol;
using FusionActors.Protocol.Serialization;
using FusionActors.Protocol.Specs;

namespace FusionActors.Client;

/// <summary>
/// The client side of one session, as an actor: opens it through the ClusterClient, runs the frame stream
/// into the session's SinkRef (one connection after another), and takes what the session publishes:
/// results (deduplicated by window and revision), commits (which free the replay log) and rejections.
/// When the connection fails or the session's actor terminates (its node died, it was rebalanced or
/// passivated), it reopens the session with a resume point and replays every uncommitted frame.
/// The delivery contract: docs/design.md, "Delivery".
/// </summary>
internal sealed class SessionLink : UntypedActor, IWithTimers
{
    private readonly SessionSpec _spec;
    private readonly FusionClientOptions _options;
    private readonly IActorRef _clusterClient;
    private readonly ReplayLog _log;
    private readonly SessionState _state;
    private readonly TaskCompletionSource<SessionOpened> _firstOpen;
    private readonly ILoggingAdapter _logger = Context.GetLogger();
    private IMaterializer? _materializer;
    private IActorRef? _session;
    private int _epoch;
    private bool _connected;
    private DateTime _lostAt;
    private bool _closing;
    private long _lastHeardTicks = Environment.TickCount64;
    // Who this link is to the session: its nonce (every answer to its opens echoes it), and what the last open gave
    // it: the writer epoch and capability it presents, and the seal the session stamps on results, commits and pings.
    private readonly string _nonce = Secrets.New();
    private long _writerEpoch;
    private string? _seal;
    // Connections in a row lost soon after they opened: the next reopen backs off (FusionClientOptions.ReopenDelay).
    private int _quickLosses;
    private long _openedTicks;
    private long _progressTicks; // when the current connection opened or last moved the commit point
    // The current frame stream: its input, and whether anything ever went out of it into the session's sink.
    private Channel<IWithSessionId>? _channel;
    private FlowMark? _flow;

    public SessionLink(SessionSpec spec, FusionClientOptions options, IActorRef clusterClient, ReplayLog log, SessionState state,
        TaskCompletionSource<SessionOpened> firstOpen)
    {
        _spec = spec;
        _options = options;
        _clusterClient = clusterClient;
        _log = log;
        _state = state;
        _firstOpen = firstOpen;
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(SessionSpec spec, FusionClientOptions options, IActorRef clusterClient, ReplayLog log, SessionState state,
        TaskCompletionSource<SessionOpened> firstOpen) =>
        Akka.Actor.Props.Create(() => new SessionLink(spec, options, clusterClient, log, state, firstOpen));

    protected override void PreStart()
    {
        _materializer = Context.Materializer();
        SendOpen();
        Timers.StartPeriodicTimer("open", RetryOpen.Instance, _options.RetryInterval);
        var every = TimeSpan.FromMilliseconds(Math.Max(100, _options.FailureDetectionPause.TotalMilliseconds / 4));
        Timers.StartPeriodicTimer("liveness", CheckLiveness.Instance, every);
    }

    protected override void PostStop()
    {
        _log.Detach();
        _state.Complete();
        _firstOpen.TrySetException(new FusionSessionException($"session '{_spec.SessionId}' was disposed before it opened"));
    }

    protected override void OnReceive(object message)
    {
        // Results, commits and pings count only with the seal of the incarnation this link opened, and answers to
        // opens only with its nonce: anyone who can reach this actor could send the rest (forged ones are dropped).
        switch (message)
        {
            case ISealed { Seal: var seal } when !Sealed(seal): Forged(message); return;
            case SessionOpened { Nonce: var nonce } when !Secrets.Equal(nonce, _nonce): Forged(message); return;
            case CommandRejected { Command: nameof(OpenSession), Nonce: var nonce } when !Secrets.Equal(nonce, _nonce): Forged(message); return;
            case SessionFenced f when !Secrets.Equal(f.Nonce, _nonce) && !Sealed(f.Seal): Forged(message); return;
            case NodeFull { Nonce: var nonce } when !Secrets.Equal(nonce, _nonce): Forged(message); return;
        }
        if (message is FusedResult or FramesCommitted or ClockPing) _lastHeardTicks = Environment.TickCount64;
        switch (message)
        {
            case SessionOpened o: OnOpened(o); break;
            case RetryOpen:
                if (_connected || _closing) break;
                SendOpen();
                // After a back-off (a single timer), unanswered opens are retried periodically again.
                if (!Timers.IsTimerActive("open")) Timers.StartPeriodicTimer("open", RetryOpen.Instance, _options.RetryInterval);
                break;
            case FusedResult r: _state.OnResult(r); break;
            case FramesCommitted c:
                _state.FramesCommittedMessages++;
                if (c.ThroughUs > _log.CommittedThroughUs) _progressTicks = Environment.TickCount64;
                _log.Commit(c.ThroughUs);
                _state.OnCommit(c.ThroughUs);
                break;
            case FrameRejected x: _state.OnRejected(x); break;
            case StreamStateChanged or LateEvidence: _state.OnEvent(message); break;
            case Subscribed: break;
            case ClockPing p: Sender.Tell(new ClockPong(p.SessionId, p.ServerSentUs, _state.NowUs(), _state.Capability)); break;
            case SessionFenced f:
                // Another writer holds the session now. Reopening would fence it in turn, and the two would take turns
                // forever: this writer ends, visibly, as a Kafka producer does when fenced.
                _logger.Warning("Session {0}: fenced by writer epoch {1} (this writer had {2}): {3}", _spec.SessionId, f.CurrentEpoch, f.Epoch, f.Reason);
                var fenced = new FusionSessionFencedException($"session '{_spec.SessionId}' was fenced: {f.Reason} (writer epoch {f.CurrentEpoch}, this writer {f.Epoch})",
                    f.Epoch, f.CurrentEpoch);
                End(fenced);
                break;
            case NodeFull full:
                // Not final: the periodic retry opens again, and succeeds once the node has room.
                _logger.Warning("Session {0}: the node is full ({1} open sessions); retrying", _spec.SessionId, full.OpenSessions);
                break;
            case CommandRejected x when x.Command == nameof(OpenSession):
                if (x.Reason.Contains("retry")) break; // the entity was stopping: the next periodic open gets a fresh one
                _logger.Warning("Session {0}: open refused: {1}", _spec.SessionId, x.Reason);
                // A reopen refused for good (the token was revoked, or another spec took the id): retrying cannot help.
                End(new FusionSessionException($"session '{_spec.SessionId}' refused: {x.Reason}"));
                break;
            case CommandRejected x: _state.OnEvent(x); break;
            case LinkEnded e when e.Epoch == _epoch: Lost(e.Cause is null ? "the frame stream completed" : $"the frame stream failed: {e.Cause.Message}"); break;
            case LinkEnded: break; // a connection that was already replaced
            case Terminated t when t.ActorRef.Equals(_session): Lost($"the session actor on {t.ActorRef.Path.Address} terminated"); break;
            case Terminated: break;
            case Closing: _closing = true; Timers.Cancel("open"); break;
            case CheckLiveness:
                // The session pings its client every second; silence this long means its node is gone or cut off.
                // Reopening is harmless if it is not (the same incarnation answers), whereas waiting for the remote
                // watch to decide would quarantine the node's address for good if it were only slow.
                var silent = Environment.TickCount64 - _lastHeardTicks;
                if (_connected && silent > _options.FailureDetectionPause.TotalMilliseconds) Lost($"no word from the session for {silent} ms");
                else if (_connected && FrameStreamNeverStarted() is { } waited)
                    // The session answers (its pings come over the node's own connection to this client) but the sink it
                    // handed out never asked for a frame: this client's way to that node is broken. A session's sink asks
                    // at once, whatever its load, so this is not back-pressure.
                    Lost($"the frame stream never started: no demand from the session's sink in {waited} ms with frames waiting");
                else if (_connected && CommitStalled() is { } stalled)
                    // The backstop for a frame stream that started (or seemed to: a local stage can pull before the
                    // remote sink ever asks) yet carries nothing: frames wait and the session, which answers, commits
                    // none of them. Windows close on the clock when streams go idle, so a live session always commits.
                    Lost($"no commit for {stalled} ms with {_log.Count} frames waiting");
                break;
            default: Unhandled(message); break;
        }
    }

    /// <summary>The session ends for good, visibly: the opener, Results and pushes fail with the reason.</summary>
    private void End(FusionSessionException reason)
    {
        if (!_firstOpen.TrySetException(reason))
        {
            _state.Fail(reason);
            _log.Detach();
            _log.Close();
        }
        Context.Stop(Self);
    }

    private bool Sealed(string? seal) => Secrets.Equal(seal, _seal);

    private void Forged(object message)
    {
        // Between an open and its answer this link does not know the seal yet (a new incarnation makes a new one):
        // what the session sends then (its first ping, results of windows fused from an earlier writer's frames) can
        // overtake the answer. It cannot be checked, so it is dropped without counting as forged.
        if ((_seal is null || !_connected) && message is not (SessionOpened or CommandRejected or SessionFenced or NodeFull)) return;
        Interlocked.Increment(ref _state.Forged);
        _logger.Warning("Session {0}: dropped a {1} from {2} without the session's seal or this client's nonce", _spec.SessionId, message.GetType().Name, Sender.Path);
    }

    private void SendOpen()
    {
        SessionResume? resume = null;
        if (_state.Opens > 0)
        {
            var (next, heldBelow) = _log.ResumePoint();
            resume = new SessionResume(_log.CommittedThroughUs, next, _writerEpoch, _state.Capability, heldBelow.Count > 0 ? heldBelow : null,
                _state.DeliveredRevisions(), Math.Min(_state.Opens, Aligner.MaxResumedGeneration));
        }
        var open = new OpenSession(_spec, _state.NowUs(), _options.Token, resume, Self, _nonce);
        _clusterClient.Tell(new ClusterClient.Send("/user/fusion-gateway", open, localAffinity: false));
    }

    private void OnOpened(SessionOpened opened)
    {
        if (_connected || _closing || opened.FrameSink is null) return; // an answer to an earlier retry: its sink times out unused
        if (opened.CommittedThroughUs != long.MinValue && opened.CommittedThroughUs < _log.CommittedThroughUs)
        {
            // An incarnation made from an open this link sent before it took commits from another one: it lacks frames
            // this client has forgotten, and would close their windows empty. Opening again with the resume point it
            // now has makes that incarnation stop (its sink times out unused), and the next open finds a fresh one.
            _logger.Warning("Session {0}: an incarnation on {1} answered at commit point {2}, behind this client's {3}; opening again",
                _spec.SessionId, opened.Frames?.Path.Address.ToString() ?? "?", opened.CommittedThroughUs, _log.CommittedThroughUs);
            _state.BehindAnswers++;
            SendOpen();
            return;
        }
        _writerEpoch = opened.Epoch;
        _seal = opened.Seal;
        _state.Capability = opened.Capability;
        _epoch++;
        _connected = true;
        _lastHeardTicks = Environment.TickCount64;
        _openedTicks = _lastHeardTicks;
        _progressTicks = _lastHeardTicks;
        _state.Opens++;
        if (_session is not null) Context.Unwatch(_session);
        _session = opened.Frames;
        if (_session is not null) Context.Watch(_session);
        Timers.Cancel("open");

        var channel = Channel.CreateUnbounded<IWithSessionId>(new UnboundedChannelOptions { SingleReader = true });
        var sessionId = _spec.SessionId;
        var epoch = _epoch;
        var flow = new FlowMark();
        _channel = channel;
        _flow = flow;
        var done = ChannelSource.FromReader(channel.Reader)
            .GroupedWithin(_options.MaxBatch, _options.BatchDelay)
            .SelectMany(group => Batches(sessionId, group, _options.MaxBatchBytes))
            .Select(m =>
            {
                flow.Moved = true; // pulled by the sink: the session asked for it
                return m;
            })
            .WatchTermination((_, t) => t)
            .To(opened.FrameSink.Sink)
            .Run(_materializer!);
        done.PipeTo(Self, success: _ => new LinkEnded(epoch, null), failure: e => new LinkEnded(epoch, e));
        var replayed = _log.Attach(channel.Writer);

        var node = _session?.Path.Address.ToString() ?? "?";
        _state.Node = node; // before the opener is released: it may read Node at once, on another thread
        if (_state.Opens == 1)
        {
            _logger.Info("Session {0} opened on {1}", sessionId, node);
            _firstOpen.TrySetResult(opened);
        }
        else
        {
            var gap = DateTime.UtcNow - _lostAt;
            _state.OnResumed(node, gap, replayed);
            _logger.Warning("Session {0} resumed on {1} after {2:0.0} s; replaying {3} uncommitted entries", sessionId, node, gap.TotalSeconds, replayed);
        }
    }

    private void Lost(string why)
    {
        if (!_connected) return;
        _connected = false;
        _lostAt = DateTime.UtcNow;
        _state.Disconnects++;
        _log.Detach();
        if (_closing) return;
        if (_log.CommittedThroughUs == long.MaxValue)
        {
            // Everything was committed and every stream closed: nothing to resume. Reopening would start an empty
            // session that reports NoEvidence windows from the start.
            _closing = true;
            Timers.Cancel("open");
            _state.Complete();
            return;
        }
        // The incarnation this link watched is gone or cut off: stop watching it. A watch left on it would let the
        // remote watcher declare its address unreachable later, which ends the watches of whatever runs at that
        // address by then (a node restarted on the same port) and gates the association to it.
        if (_session is not null)
        {
            Context.Unwatch(_session);
            _session = null;
        }
        // Lost again soon after it opened (the node is still starting, its address is gated, the session keeps
        // stopping): back off, with jitter, instead of reopening in a tight loop.
        var lived = Environment.TickCount64 - _openedTicks;
        _quickLosses = lived < 2 * _options.FailureDetectionPause.TotalMilliseconds ? _quickLosses + 1 : 0;
        var delay = _options.ReopenDelay(_quickLosses, Random.Shared.NextDouble());
        _state.ReopenBackoffs += delay > TimeSpan.Zero ? 1 : 0;
        _logger.Warning("Session {0}: connection lost ({1}) after {2:0.0} s; reopening {3}with {4} uncommitted entries", _spec.SessionId, why,
            lived / 1000.0, delay > TimeSpan.Zero ? $"in {delay.TotalSeconds:0.00} s " : "", _log.Count);
        if (delay > TimeSpan.Zero)
        {
            Timers.StartSingleTimer("open", RetryOpen.Instance, delay);
            return;
        }
        SendOpen();
        Timers.StartPeriodicTimer("open", RetryOpen.Instance, _options.RetryInterval);
    }

    /// <summary>
    /// Consecutive frames travel as one <see cref="FrameBatch"/> of at most <paramref name="maxBytes"/> on the wire
    /// (<see cref="FrameSerializer.BatchedBytes"/>); closes and heartbeats keep their place between them. Each batch is
    /// one exact array of its frames.
    /// </summary>
    internal static IEnumerable<IWithSessionId> Batches(string sessionId, IEnumerable<IWithSessionId> group, int maxBytes)
    {
        var items = group as IReadOnlyList<IWithSessionId> ?? group.ToList();
        var run = 0; // frames items[i - run .. i)
        long bytes = 0;
        for (var i = 0; i < items.Count; i++)
        {
            if (items[i] is Frame f)
            {
                var size = FrameSerializer.BatchedBytes(f);
                if (run > 0 && bytes + size > maxBytes)
                {
                    yield return Batch(sessionId, items, i - run, run);
                    run = 0;
                    bytes = 0;
                }
                run++;
                bytes += size;
                continue;
            }
            if (run > 0)
            {
                yield return Batch(sessionId, items, i - run, run);
                run = 0;
                bytes = 0;
            }
            yield return items[i];
        }
        if (run > 0) yield return Batch(sessionId, items, items.Count - run, run);
    }

    private static FrameBatch Batch(string sessionId, IReadOnlyList<IWithSessionId> items, int start, int count)
    {
        var frames = new Frame[count];
        for (var k = 0; k < count; k++) frames[k] = (Frame)items[start + k];
        return new FrameBatch(sessionId, frames);
    }

    /// <summary>
    /// Milliseconds since the current connection opened when its frame stream has frames waiting but never got demand
    /// from the session's sink for longer than <see cref="FirstDemandTimeoutMs"/>; null otherwise.
    /// </summary>
    private long? FrameStreamNeverStarted()
    {
        if (_flow is not { Moved: false } || _channel is not { } channel) return null;
        var waited = Environment.TickCount64 - _openedTicks;
        if (waited <= FirstDemandTimeoutMs) return null;
        return channel.Reader.CanCount && channel.Reader.Count > 0 ? waited : null;
    }

    /// <summary>
    /// Milliseconds since the current connection opened or last moved the commit point, when frames wait and that is
    /// longer than <see cref="CommitStallTimeoutMs"/>; null otherwise.
    /// </summary>
    private long? CommitStalled()
    {
        if (_log.Count == 0) return null;
        var stalled = Environment.TickCount64 - _progressTicks;
        return stalled > CommitStallTimeoutMs ? stalled : null;
    }

    private long CommitStallTimeoutMs => Math.Max(30_000, 10 * (long)_options.FailureDetectionPause.TotalMilliseconds);

    private long FirstDemandTimeoutMs => Math.Max(10_000, 3 * (long)_options.FailureDetectionPause.TotalMilliseconds);

    private sealed class FlowMark
    {
        private volatile bool _moved;

        public bool Moved { get => _moved; set => _moved = value; }
    }

    internal sealed record LinkEnded(int Epoch, Exception? Cause);

    internal sealed record Closing
    {
        public static readonly Closing Instance = new();
    }

    private sealed record CheckLiveness
    {
        public static readonly CheckLiveness Instance = new();
    }

    private sealed record RetryOpen
    {
        public static readonly RetryOpen Instance = new();
    }
}
