using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Event;
using Akka.Streams;
using Akka.Streams.Dsl;
using FusionActors.Inference;
using FusionActors.Metrics;
using FusionActors.Protocol;
using FusionActors.Specs;
using FusionActors.Supervision;
using FusionActors.Time;

namespace FusionActors.Actors;

/// <summary>
/// One session (a Cluster Sharding entity keyed by session id): owns the spec, creates and supervises its
/// stream, alignment and fusion actors (one-for-one), routes frames to streams, answers status queries.
/// A message for a session that was never opened is rejected with UnknownSession and the entity passivates.
/// </summary>
public sealed class SessionActor : UntypedActor, IWithTimers
{
    private readonly string _sessionId;
    private readonly IEncoderProvider _encoders;
    private readonly BackoffPolicy _backoff;
    private readonly bool _sharded;
    private readonly SessionTokens _tokens;
    private readonly TimeSpan? _passivateIdleAfter;
    private ILoggingAdapter? _log;
    private readonly Dictionary<string, IActorRef> _streams = new();
    private SessionSpec? _spec;
    private IActorRef _alignment = ActorRefs.Nobody;
    private IActorRef _fusion = ActorRefs.Nobody;
    private long _clockOffsetUs;
    private bool _passivating;
    private IActorRef? _client;
    private SessionClock? _clock; // round-trip estimates, once a client that can answer pings attaches
    private IMaterializer? _materializer;
    private readonly Dictionary<long, (IActorRef Sink, int Waiting)> _unacked = new();
    private readonly HashSet<IActorRef> _batchStreams = [];
    private long _batchIds;
    private static readonly TimeSpan UnopenedLifetime = TimeSpan.FromSeconds(5);

    private ILoggingAdapter Log => _log ??= Context.GetLogger();

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>
    /// How often the session pings its client: a clock reading for the round-trip offset estimate, and a sign of
    /// life the client watches for (it reopens a session that stays silent). The first ping goes at once.
    /// </summary>
    private static readonly TimeSpan ClockProbeInterval = TimeSpan.FromSeconds(1);

    /// <summary>A client batch whose streams have not made room by then is acked anyway (a stream restarted by a bug loses its waiters).</summary>
    private static readonly TimeSpan RoomDeadline = TimeSpan.FromSeconds(10);

    public SessionActor(string sessionId, IEncoderProvider encoders, BackoffPolicy backoff, bool sharded, SessionTokens? tokens = null,
        TimeSpan? passivateIdleAfter = null)
    {
        _sessionId = sessionId;
        _encoders = encoders;
        _backoff = backoff;
        _sharded = sharded;
        _tokens = tokens ?? SessionTokens.None;
        _passivateIdleAfter = passivateIdleAfter;
    }

    /// <param name="tokens">Tokens a client must present at session open; none configured = no check.</param>
    /// <param name="passivateIdleAfter">
    /// An open session with no message for this long passivates (sharded only). The session times this itself:
    /// frames through a client's sink bypass the shard, whose own idle passivation would stop a busy session.
    /// </param>
    public static Props Props(string sessionId, IEncoderProvider encoders, BackoffPolicy backoff, bool sharded = true, SessionTokens? tokens = null,
        TimeSpan? passivateIdleAfter = null) =>
        ActorFactory.Props(() => new SessionActor(sessionId, encoders, backoff, sharded, tokens, passivateIdleAfter));

    protected override void PostStop() { if (_spec is not null) FusionMetrics.SessionClosed(); }

    protected override SupervisorStrategy SupervisorStrategy() =>
        // A bug in one child must not take the session down: restart just that child.
        new OneForOneStrategy(10, TimeSpan.FromMinutes(1), _ => Directive.Restart);

    protected override void OnReceive(object message) => Closed(message);

