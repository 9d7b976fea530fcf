using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Event;
using Akka.Streams;
using Akka.Streams.Dsl;
using FusionActors.Core.Fusion;
using FusionActors.Core.Alignment;
using FusionActors.Core.Fusion.Policies;
using FusionActors.Core.Specs;
using FusionActors.Core.Streams;
using FusionActors.Core.Supervision;
using FusionActors.Core.Time;
using FusionActors.Inference;
using FusionActors.Protocol;
using FusionActors.Protocol.Specs;
using FusionActors.Runtime.Alignment;
using FusionActors.Runtime.Encoders;
using FusionActors.Runtime.Fusion;
using FusionActors.Runtime.Gateway;
using FusionActors.Runtime.Metrics;
using FusionActors.Runtime.Recording;
using FusionActors.Runtime.Streams;

namespace FusionActors.Runtime.Sessions;

/// <summary>
/// One session (a Cluster Sharding entity keyed by session id): owns the spec, creates and supervises its
/// stream, alignment and fusion actors (one-for-one), routes frames to streams, answers status queries.
/// A message for a session that was never opened is rejected with UnknownSession and the entity passivates.
/// </summary>
public sealed partial class SessionActor : UntypedActor, IWithTimers, IWithUnboundedStash
{
    private readonly string _sessionId;
    private readonly IEncoderProvider _encoders;
    private readonly BackoffPolicy _backoff;
    private readonly bool _sharded;
    private readonly SessionTokens _tokens;
    private readonly OperatorCredential _operator;
    private readonly SpecLimits _limits;
    private readonly TimeSources _time; // wall time (clock offsets, pings); the children get the same sources
    private readonly SessionAdmission _admission;
    private readonly RecordingWriter? _recorder;
    private SessionRecording? _recording;
    private bool _admitted;
    private readonly TimeSpan? _passivateIdleAfter;
    private readonly TimeSpan? _hibernateAfter;
    private readonly Dictionary<string, IActorRef> _streams = new();
    private SessionSpec? _spec;
    private IActorRef _alignment = ActorRefs.Nobody;
    private IActorRef _fusion = ActorRefs.Nobody;
    private long _clockOffsetUs;
    private long _committedUs = EventTime.MinusInfinity; // this incarnation's commit point, as its client was told
    private bool _passivating;
    private IActorRef? _client;
    private SessionClock? _clock; // round-trip estimates, once a client that can answer pings attaches
    private IMaterializer? _materializer;
    // Made on first use, as the frame sinks below: a session opened without a client (or asleep) never needs them.
    private Dictionary<long, (IActorRef Sink, int Waiting)>? _unacked;
    private HashSet<IActorRef>? _batchStreams;
    private long _batchIds;
    // The writer: every open by a new writer raises the epoch, with a new capability and seal, and fences the last one.
    private long _writerEpoch;
    private string? _capability;
    private string? _seal;
    private string? _writerNonce; // the writer's link proves itself by its nonce on every open it retries
    private Dictionary<long, IKillSwitch>? _sinks; // frame sinks of the current writer, by id
    private long _sinkIds;
    private static readonly TimeSpan UnopenedLifetime = TimeSpan.FromSeconds(5);

    /// <summary>Writer epochs a resume may present: far more than any session's writers, far from overflow.</summary>
    private const long MaxEpoch = 1L << 40;

    /// <summary>Frame sinks a session keeps open for its writer at once (reconnects and retried opens).</summary>
    private const int MaxSinks = 8;

    // Not kept: an adapter with its log source costs a few hundred bytes, a session logs rarely (never per frame), and
    // a node holds 100,000 of them.
    private ILoggingAdapter Log => Context.GetLogger();

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>
    /// How often the session pings its client: a clock reading for the round-trip offset estimate, and a sign of
    /// life the client watches for (it reopens a session that stays silent). The first ping goes at once.
    /// </summary>
    private static readonly TimeSpan ClockProbeInterval = TimeSpan.FromSeconds(1);

    /// <summary>A client batch whose streams have not made room by then is acked anyway (a stream restarted by a bug loses its waiters).</summary>
    private static readonly TimeSpan RoomDeadline = TimeSpan.FromSeconds(10);

