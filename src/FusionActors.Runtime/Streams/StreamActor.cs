using Akka.Actor;
using Akka.Event;
using FusionActors.Core.Streams;
using FusionActors.Core.Supervision;
using FusionActors.Core.Time;
using FusionActors.Protocol;
using FusionActors.Protocol.Specs;
using FusionActors.Runtime.Alignment;
using FusionActors.Runtime.Encoders;
using FusionActors.Runtime.Gateway;
using FusionActors.Runtime.Metrics;
using FusionActors.Runtime.Sessions;

namespace FusionActors.Runtime.Streams;

/// <summary>
/// One sensor stream of a session: dedupes by seq, validates, frames, keeps the stream watermark and
/// health, and is the backoff supervisor of its <see cref="EncoderActor"/>. Its inputs wait for the encoder in an
/// <see cref="EncoderQueue"/> (batching, overflow, retry input by input, quarantine). Past the restart budget the
/// stream is Failed and the session fuses without it. Evidence goes to the alignment with how far this stream's
/// evidence is complete, so windows close only when every live stream's evidence is in. The rules decide; this
/// actor moves their messages and keeps their timers, reading time only from its <see cref="TimeSources"/>.
/// </summary>
public sealed class StreamActor : UntypedActor, IWithTimers
{
    private readonly string _sessionId;
    private readonly StreamSpec _spec;
    private readonly IActorRef _alignment;
    private readonly ResolvedEncoder _encoder;
    private readonly BackoffPolicy _backoff;
    private readonly TimeSources _time;
    private long _clockOffsetUs;
    private ILoggingAdapter? _logger;

    private readonly StreamIntake _intake;
    private readonly StreamWatermark _watermark;
    private readonly IFramer _framer;
    private readonly StreamHealth _health = new();
    private readonly RestartBudget _budget;
    private readonly EncoderQueue _queue;
    private readonly RoomWaiters<(IActorRef Session, long Id)> _roomWaiters = new();
    private readonly StreamMeter _meter;

    private IActorRef? _encoderActor;
    private int _encoderGeneration;
    private long _publishedCompleteUs = EventTime.MinusInfinity;
    private bool _idleTimerOn;

    public StreamActor(string sessionId, StreamSpec spec, SessionSpec session, IActorRef alignment, ResolvedEncoder encoder,
        BackoffPolicy backoff, long clockOffsetUs, long firstSeq = 0, long[]? heldBelow = null, TimeSources? time = null)
    {
        _sessionId = sessionId;
        _spec = spec;
        _alignment = alignment;
        _encoder = encoder;
        _backoff = backoff;
        _clockOffsetUs = clockOffsetUs;
        _time = time ?? TimeSources.System;
        _intake = new StreamIntake(spec, new SeqTracker(spec.MaxSeqAhead, firstSeq, heldBelow), _time.Monotonic.NowMs);
        _meter = new StreamMeter(spec.Modality);
        _watermark = new StreamWatermark(spec.MaxOutOfOrdernessUs);
        _budget = new RestartBudget(backoff);
        _queue = EncoderQueue.For(spec);
        _framer = FramerFactory.Create(spec, session);
    }

    public ITimerScheduler Timers { get; set; } = null!;

    // An UntypedActor with one switch: ReceiveActor's per-instance handler tables cost ~5 KB per actor,
    // which matters with tens of thousands of sessions.
    protected override void OnReceive(object message)
    {
        if (Unadmitted.Drop(message, Context)) return;
        switch (message)
        {
            case Frame f: OnFrame(f); break;
            case EncoderActor.Encoded e: OnEncoded(e); break;
            case StreamHeartbeat h: OnHeartbeat(h); break;
            case IdleCheck: CheckIdle(); break;
            case CloseStream: OnClose(); break;
            case Terminated t: OnEncoderDied(t.ActorRef); break;
            case RestartEncoder: OnRestartTimer(); break;
            case CheckDeadline: OnCheckDeadline(); break;
            case CrashEncoder: CrashEncoderNow(); break;
            case RestartStream: Revive("operator restart"); break;
            case DisableStream: Disable(); break;
            case EnableStream:
                _intake.Disabled = false;
                Revive("enabled by an operator");
                Sender.Tell(new Akka.Actor.Status.Success($"stream {_spec.StreamId} enabled"));
                break;
            case DropFrames d:
                _intake.DropFrames(_time.Monotonic.NowMs, d.Duration);
                Log.Warning("Session {0} stream {1}: chaos drill drops every frame for {2}", _sessionId, _spec.StreamId, d.Duration);
                Sender.Tell(new Akka.Actor.Status.Success($"stream {_spec.StreamId} drops frames for {d.Duration.TotalSeconds:0.#} s"));
                break;
            case GetStatus: Sender.Tell(Status()); break;
            case ClockOffsetChanged c: _clockOffsetUs = c.OffsetUs; break;
            case AwaitRoom r:
                if (_roomWaiters.Await((Sender, r.Id), HasRoom())) Sender.Tell(new Room(r.Id));
                break;
            default: Unhandled(message); break;
        }
    }