    private void Closed(object message)
    {
        switch (message)
        {
            case OpenSession open:
                Open(open);
                break;
            case ReceiveTimeout:
                _passivating = true;
                Context.SetReceiveTimeout(null);
                Context.Parent.Tell(new Passivate(PoisonPill.Instance));
                break;
            case Frame f:
                Sender.Tell(new FrameRejected(f.SessionId, f.StreamId, f.Seq, RejectReason.UnknownSession, $"session '{f.SessionId}' is not open"));
                PassivateUnopened();
                break;
            case FrameBatch batch:
                foreach (var f in batch.Frames)
                    Sender.Tell(new FrameRejected(f.SessionId, f.StreamId, f.Seq, RejectReason.UnknownSession, $"session '{f.SessionId}' is not open"));
                PassivateUnopened();
                break;
            case GetSessionStatus:
                Sender.Tell(new SessionStatus(_sessionId, false, [], null, null));
                PassivateUnopened();
                break;
            default:
                Sender.Tell(new CommandRejected(_sessionId, message.GetType().Name, $"session '{_sessionId}' is not open"));
                PassivateUnopened();
                break;
        }
    }

    /// <summary>
    /// Stray messages for sessions that were never opened must not leave entities behind (or a flood of
    /// them would hold memory): an unopened entity passivates after a few quiet seconds.
    /// </summary>
    private void PassivateUnopened()
    {
        if (_sharded && !_passivating) Context.SetReceiveTimeout(UnopenedLifetime);
    }

    private void Opened(object message)
    {
        switch (message)
        {
            case Frame f: Route(f.StreamId, f, f.Seq); break;
            case FrameBatch batch:
                foreach (var f in batch.Frames) Route(f.StreamId, f, f.Seq);
                break;
            case FromClient c: FromSink(c.Message); break;
            case SinkOpened: Sender.Tell(SinkAck.Instance); break;
            case StreamActor.Room r: OnRoom(r.Id); break;
            case RoomOverdue r when _unacked.ContainsKey(r.Id):
                Log.Warning("Session {0}: a client batch waited {1} s for its streams to make room; acked anyway", _sessionId, RoomDeadline.TotalSeconds);
                OnRoom(r.Id, force: true);
                break;
            case RoomOverdue: break;
            case ReceiveTimeout:
                Log.Info("Session {0}: idle for {1}; passivating", _sessionId, _passivateIdleAfter);
                _passivating = true;
                Context.SetReceiveTimeout(null);
                Context.Parent.Tell(new Passivate(PoisonPill.Instance));
                break;
            case SinkClosed c:
                if (c.Cause is { } cause) Log.Info("Session {0}: a client frame stream failed: {1}", _sessionId, cause.Message);
                break;
            case StreamHeartbeat h: Route(h.StreamId, h, -1); break;
            case CloseStream c: Route(c.StreamId, c, -1); break;
            case CrashEncoder c: Route(c.StreamId, c, -1); break;
            case RestartStream c: Route(c.StreamId, c, -1); break;
            case DisableStream c: Route(c.StreamId, c, -1); break;
            case EnableStream c: Route(c.StreamId, c, -1); break;
            case DropFrames c: Route(c.StreamId, c, -1); break;
            case Subscribe or Unsubscribe: _fusion.Forward(message); break;
            case ClockProbe:
                _client?.Tell(new ClockPing(_sessionId, ServerClock.NowUs()));
                break;
            case ClockPong p: OnClockPong(p); break;
            case Terminated t when t.ActorRef.Equals(_client):
                // The client is gone (its process ended, or it stopped the session on its side): no more pings.
                // The session itself lives on until closed or passivated; a reconnecting client attaches again.
                _client = null;
                Timers.Cancel("clock");
                break;
            case OpenSession o:
                if (o.Spec != _spec && !Equivalent(o.Spec, _spec!))
                    Sender.Tell(new CommandRejected(_sessionId, nameof(OpenSession), "the session is already open with another spec"));
                else if (!_tokens.Accepts(o.Token)) RefuseToken(o);
                else
                {
                    // A reconnecting client: this incarnation still has its state, so the resume point is moot.
                    // Opens retried while the session was unreachable queue up and the first (oldest) set the clock
                    // offset: until a round trip has measured it, a fresher reading (a smaller offset) wins.
                    if (_clock is not { HasEstimate: true }) SetOffset(Math.Min(_clockOffsetUs, ServerClock.NowUs() - o.ClientNowUs));
                    AttachClient(o.Client);
                    Reply(Sender, o.Client is not null);
                }
                break;
            case SetFusionPolicy p:
                // No lambda capturing p: its closure would be allocated for every message this method handles, frames too.
                if (p.Policy.Kind == FusionPolicyKind.Single && !_spec!.Streams.Select(static s => s.Modality).Contains(p.Policy.Modality))
                    Sender.Tell(new CommandRejected(_sessionId, nameof(SetFusionPolicy), $"no stream has modality '{p.Policy.Modality}'"));
                else _fusion.Forward(p);
                break;
            case GetSessionStatus: CollectStatus().PipeTo(Sender); break;
            case CloseSession:
                Log.Info("Session {0} closed", _sessionId);
                Sender.Tell(new SessionClosed(_sessionId));
                if (_sharded) Context.Parent.Tell(new Passivate(PoisonPill.Instance));
                else Context.Stop(Self);
                break;
            default: Unhandled(message); break;
        }
    }