    public SessionActor(string sessionId, IEncoderProvider encoders, BackoffPolicy backoff, bool sharded, SessionTokens? tokens = null,
        TimeSpan? passivateIdleAfter = null, OperatorCredential? operatorCredential = null, SpecLimits? limits = null,
        SessionAdmission? admission = null, TimeSources? time = null, RecordingWriter? recorder = null, TimeSpan? hibernateAfter = null)
    {
        _hibernateAfter = hibernateAfter > TimeSpan.Zero ? hibernateAfter : null;
        _recorder = recorder;
        _time = time ?? TimeSources.System;
        _admission = admission ?? SessionAdmission.Unbounded;
        _operator = operatorCredential ?? OperatorCredential.For(null);
        _limits = limits ?? SpecLimits.Default;
        _sessionId = sessionId;
        _encoders = encoders;
        _backoff = backoff;
        _sharded = sharded;
        _tokens = tokens ?? SessionTokens.None;
        _passivateIdleAfter = passivateIdleAfter;
    }

    /// <param name="tokens">Tokens a client must present at session open; none configured = no check.</param>
    /// <param name="operatorCredential">What operator commands from the wire must carry; default: this process's own (none from the wire pass).</param>
    /// <param name="limits">Upper bounds on a spec (fusion.limits); default <see cref="SpecLimits.Default"/>.</param>
    /// <param name="admission">The node's count of open sessions against its maximum; default unbounded.</param>
    /// <param name="recorder">The node's recording writer; null = this node records no session.</param>
    /// <param name="hibernateAfter">
    /// An open session with no frame or heartbeat for this long and nothing uncommitted stops its children and keeps
    /// their state (SessionActor.Hibernation.cs); null = never.
    /// </param>
    /// <param name="passivateIdleAfter">
    /// An open session with no message for this long passivates (sharded only). The session times this itself:
    /// frames through a client's sink bypass the shard, whose own idle passivation would stop a busy session.
    /// </param>
    /// <summary>Why this node cannot fuse with <paramref name="policy"/>: an unusable models/fusion.json, or no learned head; null when it can.</summary>
    private string? FusionProblem(FusionPolicy policy)
    {
        FusionModels models;
        try { models = _encoders.Fusion; }
        catch (Exception e) when (e is InvalidDataException or FileNotFoundException)
        {
            Log.Error("Session {0}: the node's fusion models are unusable: {1}", _sessionId, e.Message);
            return $"the node's models/fusion.json is unusable: {e.Message}";
        }
        return FusionEngine.CanRun(policy, models) ? null
            : $"policy {policy} needs the node's learned head (models/fusion.json), which this node has not loaded";
    }

    public static Props Props(string sessionId, IEncoderProvider encoders, BackoffPolicy backoff, bool sharded = true, SessionTokens? tokens = null,
        TimeSpan? passivateIdleAfter = null, OperatorCredential? operatorCredential = null, SpecLimits? limits = null,
        SessionAdmission? admission = null, TimeSources? time = null, RecordingWriter? recorder = null, TimeSpan? hibernateAfter = null) =>
        ActorFactory.Props(() => new SessionActor(sessionId, encoders, backoff, sharded, tokens, passivateIdleAfter, operatorCredential, limits, admission, time, recorder, hibernateAfter));