    private ILoggingAdapter Log => _logger ??= Context.GetLogger();

    public static Props Props(string sessionId, StreamSpec spec, SessionSpec session, IActorRef alignment, ResolvedEncoder encoder,
        BackoffPolicy backoff, long clockOffsetUs, long firstSeq = 0, long[]? heldBelow = null, TimeSources? time = null) =>
        ActorFactory.Props(() => new StreamActor(sessionId, spec, session, alignment, encoder, backoff, clockOffsetUs, firstSeq, heldBelow, time));

    protected override SupervisorStrategy SupervisorStrategy() =>
        // The encoder is restarted by this actor's own backoff, not by Akka's restart: stop it and watch.
        // One structured line per crash instead of Akka's stack trace: a crash is an expected event here.
        new OneForOneStrategy(e =>
        {
            Log.Warning("Session {0} stream {1}: encoder crashed: {2}: {3}", _sessionId, _spec.StreamId, e.GetType().Name, e.Message);
            return Directive.Stop;
        }, loggingEnabled: false);

    protected override void PreStart() => ArmIdleTimer();

    private long SessionNowUs => _time.Wall.NowUs - _clockOffsetUs;

    // ---- frames ----

    private void OnFrame(Frame frame)
    {
        _meter.FrameIn();
        if (_intake.Admit(frame, _health.State, _time.Monotonic.NowMs, SessionNowUs, _encoder.InputRange) is { } refused)
        {
            Reject(frame, refused.Reason, refused.Detail);
            return;
        }
        _meter.FrameAccepted();
        OnActivity();
        if (_watermark.IsLate(frame.EventTimeUs)) _meter.FrameLate();
        if (_framer.Add(frame, _watermark.CurrentUs) == FrameFate.TooLate)
        {
            _meter.FrameTooLate();
            _alignment.Tell(new LateEvidence(_sessionId, _spec.StreamId, frame.EventTimeUs, frame.Seq,
                LateMark.PastAllowedLateness.AsWindowEndUs(), _watermark.CurrentUs));
        }
        _watermark.OnEvent(frame.EventTimeUs);
        DrainFramer();
    }

    private void OnHeartbeat(StreamHeartbeat hb)
    {
        if (hb.WatermarkUs > SessionNowUs + _spec.MaxFutureSkewUs)
        {
            // Answered, not counted: a heartbeat is not a frame.
            Sender.Tell(new FrameRejected(_sessionId, _spec.StreamId, -1, RejectReason.TooFarInFuture,
                $"heartbeat watermark {hb.WatermarkUs}us is beyond the session clock + maxFutureSkew"));
            return;
        }
        OnActivity();
        _watermark.OnExplicit(hb.WatermarkUs);
        DrainFramer();
    }

    private void OnClose()
    {
        _watermark.Finish();
        DrainFramer();
        if (_health.OnFinished()) Report("closed by the client");
        Timers.Cancel("idle");
        _idleTimerOn = false;
        PublishProgress(force: true);
        ReleaseRoomWaiters();
    }

    private void OnActivity()
    {
        var now = _time.Monotonic.NowMs;
        _intake.OnActivity(now);
        if (_health.OnActivity()) Report("a frame arrived");
        if (_health.State == StreamState.Failed && _intake.CooledDown(now, _backoff.FailedCooldown)) Revive("a frame arrived after the failed cooldown");
        ArmIdleTimer();
    }

    private void DrainFramer()
    {
        while (_framer.TryTake(_watermark.CurrentUs, out var input))
        {
            // Nothing waits for a failed stream: its inputs are dropped (counted) so the session goes on without it.
            if (_health.State == StreamState.Failed || _queue.Enqueue(input) is not null) _meter.Shed(1);
        }
        SendNextBatch();
        PublishProgress();
    }

    // ---- encoder ----

    private void SendNextBatch()
    {
        if (!_queue.CanSend) return;
        if (_health.State is StreamState.Restarting or StreamState.Failed && _encoderActor is null) return;
        if (_encoderActor is null) StartEncoder();
        var batch = _queue.TakeBatch(_time.Monotonic.NowMs)!;
        _encoderActor!.Tell(new EncoderActor.Encode(batch.Id, batch.Inputs));
        // One timer per deadline, not per batch (batches come every few microseconds): it checks the batch in flight then.
        if (!Timers.IsTimerActive("deadline")) Timers.StartSingleTimer("deadline", CheckDeadline.Instance, _backoff.EncodeDeadline);
    }