    private void Open(OpenSession open)
    {
        if (_passivating)
        {
            // Already asked the shard to stop this entity; the shard starts a fresh one for the retry.
            Sender.Tell(new CommandRejected(_sessionId, nameof(OpenSession), "the session entity is stopping; retry"));
            return;
        }
        if (!_tokens.Accepts(open.Token))
        {
            RefuseToken(open);
            PassivateUnopened();
            return;
        }
        Context.SetReceiveTimeout(_sharded ? _passivateIdleAfter : null);
        var spec = open.Spec;
        if (spec.SessionId != _sessionId)
        {
            Sender.Tell(new CommandRejected(_sessionId, nameof(OpenSession), $"spec is for session '{spec.SessionId}'"));
            return;
        }
        var problems = SpecValidator.Problems(spec).ToList();
        var resolved = new Dictionary<string, ResolvedEncoder>();
        if (problems.Count == 0)
            foreach (var stream in spec.Streams)
            {
                try { resolved[stream.StreamId] = _encoders.Resolve(stream, spec.Labels.Count); }
                catch (UnknownModelException e) { problems.Add(e.Message); }
            }
        if (problems.Count > 0)
        {
            Log.Warning("Session {0}: open refused: {1}", _sessionId, string.Join("; ", problems));
            Sender.Tell(new CommandRejected(_sessionId, nameof(OpenSession), string.Join("; ", problems)));
            PassivateUnopened();
            return;
        }

        _spec = spec;
        _clockOffsetUs = ServerClock.NowUs() - open.ClientNowUs;
        var resume = open.Resume;
        var embeddingSizes = resolved.ToDictionary(kv => kv.Key, kv => kv.Value.Encoder.EmbeddingLength);
        _fusion = Context.ActorOf(FusionActor.Props(spec, embeddingSizes), "fusion");
        _alignment = Context.ActorOf(AlignmentActor.Props(spec, _fusion, _clockOffsetUs, resume?.CommittedThroughUs), "alignment");
        for (var i = 0; i < spec.Streams.Count; i++)
        {
            var s = spec.Streams[i];
            var firstSeq = resume?.NextSeq is { } next && next.TryGetValue(s.StreamId, out var seq) ? Math.Max(0, seq) : 0;
            _streams[s.StreamId] = Context.ActorOf(
                StreamActor.Props(_sessionId, s, spec, _alignment, resolved[s.StreamId], _backoff, _clockOffsetUs, firstSeq), $"stream-{i}");
        }
        if (resume is not null)
            Log.Info("Session {0} resumes at {1} (next seqs {2})", _sessionId, resume.CommittedThroughUs,
                string.Join(", ", resume.NextSeq.Select(kv => $"{kv.Key}:{kv.Value}")));
        AttachClient(open.Client);
        Log.Info("Session {0} opened: {1} streams ({2}), windows {3}, policy {4}, clock offset {5} us", _sessionId, spec.Streams.Count,
            string.Join(", ", spec.Streams.Select(s => $"{s.StreamId}:{s.Modality}:{s.Model}")), spec.Window.Kind, spec.Policy, _clockOffsetUs);
        Context.Become(Opened);
        FusionMetrics.SessionOpened();
        Reply(Sender, open.Client is not null);
    }

