using Akka.Actor;
using FusionActors.Protocol;
using FusionActors.Runtime.Alignment;
using FusionActors.Runtime.Encoders;
using FusionActors.Runtime.Fusion;
using FusionActors.Runtime.Streams;

namespace FusionActors.Runtime.Sessions;

/// <summary>
/// Hibernation (docs/design.md, session lifecycle). An open session with no frame or heartbeat for
/// <c>fusion.sessions.hibernate-after</c> and nothing in flight or uncommitted stops its children: each stream, then
/// the alignment, then the fusion actor hands its state to the session and stops (in that order, the direction
/// evidence flows, so nothing is sent to a child that stopped). The session keeps that state, compact and exactly
/// as the children left it, and answers status from it. The next message that needs a child (a frame, a heartbeat, a
/// command, a subscription, a reopen) starts the children again on the same state first, and then is handled as
/// if they had never stopped. Messages that come while the children hand over are stashed and handled after.
/// </summary>
public sealed partial class SessionActor
{
    private ResolvedEncoder[] _resolved = [];
    private long _lastTrafficMs; // monotonic time of the last frame, batch or heartbeat routed to a stream
    private Hibernation? _sleep; // set while the children hand over and while they sleep
    private int _wakes;

    public IStash Stash { get; set; } = null!;

    /// <summary>The state of a session's sleeping children, and whom to tell how the hibernation went.</summary>
    private sealed class Hibernation(int streams, IActorRef? replyTo)
    {
        public readonly StreamActor.Dormant?[] Streams = new StreamActor.Dormant?[streams];
        public AlignmentActor.Dormant? Alignment;
        public FusionActor.Dormant? Fusion;
        public int Waiting = streams;
        public string? Refused;
        public IActorRef? ReplyTo = replyTo;
        public bool Complete;
    }

    private sealed record HibernateCheck : INotInfluenceReceiveTimeout
    {
        public static readonly HibernateCheck Instance = new();
    }

    private void ArmHibernation(TimeSpan? after)
    {
        if (after is { } delay && !_passivating) Timers.StartSingleTimer("hibernate", HibernateCheck.Instance, delay);
    }

    private void OnHibernateCheck()
    {
        if (_hibernateAfter is not { } after) return;
        var quiet = TimeSpan.FromMilliseconds(_time.Monotonic.NowMs - _lastTrafficMs);
        if (quiet < after) ArmHibernation(after - quiet);
        else TryHibernate(null);
    }

    /// <summary>Starts the hand-over when the session itself holds nothing in flight; the children say for themselves.</summary>
    private void TryHibernate(IActorRef? replyTo)
    {
        var problem = _spec is null ? "the session is not open"
            : _passivating ? "the session is stopping"
            : _unacked is { Count: > 0 } ? "a client batch waits for its streams to make room"
            : null;
        if (problem is not null)
        {
            Refused(replyTo, problem);
            return;
        }
        _sleep = new Hibernation(_spec!.Streams.Count, replyTo);
        Context.Become(Hibernating);
        var ask = new StreamActor.Hibernate(_committedUs);
        foreach (var stream in _streams.Values) stream.Tell(ask);
    }

    private void Refused(IActorRef? replyTo, string why)
    {
        replyTo?.Tell(new HibernateResult(_sessionId, false, why));
        ArmHibernation(_hibernateAfter);
    }

    private void Hibernating(object message)
    {
        var sleep = _sleep!;
        switch (message)
        {
            case StreamActor.Dormant d:
                sleep.Streams[StreamIndex(Sender)] = d;
                StreamAnswered(sleep);
                break;
            case StreamActor.HibernateRefused r:
                sleep.Refused ??= $"stream {r.StreamId}: {r.Reason}";
                StreamAnswered(sleep);
                break;
            case AlignmentActor.Dormant d:
                sleep.Alignment = d;
                _fusion.Tell(FusionActor.Hibernate.Instance);
                break;
            case AlignmentActor.HibernateRefused r:
                sleep.Refused = $"alignment: {r.Reason}";
                Abort(sleep);
                break;
            case FusionActor.Dormant d:
                sleep.Fusion = d;
                sleep.Complete = true;
                _streams.Clear(); // the ids stay in the spec; a woken session makes new children
                _alignment = _fusion = ActorRefs.Nobody;
                Context.Become(Hibernated);
                _admission.Slept();
                sleep.ReplyTo?.Tell(new HibernateResult(_sessionId, true, null));
                sleep.ReplyTo = null;
                Stash.UnstashAll();
                break;
            case AlignmentActor.Committed c: _committedUs = Math.Max(_committedUs, c.ThroughUs); break;
            default: Stash.Stash(); break;
        }
    }