    /// <summary>
    /// The encoder has not answered a batch in time: it is given up as failed now, not when its call returns (an
    /// actor stops only between messages). Its late answer, if any, carries an old batch id and is ignored.
    /// </summary>
    private void OnCheckDeadline()
    {
        if (_queue.InFlight is not { } batch || _encoderActor is not { } stalled) return;
        var waited = TimeSpan.FromMilliseconds(_time.Monotonic.NowMs - batch.SentAtMs);
        if (waited < _backoff.EncodeDeadline)
        {
            Timers.StartSingleTimer("deadline", CheckDeadline.Instance, _backoff.EncodeDeadline - waited);
            return;
        }
        Log.Warning("Session {0} stream {1}: the encoder did not answer a batch of {2} within {3}; counted as a failure",
            _sessionId, _spec.StreamId, batch.Inputs.Length, _backoff.EncodeDeadline);
        Context.Unwatch(stalled);
        Context.Stop(stalled);
        OnEncoderDied(stalled);
    }

    private void OnEncoded(EncoderActor.Encoded msg)
    {
        if (_queue.Complete(msg.BatchId) is not { } batch) return; // an answer from before a restart
        foreach (var input in batch) _health.RecordSuccess(input.Coverage, input.Revision == 0);
        _budget.OnSuccess();
        _meter.Encoded(batch.Length, msg.Millis);
        _publishedCompleteUs = CompleteThrough();
        _alignment.Tell(new AlignmentActor.EvidenceBatch(_spec.StreamId, msg.Evidence, _publishedCompleteUs, _health.Reliability));
        SendNextBatch();
        PublishProgress();
        ReleaseRoomWaiters();
    }

    /// <summary>Room for another batch from a client's frame sink; none is held back when nothing will wait (failed, finished or disabled).</summary>
    private bool HasRoom() => _queue.HasRoom(nothingWillWait: _health.State is StreamState.Failed or StreamState.Finished || _intake.Disabled);

    private void ReleaseRoomWaiters()
    {
        if (_roomWaiters.Count == 0) return;
        foreach (var (session, id) in _roomWaiters.Release(HasRoom())) session.Tell(new Room(id));
    }

    private void StartEncoder()
    {
        var dispatcher = Context.System.Dispatchers.HasDispatcher(EncoderActor.DispatcherId) ? EncoderActor.DispatcherId : Akka.Dispatch.Dispatchers.DefaultDispatcherId;
        _encoderActor = Context.Watch(Context.ActorOf(EncoderActor.Props(_encoder, _spec.Modality).WithDispatcher(dispatcher), $"encoder-{++_encoderGeneration}"));
    }

    private void OnEncoderDied(IActorRef dead)
    {
        if (!dead.Equals(_encoderActor)) return;
        _encoderActor = null;
        _meter.EncoderFailed();
        _health.RecordFailure();
        if (_queue.Fail() is { } failure)
        {
            foreach (var input in failure.Quarantined)
            {
                _meter.Quarantined();
                Log.Warning("Session {0} stream {1}: quarantined input at {2} (frames {3}..{4}) after {5} encoder failures",
                    _sessionId, _spec.StreamId, EventTime.Format(input.StartUs), input.FirstSeq, input.LastSeq, _queue.MaxFailures);
                _alignment.Tell(new LateEvidence(_sessionId, _spec.StreamId, input.StartUs, input.LastSeq, LateMark.Quarantined.AsWindowEndUs(), _watermark.CurrentUs));
            }
            _meter.Shed(failure.Shed.Count);
        }
        ReleaseRoomWaiters(); // quarantined inputs may have made room
        if (_budget.TryRestart(DateTimeOffset.UnixEpoch.AddTicks(_time.Wall.NowUs * 10)))
        {
            var delay = _backoff.Delay(_budget.Consecutive - 1, _time.Random.NextDouble());
            if (_health.OnEncoderDown()) Report($"encoder failed; restart in {delay.TotalMilliseconds:0} ms");
            Timers.StartSingleTimer("restart", new RestartEncoder(_encoderGeneration), delay);
        }
        else Fail($"restart budget spent ({_backoff.MaxRestarts} restarts within {_backoff.Within})");
        PublishProgress(force: true);
    }