    protected override void PostStop()
    {
        if (_sleep is { Complete: true }) _admission.Woke();
        // Streams that handed their state over and were not started again: the uses of their models' versions end here.
        if (_sleep is not null)
            for (var i = 0; i < _sleep.Streams.Length; i++)
                if (_sleep.Streams[i] is { } dormant && dormant.Release())
                {
                    FusionMetrics.EncoderFreed(_spec!.Streams[i].Model);
                    Log.Info("Model {0} is retired and no stream runs it any more: its encoder is closed", dormant.Encoder.Model);
                }
        if (_spec is not null) FusionMetrics.SessionClosed();
        _recording?.End("the session stopped");
        if (_admitted) _admission.Release();
    }

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
            // From the wire without the operator credential, the answers are those of an open session to a sender
            // without its capability: a stranger cannot tell which sessions exist.
            case Frame { FromWire: true } f:
                Sender.Tell(new FrameRejected(_sessionId, f.StreamId, f.Seq, RejectReason.Unauthorized,
                    "a frame from another process goes through the session's frame sink, or in a FrameBatch with the session capability"));
                PassivateUnopened();
                break;
            case ICredentialed c when c is ProtocolMessage { FromWire: true } && !_operator.Accepts(c.Credential):
                Sender.Tell(new CommandRejected(_sessionId, c.GetType().Name,
                    $"not authorized: {(c.Credential is null ? "it carries no session capability" : "its credential is not this session's capability")}"));
                PassivateUnopened();
                break;
            case Frame f:
                Sender.Tell(new FrameRejected(f.SessionId, f.StreamId, f.Seq, RejectReason.UnknownSession, $"session '{f.SessionId}' is not open"));
                PassivateUnopened();
                break;
            case FrameBatch batch:
                // One answer per batch: a batch of small frames must not make a sender's worth of replies.
                Sender.Tell(new CommandRejected(_sessionId, nameof(FrameBatch), $"session '{_sessionId}' is not open: {batch.Frames.Count} frames not taken"));
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
            case Frame f:
                if (f.FromWire) Sender.Tell(new FrameRejected(_sessionId, f.StreamId, f.Seq, RejectReason.Unauthorized,
                    "a frame from another process goes through the session's frame sink, or in a FrameBatch with the session capability"));
                else Route(f.StreamId, f, f.Seq);
                break;
            case FrameBatch batch:
                if (!Authorized(batch)) break;
                foreach (var f in batch.Frames)
                {
                    f.Admit();
                    Route(f.StreamId, f, f.Seq);
                }
                break;
            case FromClient c: FromSink(c); break;
            case SinkOpened: Sender.Tell(SinkAck.Instance); break;
            case SinkEnded e: _sinks?.Remove(e.Id); break;
            case AlignmentActor.Committed c: _committedUs = Math.Max(_committedUs, c.ThroughUs); break;
            case StreamActor.Room r: OnRoom(r.Id); break;
            case RoomOverdue r when _unacked?.ContainsKey(r.Id) == true:
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
            case StreamHeartbeat h: if (Authorized(h)) Route(h.StreamId, h, -1); break;
            case CloseStream c: if (Authorized(c)) Route(c.StreamId, c, -1); break;
            case CrashEncoder c: if (OperatorAuthorized(c)) Operate(c.StreamId, c); break;
            case RestartStream c: if (OperatorAuthorized(c)) Operate(c.StreamId, c); break;
            case DisableStream c: if (OperatorAuthorized(c)) Operate(c.StreamId, c); break;
            case EnableStream c: if (OperatorAuthorized(c)) Operate(c.StreamId, c); break;
            case DropFrames c: if (OperatorAuthorized(c)) Operate(c.StreamId, c); break;
            case Subscribe s:
                if (!Authorized(s)) break;
                if (s.Subscriber is null) Sender.Tell(new CommandRejected(_sessionId, nameof(Subscribe), "a subscription names its subscriber"));
                else _fusion.Forward(s);
                break;
            case Unsubscribe s:
                if (Authorized(s) && s.Subscriber is not null) _fusion.Forward(s);
                break;
            case ClockProbe:
                _client?.Tell(new ClockPing(_sessionId, _time.Wall.NowUs, _seal));
                break;
            case ClockPong p:
                // A pong moves the clock offset, so only the writer's count; a forged one is dropped without an answer.
                if (!p.FromWire || Secrets.Equal(p.Credential, _capability)) OnClockPong(p);
                else Log.Debug("Session {0}: dropped a clock pong without the capability from {1}", _sessionId, Sender.Path.Address);
                break;
            case Terminated t when t.ActorRef.Equals(_client):
                // The client is gone (its process ended, or it stopped the session on its side): no more pings.
                // The session itself lives on until closed or passivated; a reconnecting client attaches again.
                _client = null;
                Timers.Cancel("clock");
                break;
            case OpenSession o: Reopen(o); break;
            case HibernateCheck: OnHibernateCheck(); break;
            case HibernateSession: TryHibernate(Sender); break;
            case SetRecording r: if (OperatorAuthorized(r)) Record(r.On); break;
            // A replay's driver (in this process only): recorded clock steps and offsets.
            case ClockAdvanced { StreamId: { } stream } c: Route(stream, c, -1); break;
            case ClockAdvanced c: _alignment.Forward(c); break;
            case ReplayedOffset o: SetOffset(o.OffsetUs); break;
            case SetFusionPolicy p:
                if (!OperatorAuthorized(p)) break;
                // No lambda capturing p: its closure would be allocated for every message this method handles, frames too.
                if (p.Policy is null) Sender.Tell(new CommandRejected(_sessionId, nameof(SetFusionPolicy), "a policy is required"));
                else if (!WeightingPolicies.IsKnown(p.Policy))
                    Sender.Tell(new CommandRejected(_sessionId, nameof(SetFusionPolicy), $"policy kind {p.Policy.Kind} is not one this node runs"));
                else if (FusionProblem(p.Policy) is { } fusionProblem)
                    Sender.Tell(new CommandRejected(_sessionId, nameof(SetFusionPolicy), fusionProblem));
                else if (WeightingPolicies.NamesUnknownModality(p.Policy, _spec!.Streams))
                    Sender.Tell(new CommandRejected(_sessionId, nameof(SetFusionPolicy), $"no stream has modality '{p.Policy.Modality}'"));
                else _fusion.Forward(p);
                break;
            case GetSessionStatus g: if (Authorized(g)) CollectStatus().PipeTo(Sender); break;
            case CloseSession c:
                if (!Authorized(c)) break;
                Log.Info("Session {0} closed", _sessionId);
                Sender.Tell(new SessionClosed(_sessionId));
                if (_sharded) Context.Parent.Tell(new Passivate(PoisonPill.Instance));
                else Context.Stop(Self);
                break;
            default: Unhandled(message); break;
        }
    }

