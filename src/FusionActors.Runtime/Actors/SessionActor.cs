using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Event;
using FusionActors.Inference;
using FusionActors.Metrics;
using FusionActors.Protocol;
using FusionActors.Specs;
using FusionActors.Supervision;

namespace FusionActors.Actors;

/// <summary>
/// One session (a Cluster Sharding entity keyed by session id): owns the spec, creates and supervises its
/// stream, alignment and fusion actors (one-for-one), routes frames to streams, answers status queries.
/// A message for a session that was never opened is rejected with UnknownSession and the entity passivates.
/// </summary>
public sealed class SessionActor : UntypedActor
{
    private readonly string _sessionId;
    private readonly IEncoderProvider _encoders;
    private readonly BackoffPolicy _backoff;
    private readonly bool _sharded;
    private readonly SessionTokens _tokens;
    private ILoggingAdapter? _log;
    private readonly Dictionary<string, IActorRef> _streams = new();
    private SessionSpec? _spec;
    private IActorRef _alignment = ActorRefs.Nobody;
    private IActorRef _fusion = ActorRefs.Nobody;
    private long _clockOffsetUs;
    private bool _passivating;
    private static readonly TimeSpan UnopenedLifetime = TimeSpan.FromSeconds(5);

    private ILoggingAdapter Log => _log ??= Context.GetLogger();

    public SessionActor(string sessionId, IEncoderProvider encoders, BackoffPolicy backoff, bool sharded, SessionTokens? tokens = null)
    {
        _sessionId = sessionId;
        _encoders = encoders;
        _backoff = backoff;
        _sharded = sharded;
        _tokens = tokens ?? SessionTokens.None;
    }

    /// <param name="tokens">Tokens a client must present at session open; none configured = no check.</param>
    public static Props Props(string sessionId, IEncoderProvider encoders, BackoffPolicy backoff, bool sharded = true, SessionTokens? tokens = null) =>
        ActorFactory.Props(() => new SessionActor(sessionId, encoders, backoff, sharded, tokens));

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
            case StreamHeartbeat h: Route(h.StreamId, h, -1); break;
            case CloseStream c: Route(c.StreamId, c, -1); break;
            case CrashEncoder c: Route(c.StreamId, c, -1); break;
            case RestartStream c: Route(c.StreamId, c, -1); break;
            case DisableStream c: Route(c.StreamId, c, -1); break;
            case EnableStream c: Route(c.StreamId, c, -1); break;
            case DropFrames c: Route(c.StreamId, c, -1); break;
            case Subscribe or Unsubscribe: _fusion.Forward(message); break;
            case OpenSession o:
                if (o.Spec == _spec || Equivalent(o.Spec, _spec!)) Sender.Tell(new SessionOpened(_sessionId, _streams.Keys.ToArray(), _clockOffsetUs, Self));
                else Sender.Tell(new CommandRejected(_sessionId, nameof(OpenSession), "the session is already open with another spec"));
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
            // Logged without the token itself; the sender's address says who tried.
            Log.Warning("Session {0}: open refused: {1} session token from {2}", _sessionId, open.Token is null ? "missing" : "wrong", Sender.Path.Address);
            Sender.Tell(new CommandRejected(_sessionId, nameof(OpenSession), open.Token is null ? "a session token is required" : "the session token is not valid"));
            PassivateUnopened();
            return;
        }
        Context.SetReceiveTimeout(null);
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
        _fusion = Context.ActorOf(FusionActor.Props(spec), "fusion");
        _alignment = Context.ActorOf(AlignmentActor.Props(spec, _fusion, _clockOffsetUs), "alignment");
        for (var i = 0; i < spec.Streams.Count; i++)
        {
            var s = spec.Streams[i];
            _streams[s.StreamId] = Context.ActorOf(
                StreamActor.Props(_sessionId, s, spec, _alignment, resolved[s.StreamId], _backoff, _clockOffsetUs), $"stream-{i}");
        }
        Log.Info("Session {0} opened: {1} streams ({2}), windows {3}, policy {4}, clock offset {5} us", _sessionId, spec.Streams.Count,
            string.Join(", ", spec.Streams.Select(s => $"{s.StreamId}:{s.Modality}:{s.Model}")), spec.Window.Kind, spec.Policy, _clockOffsetUs);
        Context.Become(Opened);
        FusionMetrics.SessionOpened();
        Sender.Tell(new SessionOpened(_sessionId, _streams.Keys.ToArray(), _clockOffsetUs, Self));
    }

    private void Route(string streamId, object message, long seq)
    {
        if (_streams.TryGetValue(streamId, out var stream)) stream.Forward(message);
        else Sender.Tell(new FrameRejected(_sessionId, streamId, seq, RejectReason.UnknownStream, $"session '{_sessionId}' has no stream '{streamId}'"));
    }

    private async Task<SessionStatus> CollectStatus()
    {
        var timeout = TimeSpan.FromSeconds(5);
        var streams = await Task.WhenAll(_streams.Values.Select(s => s.Ask<StreamStatus>(StreamActor.GetStatus.Instance, timeout)));
        var alignment = await _alignment.Ask<AlignmentStatus>(AlignmentActor.GetStatus.Instance, timeout);
        var fusion = await _fusion.Ask<FusionStatus>(FusionActor.GetStatus.Instance, timeout);
        return new SessionStatus(_sessionId, true, streams, alignment, fusion);
    }

    private static bool Equivalent(SessionSpec a, SessionSpec b) =>
        a.SessionId == b.SessionId && a.Streams.SequenceEqual(b.Streams) && a.Window == b.Window && a.Policy == b.Policy;
}
