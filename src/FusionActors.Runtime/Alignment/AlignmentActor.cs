using Akka.Actor;
using Akka.Event;
using FusionActors.Core.Alignment;
using FusionActors.Core.Fusion;
using FusionActors.Core.Specs;
using FusionActors.Core.Streams;
using FusionActors.Core.Time;
using FusionActors.Protocol;
using FusionActors.Protocol.Specs;
using FusionActors.Runtime.Fusion;
using FusionActors.Runtime.Gateway;
using FusionActors.Runtime.Metrics;
using FusionActors.Runtime.Recording;
using FusionActors.Runtime.Sessions;
using FusionActors.Runtime.Streams;

namespace FusionActors.Runtime.Alignment;

/// <summary>
/// Owns the session's <see cref="Aligner"/>: takes evidence and progress from the stream actors, advances
/// the session watermark (by processing time too, when no stream is live) and hands closed or revised
/// windows, with the streams' health, to the fusion actor. Late evidence goes to the side output.
/// </summary>
public sealed class AlignmentActor : UntypedActor, IWithTimers
{
    private readonly string _sessionId;
    private readonly Aligner _aligner;
    private readonly IActorRef _fusion;
    private readonly IClock _clock;
    private long _clockOffsetUs;
    private readonly TimeSpan _tick;
    private readonly Dictionary<string, StreamSnapshot> _streams;
    private readonly bool _restored;
    private ILoggingAdapter? _logger;
    private bool _ticking;
    private readonly SessionRecording? _recording;

    /// <param name="resumeAtUs">Set when the session resumes after a failover: windows before it were fused by an earlier incarnation.</param>
    /// <param name="clock">The server's wall clock (the session clock is it less the client's offset); <see cref="SystemClock"/> by default.</param>
    /// <param name="deliveredRevisions">Set on a resume: per window, the highest revision the client has; this incarnation numbers above it.</param>
    /// <param name="generation">Set on a resume: the client's opens before; this incarnation's revisions start above every earlier one's.</param>
    /// <param name="commits">Told <see cref="Committed"/> with each commit point sent to the client (the session, which compares reopens with it).</param>
    public AlignmentActor(SessionSpec spec, IActorRef fusion, long clockOffsetUs, long? resumeAtUs = null, IClock? clock = null,
        IReadOnlyDictionary<long, int>? deliveredRevisions = null, int generation = 0, IActorRef? commits = null, SessionRecording? recording = null,
        Dormant? restore = null)
    {
        _commits = commits;
        _recording = recording;
        _clock = clock ?? SystemClock.Instance;
        _sessionId = spec.SessionId;
        _fusion = fusion;
        _clockOffsetUs = clockOffsetUs;
        if (restore is not null)
        {
            // Woken from hibernation: the same aligner and stream view it slept with.
            (_aligner, _streams, _lateFrames, _committedUs, _restored) = (restore.Aligner, restore.Streams, restore.LateFrames, restore.CommittedUs, true);
            _tick = TickOf(_aligner);
            return;
        }
        _streams = new Dictionary<string, StreamSnapshot>();
        _aligner = new Aligner(spec);
        if (resumeAtUs is { } at) _aligner.ResumeAt(at);
        if (deliveredRevisions is not null || generation != 0) _aligner.ResumeRevisions(deliveredRevisions, generation);
        _committedUs = _aligner.CommittedThroughUs;
        foreach (var s in spec.Streams) _streams[s.StreamId] = new StreamSnapshot(StreamState.Active, 1.0);
        _tick = TickOf(_aligner);
    }

    // Processing-time watermark steps: fine enough to close windows promptly, coarse enough to cost nothing.
    private static TimeSpan TickOf(Aligner aligner) => TimeSpan.FromMilliseconds(Math.Clamp(aligner.Windows.StepUs / 4000.0, 10, 250));

    // A woken alignment ticks again if it ticked when it went to sleep (no stream live).
    protected override void PreStart()
    {
        if (_restored) UpdateTicking();
    }

    /// <summary>From the session: hand over the alignment's state and stop, unless a step is still under way or evidence is unfused.</summary>
    public sealed record Hibernate
    {
        public static readonly Hibernate Instance = new();
    }