    /// <summary>
    /// A session operation made in this process passes; one from the wire must carry the writer's capability or the
    /// operator credential. A refusal is typed, logged without the credential, and changes nothing.
    /// </summary>
    private bool Authorized(ICredentialed m)
    {
        if (m is ProtocolMessage { FromWire: false }) return true;
        if (Secrets.Equal(m.Credential, _capability) || _operator.Accepts(m.Credential))
        {
            ((ProtocolMessage)m).Admit();
            return true;
        }
        Refuse(m, m.Credential is null ? "it carries no session capability" : "its credential is not this session's capability");
        return false;
    }

    /// <summary>Operator and chaos commands: from the wire only with the operator credential, which no client holds.</summary>
    private bool OperatorAuthorized(IOperatorCommand m)
    {
        if (m is ProtocolMessage { FromWire: false }) return true;
        if (_operator.Accepts(m.Credential))
        {
            ((ProtocolMessage)m).Admit();
            return true;
        }
        Refuse(m, "it is an operator command, and it carries no operator credential");
        return false;
    }

    private void Refuse(ICredentialed m, string why)
    {
        var name = m.GetType().Name;
        Log.Warning("Session {0}: refused a {1} from {2}: {3}", _sessionId, name, Sender.Path.Address, why);
        FusionMetrics.Unauthorized(name);
        Sender.Tell(new CommandRejected(_sessionId, name, $"not authorized: {why}"));
    }

    /// <summary>
    /// An open of a session that is open already. The writer's own reopen (its link's nonce, or its epoch and
    /// capability) attaches it again; a stale epoch is fenced; an open by a new writer (no epoch, or a higher one)
    /// starts a new epoch and fences the writer before it.
    /// </summary>
    private void Reopen(OpenSession o)
    {
        // The token first: nothing about the session (its spec, its writer) is told to whoever has none.
        if (!_tokens.Accepts(o.Token))
        {
            RefuseToken(o);
            return;
        }
        if (o.Spec != _spec && !Equivalent(o.Spec, _spec!))
        {
            Sender.Tell(new CommandRejected(_sessionId, nameof(OpenSession), "the session is already open with another spec", o.Nonce));
            return;
        }
        if (!EpochInRange(o)) return;
        var presented = o.Resume is { Epoch: > 0 } r ? r : null;
        if (presented is not null && presented.Epoch < _writerEpoch)
        {
            Log.Warning("Session {0}: refused a reopen by fenced writer epoch {1} (now {2}) from {3}", _sessionId, presented.Epoch, _writerEpoch, Sender.Path.Address);
            Sender.Tell(new SessionFenced(_sessionId, presented.Epoch, _writerEpoch, "another writer opened the session", Nonce: o.Nonce));
            return;
        }
        if (o.Resume is { } resume && resume.CommittedThroughUs > _committedUs)
        {
            StopBehind(o, resume);
            return;
        }
        // The writer's own link again (a retried open, a reconnect) proves itself by its nonce. Anyone else, even
        // with the writer's epoch and capability, is another writer: it gets a new epoch and fences this one, so
        // that two links never write at once.
        if (!Secrets.Equal(o.Nonce, _writerNonce))
        {
            BeginEpoch(presented, o.Client);
            _writerNonce = o.Nonce;
        }
        // A reconnecting writer: this incarnation still has its state, so the resume point is moot.
        // Opens retried while the session was unreachable queue up and the first (oldest) set the clock
        // offset: until a round trip has measured it, a fresher reading (a smaller offset) wins.
        if (_clock is not { HasEstimate: true }) SetOffset(Math.Min(_clockOffsetUs, _time.Wall.NowUs - o.ClientNowUs));
        AttachClient(o.Client);
        Reply(Sender, o.Client is not null, o.Nonce);
    }