    private void StreamAnswered(Hibernation sleep)
    {
        if (--sleep.Waiting > 0) return;
        if (sleep.Refused is not null) Abort(sleep);
        else _alignment.Tell(AlignmentActor.Hibernate.Instance);
    }

    /// <summary>A child could not sleep: those that handed over already start again on their state, and the session stays awake.</summary>
    private void Abort(Hibernation sleep)
    {
        _sleep = null;
        StartChildren(sleep);
        Context.Become(Opened);
        Refused(sleep.ReplyTo, sleep.Refused!);
        Stash.UnstashAll();
    }

    private int StreamIndex(IActorRef stream)
    {
        for (var i = 0; i < _spec!.Streams.Count; i++)
            if (_streams.TryGetValue(_spec.Streams[i].StreamId, out var s) && s.Equals(stream)) return i;
        throw new InvalidOperationException($"session '{_sessionId}': a hibernation answer from {stream.Path}, which is none of its streams");
    }

    private void Hibernated(object message)
    {
        switch (message)
        {
            // What needs no child is answered asleep: status (from the children's state), the clock, the client's link.
            case GetSessionStatus g:
                if (Authorized(g)) Sender.Tell(SleepingStatus());
                break;
            case HibernateSession: Sender.Tell(new HibernateResult(_sessionId, true, "already hibernated")); break;
            case HibernateCheck: break;
            case ClockProbe or ClockPong or ReceiveTimeout or SinkOpened or SinkEnded or SinkClosed or RoomOverdue:
            case AlignmentActor.Committed:
            case Terminated:
                Opened(message);
                break;
            default:
                Wake();
                Opened(message);
                break;
        }
    }

    /// <summary>Starts the children on the state they slept with, under new names (the old ones may not be released yet).</summary>
    private void Wake()
    {
        var sleep = _sleep!;
        _sleep = null;
        _admission.Woke();
        StartChildren(sleep);
        Context.Become(Opened);
        _lastTrafficMs = _time.Monotonic.NowMs;
        ArmHibernation(_hibernateAfter);
    }

    private void StartChildren(Hibernation sleep)
    {
        var suffix = "-" + ++_wakes;
        var spec = _spec!;
        if (sleep.Fusion is { } fusion)
        {
            // What the fusion engine is made of at open, for one made again (it kept no evidence): the streams' encoders.
            var embeddingSizes = new Dictionary<string, int>();
            // The encoders the streams slept on: a stream that followed a reload runs another version than the one resolved at open.
            var running = new ResolvedEncoder[spec.Streams.Count];
            for (var i = 0; i < running.Length; i++) running[i] = sleep.Streams[i]?.Encoder ?? _resolved[i];
            for (var i = 0; i < spec.Streams.Count; i++) embeddingSizes[spec.Streams[i].StreamId] = running[i].Encoder.EmbeddingLength;
            var modelVersions = running.Select(r => r.Model).OfType<string>().Distinct(StringComparer.Ordinal).ToArray();
            _fusion = Context.ActorOf(FusionActor.Props(spec, embeddingSizes, _encoders.Fusion, modelVersions, _recording, fusion), "fusion" + suffix);
        }
        if (sleep.Alignment is { } alignment)
            _alignment = Context.ActorOf(AlignmentActor.Props(spec, _fusion, _clockOffsetUs, clock: _time.Wall, commits: Self, recording: _recording,
                restore: alignment), "alignment" + suffix);
        for (var i = 0; i < spec.Streams.Count; i++)
        {
            if (sleep.Streams[i] is not { } stream) continue;
            var s = spec.Streams[i];
            _streams[s.StreamId] = Context.ActorOf(StreamActor.Props(_sessionId, s, spec, _alignment, _resolved[i], _backoff, _clockOffsetUs,
                time: _time, recording: _recording, restore: stream), $"stream-{i}{suffix}");
        }
    }

    private SessionStatus SleepingStatus()
    {
        var sleep = _sleep!;
        var spec = _spec!;
        var streams = new StreamStatus[spec.Streams.Count];
        for (var i = 0; i < streams.Length; i++) streams[i] = StreamActor.StatusOf(_sessionId, spec.Streams[i], sleep.Streams[i]!);
        return new SessionStatus(_sessionId, true, streams, AlignmentActor.StatusOf(sleep.Alignment!), FusionActor.StatusOf(sleep.Fusion!), _client?.Path.ToString());
    }
}

/// <summary>
/// In this process only (no serializer carries it): asks a session to hibernate now if it can, whatever its idle time
/// (tests, benchmarks, an operator's drill). Answered with <see cref="HibernateResult"/>.
/// </summary>
public sealed record HibernateSession(string SessionId) : IWithSessionId;

/// <summary>Whether the session hibernated, and if not why (something in flight or uncommitted).</summary>
public sealed record HibernateResult(string SessionId, bool Hibernated, string? Reason);