    /// <summary>The state of an alignment that stopped to hibernate.</summary>
    public sealed record Dormant(Aligner Aligner, Dictionary<string, StreamSnapshot> Streams, long LateFrames, long CommittedUs);

    public sealed record HibernateRefused(string Reason);

    private void OnHibernate()
    {
        string? busy = _aligner.MorePending || _continuing ? "a step is still under way"
            : _aligner.BufferedEvidence > 0 ? $"{_aligner.BufferedEvidence} pieces of evidence are not fused yet"
            : null;
        if (busy is not null)
        {
            Sender.Tell(new HibernateRefused(busy));
            return;
        }
        Timers.CancelAll();
        Sender.Tell(new Dormant(_aligner, _streams, _lateFrames, _committedUs));
        Context.Stop(Self);
    }

    /// <summary>The status of a hibernated alignment, from its state: what it answers once awake.</summary>
    public static AlignmentStatus StatusOf(Dormant d) => StatusOf(d.Aligner, d.LateFrames, d.CommittedUs);

    private static AlignmentStatus StatusOf(Aligner aligner, long lateFrames, long committedUs) =>
        new(aligner.WatermarkUs, aligner.ClosedCount, aligner.RevisionCount, aligner.LateCount + lateFrames,
            new Dictionary<string, long>(aligner.Shed), aligner.BufferedEvidence, committedUs, aligner.SkippedCount);

    private long _lateFrames;
    private bool _continuing;
    private long _committedUs;
    private readonly IActorRef? _commits;

    protected override void OnReceive(object message)
    {
        if (Unadmitted.Drop(message, Context)) return;
        switch (message)
        {
            case EvidenceBatch b: OnEvidence(b); break;
            case StreamHealthChanged h: OnHealth(h); break;
            case LateEvidence l: OnLateFrame(l); break;
            case Tick:
                _recording?.Clock(ClockSource.AlignmentTick);
                Advance();
                break;
            case Continue:
                _continuing = false;
                Advance();
                break;
            case ClockOffsetChanged c: _clockOffsetUs = c.OffsetUs; break;
            case ClockAdvanced: if (_ticking) Advance(); break; // a replay's recorded tick
            case GetStatus: Sender.Tell(StatusOf(_aligner, _lateFrames, _committedUs)); break;
            case Hibernate: OnHibernate(); break;
            default: Unhandled(message); break;
        }
    }

    public ITimerScheduler Timers { get; set; } = null!;

    private ILoggingAdapter Log => _logger ??= Context.GetLogger();

    public static Props Props(SessionSpec spec, IActorRef fusion, long clockOffsetUs, long? resumeAtUs = null, IClock? clock = null,
        IReadOnlyDictionary<long, int>? deliveredRevisions = null, int generation = 0, IActorRef? commits = null, SessionRecording? recording = null,
        Dormant? restore = null) =>
        ActorFactory.Props(ActorFactory.Once(restore, r => new AlignmentActor(spec, fusion, clockOffsetUs, resumeAtUs, clock, deliveredRevisions, generation, commits, recording, r)));

    private void OnEvidence(EvidenceBatch batch)
    {
        var s = _streams[batch.StreamId];
        var now = batch.Evidence.Count > 0
            ? s with { Reliability = batch.Reliability, EvidenceReliability = batch.Reliability }
            : s with { Reliability = batch.Reliability };
        if (now != s) SetStream(batch.StreamId, now);
        // Not foreach: through the interface its enumerator is an allocation per batch.
        for (var i = 0; i < batch.Evidence.Count; i++) Emit(_aligner.OnEvidence(batch.Evidence[i]));
        _aligner.SetStreamWatermark(batch.StreamId, batch.CompleteThroughUs);
        Advance();
    }

    private void OnHealth(StreamHealthChanged msg)
    {
        var before = _streams[msg.StreamId];
        SetStream(msg.StreamId, before with { State = msg.State, Reliability = msg.Reliability });
        _aligner.SetStreamState(msg.StreamId, msg.State);
        _recording?.StateChanged(msg.StreamId, before.State, msg.State, msg.Reason);
        _fusion.Tell(new StreamStateChanged(_sessionId, msg.StreamId, before.State, msg.State, msg.Reason));
        UpdateTicking();
        Advance();
    }