    /// <summary>
    /// A reopen whose writer has frames committed that this incarnation never fused: another incarnation served it
    /// meanwhile (this one was made from an open that reached it late, after a pause or a partition), and the writer has
    /// forgotten those frames. Attached, this incarnation would close their windows empty and number its results of them
    /// above the other's. It stops instead, and the writer's next open makes a fresh incarnation from its resume point.
    /// </summary>
    private void StopBehind(OpenSession o, SessionResume resume)
    {
        Log.Warning("Session {0}: a reopen from {1} resumes at {2}, past this incarnation's commit point {3}; stopping it for a fresh one",
            _sessionId, Sender.Path.Address, resume.CommittedThroughUs, _committedUs);
        Sender.Tell(new CommandRejected(_sessionId, nameof(OpenSession),
            $"this incarnation of the session is behind the writer (committed through {_committedUs}, the writer through {resume.CommittedThroughUs}); it stops: retry", o.Nonce));
        if (_passivating) return;
        _passivating = true;
        Context.SetReceiveTimeout(null);
        if (_sharded) Context.Parent.Tell(new Passivate(PoisonPill.Instance));
        else Context.Stop(Self);
    }

    /// <summary>
    /// A new writer epoch: the next one, or the higher one a writer resumes with (it held it on an incarnation before
    /// this one), with a new capability and seal. The writer before it is told it is fenced (with its own seal) and
    /// its frame sinks are cut.
    /// </summary>
    private void BeginEpoch(SessionResume? resumed, IActorRef? client)
    {
        var previous = (Epoch: _writerEpoch, Client: _client, Seal: _seal);
        _writerEpoch = Math.Max(_writerEpoch + 1, resumed?.Epoch ?? 0);
        _capability = Secrets.New(); // never one a peer chose: the client takes the new one from SessionOpened
        _seal = Secrets.New();
        if (_sinks is not null)
        {
            foreach (var sink in _sinks.Values) sink.Abort(new SessionFencedException(_sessionId, _writerEpoch));
            _sinks.Clear();
        }
        if (previous.Epoch == 0) return;
        Log.Warning("Session {0}: writer epoch {1} fences epoch {2}", _sessionId, _writerEpoch, previous.Epoch);
        if (previous.Client is null) return;
        _fusion.Tell(new FusionActor.Detach(previous.Client));
        if (!previous.Client.Equals(client))
        {
            previous.Client.Tell(new SessionFenced(_sessionId, previous.Epoch, _writerEpoch, "another writer opened the session", previous.Seal));
            Context.Unwatch(previous.Client);
            _client = null;
        }
    }