    private void RefuseToken(OpenSession open)
    {
        // Logged without the token itself; the sender's address says who tried.
        Log.Warning("Session {0}: open refused: {1} session token from {2}", _sessionId, open.Token is null ? "missing" : "wrong", Sender.Path.Address);
        Sender.Tell(new CommandRejected(_sessionId, nameof(OpenSession), open.Token is null ? "a session token is required" : "the session token is not valid"));
    }

    private void AttachClient(IActorRef? client)
    {
        if (client is null) return;
        if (_client is not null && !_client.Equals(client)) Context.Unwatch(_client);
        _client = Context.Watch(client);
        _fusion.Tell(new Subscribe(_sessionId, client));
        _clock ??= new SessionClock();
        if (!Timers.IsTimerActive("clock"))
            Timers.StartPeriodicTimer("clock", ClockProbe.Instance, TimeSpan.FromMilliseconds(50), ClockProbeInterval);
    }

    /// <summary>
    /// A round trip: offset = server time at the answer − (client time + rtt/2), the sample with the smallest
    /// round trip of the last few winning. The stream and alignment actors follow when it moves by over 1 ms
    /// (the future-skew check and the processing-time watermark depend on it; event times never change).
    /// </summary>
    private void OnClockPong(ClockPong pong)
    {
        var now = ServerClock.NowUs();
        var rtt = now - pong.ServerSentUs;
        if (_clock is null || rtt < 0 || rtt > 10_000_000) return; // not ours, or too stale to say anything
        _clock.Observe(now, pong.ClientNowUs, rtt);
        if (Math.Abs(_clock.OffsetUs - _clockOffsetUs) <= 1_000) return;
        Log.Info("Session {0}: clock offset {1} -> {2} us (round trip {3} us, drift {4} us since the first sample)",
            _sessionId, _clockOffsetUs, _clock.OffsetUs, rtt, _clock.DriftUs);
        SetOffset(_clock.OffsetUs);
    }

    private void SetOffset(long offsetUs)
    {
        if (offsetUs == _clockOffsetUs) return;
        _clockOffsetUs = offsetUs;
        var changed = new ClockOffsetChanged(offsetUs);
        foreach (var stream in _streams.Values) stream.Tell(changed);
        _alignment.Tell(changed);
    }

    /// <summary>Answers an open; a client that named itself gets a fresh frame sink (a SinkRef is good for one stream).</summary>
    private void Reply(IActorRef replyTo, bool withSink)
    {
        var opened = new SessionOpened(_sessionId, _streams.Keys.ToArray(), _clockOffsetUs, Self);
        if (!withSink)
        {
            replyTo.Tell(opened);
            return;
        }
        // One materializer per session, made on first use: most sessions never need one, and it costs memory.
        _materializer ??= Context.Materializer();
        StreamRefs.SinkRef<IWithSessionId>()
            .Select(m => new FromClient(m)) // one per batch: tells sink traffic from the region's without a lookup per message
            .To(Sink.ActorRefWithAck<FromClient>(Self, SinkOpened.Instance, SinkAck.Instance, new SinkClosed(null), e => new SinkClosed(e)))
            .Run(_materializer)
            .PipeTo(replyTo, success: sink => opened with { FrameSink = sink },
                failure: e => new CommandRejected(_sessionId, nameof(OpenSession), $"could not make the frame sink: {e.Message}"));
    }