    private void OnRestartTimer()
    {
        if (_health.State != StreamState.Restarting || _encoderActor is not null) return;
        StartEncoder();
        _meter.EncoderRestarted();
        if (_health.OnEncoderUp()) Report("encoder restarted");
        SendNextBatch();
        PublishProgress(force: true);
    }

    private void Fail(string reason)
    {
        _intake.OnFailed(_time.Monotonic.NowMs);
        Timers.Cancel("restart");
        // Nothing waits for a failed stream: its inputs are dropped (counted) so the session goes on without it.
        _meter.Shed(_queue.ShedAll());
        if (_health.OnBudgetSpent()) Report(reason);
        ReleaseRoomWaiters();
    }

    private void Disable()
    {
        _intake.Disabled = true;
        Fail("disabled by an operator");
        if (_encoderActor is not null)
        {
            Context.Unwatch(_encoderActor);
            Context.Stop(_encoderActor);
            _encoderActor = null;
            _meter.Shed(_queue.DropInFlight());
        }
        PublishProgress(force: true);
        Sender.Tell(new Akka.Actor.Status.Success($"stream {_spec.StreamId} disabled"));
    }

    private void Revive(string reason)
    {
        if (_health.State != StreamState.Failed || _intake.Disabled) return;
        _budget.Reset();
        if (_health.OnRevive()) Report(reason);
        Timers.StartSingleTimer("restart", new RestartEncoder(_encoderGeneration), _backoff.Min);
    }

    private void CrashEncoderNow()
    {
        if (_encoderActor is null) StartEncoder();
        _encoderActor!.Tell(EncoderActor.CrashNext.Instance);
        Sender.Tell(new Akka.Actor.Status.Success($"the next batch of {_spec.StreamId} will crash its encoder"));
    }

    // ---- idleness and progress ----

    private void ArmIdleTimer()
    {
        if (_idleTimerOn || _health.State == StreamState.Finished) return;
        Timers.StartPeriodicTimer("idle", IdleCheck.Instance, StreamIntake.IdleCheckEvery(_spec.IdleTimeout));
        _idleTimerOn = true;
    }

    private void CheckIdle()
    {
        // A stream the server itself is holding back (inputs waiting for the encoder) is never idle.
        if (_intake.SilentFor(_time.Monotonic.NowMs, _spec.IdleTimeout) is not { } silentMs || !_queue.IsEmpty) return;
        if (_health.OnIdle()) Report($"no frame or heartbeat for {silentMs} ms");
        if (_health.State == StreamState.Active) return;
        Timers.Cancel("idle");
        _idleTimerOn = false;
    }

    private long CompleteThrough(long floor = EventTime.MinusInfinity) => _queue.CompleteThrough(_framer.CompleteThroughUs(_watermark.CurrentUs), floor);

    private void PublishProgress(bool force = false)
    {
        var complete = CompleteThrough(force ? EventTime.MinusInfinity : _publishedCompleteUs);
        if (!force && complete <= _publishedCompleteUs) return;
        _publishedCompleteUs = Math.Max(_publishedCompleteUs, complete);
        _alignment.Tell(new AlignmentActor.EvidenceBatch(_spec.StreamId, [], complete, _health.Reliability));
    }

    private void Report(string reason)
    {
        Log.Info("Session {0} stream {1} ({2}) is {3}: {4}", _sessionId, _spec.StreamId, _spec.Modality, _health.State, reason);
        _alignment.Tell(new AlignmentActor.StreamHealthChanged(_spec.StreamId, _health.State, _health.Reliability, reason));
    }

    private void Reject(Frame frame, RejectReason reason, string detail)
    {
        _meter.FrameRejected(reason);
        if (!Sender.IsNobody()) Sender.Tell(new FrameRejected(_sessionId, _spec.StreamId, frame.Seq, reason, detail));
    }

    private StreamStatus Status() => new(_sessionId, _spec.StreamId, _spec.Modality, _health.State, _health.Reliability,
        _watermark.CurrentUs, CompleteThrough(), _queue.Waiting, _meter.Snapshot(_intake.Seqs.Skipped));

    // ---- messages of this actor ----

    public sealed record GetStatus
    {
        public static readonly GetStatus Instance = new();
    }

    /// <summary>From the session: answer <see cref="Room"/> once the frames sent before this are taken and more inputs fit.</summary>
    public sealed record AwaitRoom(long Id);

    public sealed record Room(long Id);

    private sealed record RestartEncoder(int Generation);

    private sealed record CheckDeadline
    {
        public static readonly CheckDeadline Instance = new();
    }

    private sealed record IdleCheck
    {
        public static readonly IdleCheck Instance = new();
    }
}