    private void Open(OpenSession open)
    {
        if (_passivating)
        {
            // Already asked the shard to stop this entity; the shard starts a fresh one for the retry.
            Sender.Tell(new CommandRejected(_sessionId, nameof(OpenSession), "the session entity is stopping; retry", open.Nonce));
            return;
        }
        if (!_tokens.Accepts(open.Token))
        {
            RefuseToken(open);
            PassivateUnopened();
            return;
        }
        if (!EpochInRange(open))
        {
            PassivateUnopened();
            return;
        }
        Context.SetReceiveTimeout(_sharded ? _passivateIdleAfter : null);
        var spec = open.Spec;
        if (spec.SessionId != _sessionId)
        {
            Sender.Tell(new CommandRejected(_sessionId, nameof(OpenSession), $"spec is for session '{spec.SessionId}'", open.Nonce));
            return;
        }
        var problems = SpecValidator.Problems(spec, _limits).ToList();
        if (problems.Count == 0 && open.Resume is { } r) problems.AddRange(ResumeProblems(spec, r));
        if (problems.Count == 0 && FusionProblem(spec.Policy) is { } fusionProblem) problems.Add(fusionProblem);
        var resolved = new Dictionary<string, ResolvedEncoder>();
        if (problems.Count == 0)
            foreach (var stream in spec.Streams)
            {
                try { resolved[stream.StreamId] = _encoders.Resolve(stream, spec.Labels); }
                catch (UnknownModelException e) { problems.Add(e.Message); }
            }
        if (problems.Count > 0)
        {
            Log.Warning("Session {0}: open refused: {1}", _sessionId, string.Join("; ", problems));
            foreach (var unused in resolved.Values) unused.Use?.Release(); // no stream will run them
            Sender.Tell(new CommandRejected(_sessionId, nameof(OpenSession), string.Join("; ", problems), open.Nonce));
            PassivateUnopened();
            return;
        }

        if (!_admission.TryAdmit())
        {
            Log.Warning("Session {0}: open refused: the node holds its maximum of {1} open sessions", _sessionId, _admission.MaxSessions);
            foreach (var unused in resolved.Values) unused.Use?.Release(); // no stream will run them
            Sender.Tell(new NodeFull(_sessionId, _admission.Open, open.Nonce));
            PassivateUnopened();
            return;
        }
        _admitted = true;
        _spec = spec;
        _clockOffsetUs = _time.Wall.NowUs - open.ClientNowUs;
        _recording = _recorder?.For(_sessionId, _time);
        if (_recorder?.ChoosesAtOpen(spec) == true) Log.Info("Session {0}: recorded to {1}", _sessionId, _recording!.Begin(spec, _clockOffsetUs));
        var resume = open.Resume;
        var embeddingSizes = resolved.ToDictionary(kv => kv.Key, kv => kv.Value.Encoder.EmbeddingLength);
        // The versions the session's encoders are pinned to, named by every result (one list for all of them).
        var modelVersions = spec.Streams.Select(s => resolved[s.StreamId].Model).OfType<string>().Distinct(StringComparer.Ordinal).ToArray();
        _fusion = Context.ActorOf(FusionActor.Props(spec, embeddingSizes, _encoders.Fusion, modelVersions, _recording), "fusion"); // loaded: FusionProblem passed
        _alignment = Context.ActorOf(
            AlignmentActor.Props(spec, _fusion, _clockOffsetUs, resume?.CommittedThroughUs, _time.Wall, resume?.DeliveredRevisions, resume?.Generation ?? 0, Self, _recording),
            "alignment");
        // Nothing before the spec's start is ever committed: a writer's resume at or below it forgot no frame.
        _committedUs = Math.Max(resume?.CommittedThroughUs ?? EventTime.MinusInfinity, spec.StartUs);
        _resolved = new ResolvedEncoder[spec.Streams.Count];
        for (var i = 0; i < spec.Streams.Count; i++)
        {
            var s = spec.Streams[i];
            _resolved[i] = resolved[s.StreamId];
            var firstSeq = resume?.NextSeq is { } next && next.TryGetValue(s.StreamId, out var seq) ? Math.Max(0, seq) : 0;
            var heldBelow = resume?.HeldBelow is { } held && held.TryGetValue(s.StreamId, out var below) ? below : null;
            _streams[s.StreamId] = Context.ActorOf(
                StreamActor.Props(_sessionId, s, spec, _alignment, resolved[s.StreamId], _backoff, _clockOffsetUs, firstSeq, heldBelow, _time, _recording), $"stream-{i}");
        }
        if (resume is not null)
            Log.Info("Session {0} resumes at {1} (next seqs {2})", _sessionId, resume.CommittedThroughUs,
                string.Join(", ", resume.NextSeq.Select(kv => $"{kv.Key}:{kv.Value}")));
        BeginEpoch(resume is { Epoch: > 0 } ? resume : null, open.Client);
        _writerNonce = open.Nonce;
        AttachClient(open.Client);
        Log.Info("Session {0} opened: {1} streams ({2}), windows {3}, policy {4}, clock offset {5} us", _sessionId, spec.Streams.Count,
            string.Join(", ", spec.Streams.Select(s => $"{s.StreamId}:{s.Modality}:{s.Model}")), spec.Window.Kind, spec.Policy, _clockOffsetUs);
        Context.Become(Opened);
        _lastTrafficMs = _time.Monotonic.NowMs;
        ArmHibernation(_hibernateAfter);
        FusionMetrics.SessionOpened();
        Reply(Sender, open.Client is not null, open.Nonce);
    }

    /// <summary>An operator turns the recording on (a new file from now on) or off; a node without a recording directory refuses.</summary>
    private void Record(bool on)
    {
        if (_recording is null)
        {
            Sender.Tell(new CommandRejected(_sessionId, nameof(SetRecording), "this node records no session (Fusion:Recording:Directory is not set)"));
            return;
        }
        var path = on ? _recording.Begin(_spec!, _clockOffsetUs) : _recording.End("turned off by an operator");
        Log.Info("Session {0}: recording {1} by an operator ({2})", _sessionId, on ? "on" : "off", path ?? "none was on");
        Sender.Tell(new Akka.Actor.Status.Success(on ? $"session {_sessionId} records to {path}"
            : path is null ? $"session {_sessionId} was not recording" : $"session {_sessionId} stopped recording to {path}"));
    }