    private void OnLateFrame(LateEvidence late)
    {
        _lateFrames++;
        _fusion.Tell(late);
    }

    private void Advance()
    {
        var sessionNow = _clock.NowUs - _clockOffsetUs;
        Emit(_aligner.Advance(sessionNow));
        // A step stopped at its budget: the rest follows in another, after whatever else waits in the mailbox.
        if (_aligner.MorePending && !_continuing)
        {
            _continuing = true;
            Self.Tell(Continue.Instance);
        }
        // After the windows it covers, so a subscriber sees the results before it may forget their frames. Not
        // while the watermark follows processing time (no stream live): windows then close on the clock, not on
        // frames seen, and a client reconnecting meanwhile still holds frames for them that must reach the session.
        var committed = _aligner.CommittedThroughUs;
        if (committed > _committedUs && (!_aligner.Watermark.FollowsProcessingTime || committed == EventTime.PlusInfinity))
        {
            _committedUs = committed;
            _fusion.Tell(new FramesCommitted(_sessionId, committed));
            _commits?.Tell(new Committed(committed));
        }
    }

    private void Emit(AlignmentOutput output)
    {
        if (output.Windows.Count == 0 && output.Late.Count == 0) return;
        if (output.Windows.Count > 0)
        {
            var snapshot = _snapshot ??= new Dictionary<string, StreamSnapshot>(_streams);
            FusionMetrics.WindowsClosed(output.Windows, _clock.NowUs - _clockOffsetUs);
            for (var i = 0; i < output.Windows.Count; i++) _fusion.Tell(new FusionActor.FuseWindow(output.Windows[i], snapshot));
        }
        for (var i = 0; i < output.Late.Count; i++)
        {
            var e = output.Late[i];
            Log.Debug("Session {0} stream {1}: evidence at {2} is later than the allowed lateness", _sessionId, e.StreamId, e.StartUs);
            _fusion.Tell(new LateEvidence(_sessionId, e.StreamId, e.StartUs, e.LastSeq, LateMark.PastAllowedLateness.AsWindowEndUs(), _aligner.WatermarkUs));
        }
    }

    /// <summary>
    /// Changes what the fusion is told of a stream. The windows sent share one copy of the streams' snapshots
    /// (never changed once sent) until one changes: not a dictionary per window.
    /// </summary>
    private void SetStream(string streamId, StreamSnapshot snapshot)
    {
        _streams[streamId] = snapshot;
        _snapshot = null;
    }

    private Dictionary<string, StreamSnapshot>? _snapshot;

    /// <summary>Ticks only while no stream is live: then processing time drives the watermark.</summary>
    private void UpdateTicking()
    {
        var anyLive = _streams.Values.Any(s => s.State is StreamState.Active or StreamState.Restarting);
        var allFinished = _streams.Values.All(s => s.State == StreamState.Finished);
        var needTick = !anyLive && !allFinished;
        if (needTick && !_ticking && !DrivenClock.Drives(_clock)) Timers.StartPeriodicTimer("tick", Tick.Instance, _tick);
        else if (!needTick && _ticking) Timers.Cancel("tick");
        _ticking = needTick;
    }

    // ---- protocol of this actor (from its session's stream actors) ----

    /// <summary>Evidence of one stream (possibly none) and how far that stream's evidence is complete.</summary>
    public sealed record EvidenceBatch(string StreamId, IReadOnlyList<Evidence> Evidence, long CompleteThroughUs, double Reliability);

    public sealed record StreamHealthChanged(string StreamId, StreamState State, double Reliability, string Reason);

    public sealed record GetStatus
    {
        public static readonly GetStatus Instance = new();
    }

    /// <summary>The session's commit point moved to <paramref name="ThroughUs"/> (as told to its client).</summary>
    public sealed record Committed(long ThroughUs);

    private sealed record Tick
    {
        public static readonly Tick Instance = new();
    }

    private sealed record Continue
    {
        public static readonly Continue Instance = new();
    }
}