    /// <summary>
    /// An element of a client's frame sink: routed like any frame, but rejections go to the client's actor (the
    /// sink stage is not a reply address), and the ack that lets the next element come is sent once it is routed.
    /// </summary>
    private void FromSink(object message)
    {
        var sink = Sender;
        var replyTo = _client ?? ActorRefs.Nobody;
        _batchStreams.Clear();
        switch (message)
        {
            case FrameBatch batch:
                foreach (var f in batch.Frames) RouteFor(replyTo, f.SessionId, f.StreamId, f, f.Seq);
                break;
            case Frame f: RouteFor(replyTo, f.SessionId, f.StreamId, f, f.Seq); break;
            case StreamHeartbeat h: RouteFor(replyTo, h.SessionId, h.StreamId, h, -1); break;
            case CloseStream c: RouteFor(replyTo, c.SessionId, c.StreamId, c, -1); break;
            default:
                Log.Warning("Session {0}: a frame sink carried a {1}; only frames, heartbeats and stream closes travel there", _sessionId, message.GetType().Name);
                replyTo.Tell(new CommandRejected(_sessionId, message.GetType().Name, "only frames, frame batches, heartbeats and stream closes travel through the frame sink"));
                break;
        }
        if (_batchStreams.Count == 0)
        {
            sink.Tell(SinkAck.Instance);
            return;
        }
        // Back-pressure down to the encoders: the next batch may come once every stream that got frames of
        // this one has taken them and has room for more inputs (StreamActor.AwaitRoom).
        var id = ++_batchIds;
        _unacked[id] = (sink, _batchStreams.Count);
        foreach (var stream in _batchStreams) stream.Tell(new StreamActor.AwaitRoom(id));
        Timers.StartSingleTimer(RoomTimer(id), new RoomOverdue(id), RoomDeadline);
    }

    private void OnRoom(long id, bool force = false)
    {
        if (!_unacked.TryGetValue(id, out var entry)) return;
        if (entry.Waiting > 1 && !force)
        {
            _unacked[id] = entry with { Waiting = entry.Waiting - 1 };
            return;
        }
        _unacked.Remove(id);
        Timers.Cancel(RoomTimer(id));
        entry.Sink.Tell(SinkAck.Instance);
    }

    private static string RoomTimer(long id) => "room-" + id;

    private void RouteFor(IActorRef replyTo, string sessionId, string streamId, object message, long seq)
    {
        if (sessionId != _sessionId)
            replyTo.Tell(new FrameRejected(sessionId, streamId, seq, RejectReason.UnknownSession, $"this frame sink belongs to session '{_sessionId}'"));
        else if (_streams.TryGetValue(streamId, out var stream))
        {
            stream.Tell(message, replyTo);
            _batchStreams.Add(stream);
        }
        else replyTo.Tell(new FrameRejected(_sessionId, streamId, seq, RejectReason.UnknownStream, $"session '{_sessionId}' has no stream '{streamId}'"));
    }

    private void Route(string streamId, object message, long seq)
    {
        if (_streams.TryGetValue(streamId, out var stream)) stream.Forward(message);
        else Sender.Tell(new FrameRejected(_sessionId, streamId, seq, RejectReason.UnknownStream, $"session '{_sessionId}' has no stream '{streamId}'"));
    }

    private async Task<SessionStatus> CollectStatus()
    {
        var client = _client; // read on the actor's thread, before the awaits
        var timeout = TimeSpan.FromSeconds(5);
        var streams = await Task.WhenAll(_streams.Values.Select(s => s.Ask<StreamStatus>(StreamActor.GetStatus.Instance, timeout)));
        var alignment = await _alignment.Ask<AlignmentStatus>(AlignmentActor.GetStatus.Instance, timeout);
        var fusion = await _fusion.Ask<FusionStatus>(FusionActor.GetStatus.Instance, timeout);
        return new SessionStatus(_sessionId, true, streams, alignment, fusion, client?.Path.ToString());
    }

    // Timer messages do not count as activity for idle passivation.
    private sealed record ClockProbe : INotInfluenceReceiveTimeout
    {
        public static readonly ClockProbe Instance = new();
    }

    private sealed record RoomOverdue(long Id) : INotInfluenceReceiveTimeout;

    private sealed record SinkOpened
    {
        public static readonly SinkOpened Instance = new();
    }

    private sealed record SinkAck
    {
        public static readonly SinkAck Instance = new();
    }

    private sealed record SinkClosed(Exception? Cause);

    /// <summary>An element of a client's frame sink; the sender is the sink's stage, which waits for <see cref="SinkAck"/>.</summary>
    private sealed record FromClient(IWithSessionId Message);

    private static bool Equivalent(SessionSpec a, SessionSpec b) =>
        a.SessionId == b.SessionId && a.Streams.SequenceEqual(b.Streams) && a.Window == b.Window && a.Policy == b.Policy;
}