    /// <summary>A resume point a stream can hold: seqs in range, and no more seqs held below it than its seq window.</summary>
    private static IEnumerable<string> ResumeProblems(SessionSpec spec, SessionResume resume)
    {
        if (resume.NextSeq is null) yield return "a resume needs its next seqs";
        else if (resume.NextSeq.Values.Any(seq => seq is < 0 or > MaxResumeSeq)) yield return $"a resume seq is outside [0, {MaxResumeSeq}]";
        if (resume.DeliveredRevisions is { } delivered)
        {
            if (delivered.Count > Aligner.MaxResumedRevisions) yield return $"a resume names more than {Aligner.MaxResumedRevisions} delivered windows";
            else if (delivered.Values.Any(r => r is < 0 or > Aligner.MaxResumedRevision))
                yield return $"a resume names a delivered revision outside [0, {Aligner.MaxResumedRevision}]";
        }
        if (resume.Generation is < 0 or > Aligner.MaxResumedGeneration) yield return $"a resume generation is outside [0, {Aligner.MaxResumedGeneration}]";
        if (resume.HeldBelow is null) yield break;
        foreach (var (stream, seqs) in resume.HeldBelow)
            if (spec.FindStream(stream) is not { } s) yield return $"a resume holds seqs of stream '{(stream.Length > 64 ? stream[..64] : stream)}', which the session does not have";
            else if (seqs is null || seqs.Length > s.MaxSeqAhead) yield return $"a resume holds more seqs of stream '{stream}' below its resume point than its seq window ({s.MaxSeqAhead})";
    }

    /// <summary>Seqs a resume may name: far beyond any stream's life, far from overflow.</summary>
    private const long MaxResumeSeq = 1L << 53;

    private bool EpochInRange(OpenSession open)
    {
        if (open.Resume is not { Epoch: < 0 or > MaxEpoch } bad) return true;
        Sender.Tell(new CommandRejected(_sessionId, nameof(OpenSession), $"writer epoch {bad.Epoch} is outside [0, {MaxEpoch}]", open.Nonce));
        return false;
    }

    private void RefuseToken(OpenSession open)
    {
        // Logged without the token itself; the sender's address says who tried.
        Log.Warning("Session {0}: open refused: {1} session token from {2}", _sessionId, open.Token is null ? "missing" : "wrong", Sender.Path.Address);
        Sender.Tell(new CommandRejected(_sessionId, nameof(OpenSession), open.Token is null ? "a session token is required" : "the session token is not valid", open.Nonce));
    }

    private void AttachClient(IActorRef? client)
    {
        if (client is null) return;
        if (_client is not null && !_client.Equals(client))
        {
            // The same writer through another link (an ingress reconnect that reached another node): the link it left
            // hands over what it kept for the writer while it was away. A .NET client keeps one link, so never gets this.
            _client.Tell(new WriterRelinked(_sessionId, client, _seal));
            Context.Unwatch(_client);
        }
        _client = Context.Watch(client);
        _fusion.Tell(new FusionActor.Attach(client, _seal!));
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
        var now = _time.Wall.NowUs;
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
        _recording?.Offset(offsetUs);
        if (_sleep is not null) return; // hibernated children take the session's offset when they wake
        var changed = new ClockOffsetChanged(offsetUs);
        foreach (var stream in _streams.Values) stream.Tell(changed);
        _alignment.Tell(changed);
    }

    /// <summary>
    /// Answers an open with the writer's capability; a client that named itself gets a fresh frame sink (a SinkRef
    /// is good for one stream), tagged with the writer epoch and cut when that writer is fenced.
    /// </summary>
    private void Reply(IActorRef replyTo, bool withSink, string? nonce)
    {
        var opened = new SessionOpened(_sessionId, _streams.Keys.ToArray(), _clockOffsetUs, Self, null, _capability, _writerEpoch, _seal, nonce, _committedUs);
        if (!withSink)
        {
            replyTo.Tell(opened);
            return;
        }
        // One materializer per session, made on first use: most sessions never need one, and it costs memory.
        _materializer ??= Context.Materializer();
        var epoch = _writerEpoch;
        var id = ++_sinkIds;
        var ((sinkRef, killSwitch), done) = StreamRefs.SinkRef<IWithSessionId>()
            .ViaMaterialized(KillSwitches.Single<IWithSessionId>(), Keep.Both)
            .WatchTermination(Keep.Both)
            .Select(m => new FromClient(m, epoch)) // one per batch: tells sink traffic from the region's without a lookup per message
            .To(Sink.ActorRefWithAck<FromClient>(Self, SinkOpened.Instance, SinkAck.Instance, new SinkClosed(null), e => new SinkClosed(e)))
            .Run(_materializer);
        // Every open makes a sink that lives until its client subscribes or it times out; opens retried in a loop
        // must not pile them up.
        var sinks = _sinks ??= new Dictionary<long, IKillSwitch>();
        if (sinks.Count >= MaxSinks)
        {
            var oldest = sinks.Keys.Min();
            sinks[oldest].Abort(new InvalidOperationException($"session '{_sessionId}': more than {MaxSinks} frame sinks opened"));
            sinks.Remove(oldest);
        }
        sinks[id] = killSwitch;
        done.PipeTo(Self, success: _ => new SinkEnded(id), failure: _ => new SinkEnded(id));
        sinkRef.PipeTo(replyTo, success: sink => opened with { FrameSink = sink },
            failure: e => new CommandRejected(_sessionId, nameof(OpenSession), $"could not make the frame sink: {e.Message}", nonce));
    }

    /// <summary>
    /// An element of a client's frame sink: routed like any frame, but rejections go to the client's actor (the
    /// sink stage is not a reply address), and the ack that lets the next element come is sent once it is routed.
    /// </summary>
    private void FromSink(FromClient element)
    {
        // A fenced writer's sink is cut, but what it sent before the cut may still be in the mailbox: its seqs must
        // not interleave with the new writer's. Not acked: that sink is done.
        if (element.Epoch != _writerEpoch) return;
        var message = element.Message;
        var sink = Sender;
        var replyTo = _client ?? ActorRefs.Nobody;
        var batchStreams = _batchStreams ??= [];
        batchStreams.Clear();
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
        if (batchStreams.Count == 0)
        {
            sink.Tell(SinkAck.Instance);
            return;
        }
        // Back-pressure down to the encoders: the next batch may come once every stream that got frames of
        // this one has taken them and has room for more inputs (StreamActor.AwaitRoom).
        var id = ++_batchIds;
        (_unacked ??= new Dictionary<long, (IActorRef Sink, int Waiting)>())[id] = (sink, batchStreams.Count);
        foreach (var stream in batchStreams) stream.Tell(new StreamActor.AwaitRoom(id));
        Timers.StartSingleTimer(RoomTimer(id), new RoomOverdue(id), RoomDeadline);
    }

    private void OnRoom(long id, bool force = false)
    {
        if (_unacked is null || !_unacked.TryGetValue(id, out var entry)) return;
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
            ((ProtocolMessage)message).Admit(); // it came through the writer's own sink
            _lastTrafficMs = _time.Monotonic.NowMs;
            stream.Tell(message, replyTo);
            _batchStreams!.Add(stream);
        }
        else replyTo.Tell(new FrameRejected(_sessionId, streamId, seq, RejectReason.UnknownStream, $"session '{_sessionId}' has no stream '{streamId}'"));
    }

    /// <summary>An operator command to a stream, recorded: it changes what the session decides.</summary>
    private void Operate(string streamId, object command)
    {
        if (_streams.ContainsKey(streamId)) _recording?.Operator(command);
        Route(streamId, command, -1);
    }

    private void Route(string streamId, object message, long seq)
    {
        if (message is not IOperatorCommand) _lastTrafficMs = _time.Monotonic.NowMs;
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
    private sealed record FromClient(IWithSessionId Message, long Epoch);

    private sealed record SinkEnded(long Id);

    private static bool Equivalent(SessionSpec a, SessionSpec b) =>
        a.SessionId == b.SessionId && a.Streams.SequenceEqual(b.Streams) && a.Window == b.Window && a.Policy == b.Policy;
}

/// <summary>Why a fenced writer's frame sink was cut: a writer with a higher epoch opened the session.</summary>
public sealed class SessionFencedException(string sessionId, long epoch)
    : Exception($"session '{sessionId}' was opened by writer epoch {epoch}; this writer is fenced");
