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
using FusionActors.Runtime.Recording;
using FusionActors.Runtime.Sessions;

namespace FusionActors.Runtime.Streams;

/// <summary>
/// One sensor stream of a session, and the backoff supervisor of its <see cref="EncoderActor"/>. The rules are
/// Core's: <see cref="StreamIntake"/> admits frames (dedupe, validation, drills), the framer and watermark make
/// inputs, an <see cref="EncoderQueue"/> holds them for the encoder (batching, overflow, retry input by input,
/// quarantine, room) and <see cref="EncoderSupervision"/> keeps the stream's health through encoder failures. This
/// actor moves their messages, keeps their timers and counts in a <see cref="StreamMeter"/>; it reads time only from
/// its <see cref="TimeSources"/>. Evidence goes to the alignment with how far this stream's evidence is complete, so
/// windows close only when every live stream's evidence is in.
/// </summary>
public sealed partial class StreamActor : UntypedActor, IWithTimers
{
    private readonly string _sessionId;
    private readonly StreamSpec _spec;
    private readonly IActorRef _alignment;
    private ResolvedEncoder _encoder; // replaced when the stream follows its model to a new version
    private readonly TimeSpan _deadline;
    private readonly TimeSources _time;
    private readonly StreamIntake _intake;
    private readonly StreamInputs _inputs;
    private readonly EncoderQueue _queue;
    private readonly EncoderSupervision _supervision;
    private readonly RoomWaiters<(IActorRef Session, long Id)> _roomWaiters = new();
    private readonly StreamMeter _meter;
    private DriftMonitor? _drift;
    private long _clockOffsetUs;
    private ILoggingAdapter? _logger;
    private readonly EncoderChild _encoderChild;
    private bool _idleTimerOn;
    private string? _pushTrace; // the traceparent of the latest traced frame taken since the last batch went out
    private int _pendingCounted; // this stream's share of the node's pending encoder inputs (ResolvedEncoder.Node)
    private readonly SessionRecording? _recording;
    private readonly DeliveryBudget? _budget; // latency-constrained delivery: what is shed for time; null when lossless
    private readonly RepeatCache _repeats; // exact repeats of encoded inputs get their evidence without the model
    private bool _repeatsOn; // the cache serves the encoder the stream runs (a stateless ONNX model)
    private List<EncoderInput>? _hitInputs; // made at the first hit
    private List<Evidence>? _hitEvidence;
    private const int PendingStep = 4;

    public StreamActor(string sessionId, StreamSpec spec, SessionSpec session, IActorRef alignment, ResolvedEncoder encoder,
        BackoffPolicy backoff, long clockOffsetUs, long firstSeq = 0, long[]? heldBelow = null, TimeSources? time = null, SessionRecording? recording = null,
        Dormant? restore = null)
    {
        _recording = recording;
        encoder = restore?.Encoder ?? encoder; // woken: the version it slept on, not the one resolved at open
        (_sessionId, _spec, _alignment, _encoder, _deadline, _clockOffsetUs) = (sessionId, spec, alignment, encoder, backoff.EncodeDeadline, clockOffsetUs);
        _time = time ?? TimeSources.System;
        // A stream woken from hibernation goes on with the very rule objects it slept with (StreamActor.Dormancy.cs).
        _intake = restore?.Intake ?? new StreamIntake(spec, new SeqTracker(spec.MaxSeqAhead, firstSeq, heldBelow), _time.Monotonic.NowMs);
        _inputs = restore?.Inputs ?? new StreamInputs(spec, session);
        _queue = _inputs.Queue;
        _supervision = restore?.Supervision ?? new EncoderSupervision(backoff);
        _meter = restore?.Meter ?? new StreamMeter(spec.Modality);
        _drift = restore is not null ? restore.Drift : encoder.DriftMonitoring is { } watch ? new DriftMonitor(watch) : null;
        _encoderChild = restore is null ? new EncoderChild(encoder, spec.Modality, sessionId, session) : new EncoderChild(encoder, restore.Use, spec.Modality, sessionId, session);
        _budget = DeliveryBudget.For(session, spec);
        _repeats = new RepeatCache(encoder.Node?.RepeatCache ?? RepeatCacheOptions.Default);
        _repeatsOn = _repeats.Serves(encoder);
    }

    public static Props Props(string sessionId, StreamSpec spec, SessionSpec session, IActorRef alignment, ResolvedEncoder encoder,
        BackoffPolicy backoff, long clockOffsetUs, long firstSeq = 0, long[]? heldBelow = null, TimeSources? time = null, SessionRecording? recording = null,
        Dormant? restore = null) =>
        ActorFactory.Props(ActorFactory.Once(restore, r => new StreamActor(sessionId, spec, session, alignment, encoder, backoff, clockOffsetUs, firstSeq, heldBelow, time, recording, r)));

    public ITimerScheduler Timers { get; set; } = null!;

    private ILoggingAdapter Log => _logger ??= Context.GetLogger();

    private long NowMs => _time.Monotonic.NowMs;

    private long SessionNowUs => _time.Wall.NowUs - _clockOffsetUs;

    private StreamHealth Health => _supervision.Health;

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
            case ClockAdvanced: if (_idleTimerOn) CheckIdle(); break; // a replay's recorded idle check
            case CloseStream: OnClose(); break;
            case Terminated t: OnEncoderDied(t.ActorRef); break;
            case RestartEncoder: OnRestartTimer(); break;
            case CheckDeadline: OnCheckDeadline(); break;
            case CrashEncoder: CrashEncoderNow(); break;
            case RestartStream: Revive("operator restart"); break;
            case DisableStream: Disable(); break;
            case EnableStream:
                _supervision.Disabled = false;
                Revive("enabled by an operator");
                Sender.Tell(new Akka.Actor.Status.Success($"stream {_spec.StreamId} enabled"));
                break;
            case DropFrames d:
                _intake.DropFrames(NowMs, d.Duration);
                Log.Warning("Session {0} stream {1}: chaos drill drops every frame for {2}", _sessionId, _spec.StreamId, d.Duration);
                Sender.Tell(new Akka.Actor.Status.Success($"stream {_spec.StreamId} drops frames for {d.Duration.TotalSeconds:0.#} s"));
                break;
            case GetStatus: Sender.Tell(Status()); break;
            case Hibernate h: OnHibernate(h); break;
            case ClockOffsetChanged c: _clockOffsetUs = c.OffsetUs; break;
            case AwaitRoom r:
                if (_roomWaiters.Await((Sender, r.Id), _queue.HasRoom(_supervision.NothingWillWait))) Sender.Tell(new Room(r.Id));
                break;
            default: Unhandled(message); break;
        }
        CountPending();
    }

    protected override void PostStop()
    {
        _encoder.Node?.Pending.Update(_pendingCounted, 0);
        _pendingCounted = 0;
        if (_encoderChild.Held is { } held && _encoderChild.ReleaseHeld()) LogFreed(held);
        if (_encoderChild.Release()) LogFreed(_encoder);
    }

    /// <summary>
    /// Brings the node's count of pending encoder inputs up to date with this stream's queue, in steps of
    /// <see cref="PendingStep"/> (and at once when the queue empties): a stream with an input or two in flight, the
    /// usual case, does not touch the shared count for every frame.
    /// </summary>
    private void CountPending()
    {
        if (_encoder.Node is not { } node) return;
        var waiting = _queue.Waiting;
        if (waiting == _pendingCounted || (waiting != 0 && Math.Abs(waiting - _pendingCounted) < PendingStep)) return;
        node.Pending.Update(_pendingCounted, waiting);
        _pendingCounted = waiting;
    }

    protected override SupervisorStrategy SupervisorStrategy() =>
        // The encoder is restarted by this actor's own backoff, not by Akka's restart: stop it and watch.
        // One structured line per crash instead of Akka's stack trace: a crash is an expected event here.
        new OneForOneStrategy(e =>
        {
            Log.Warning("Session {0} stream {1}: encoder crashed: {2}: {3}", _sessionId, _spec.StreamId, e.GetType().Name, e.Message);
            return Directive.Stop;
        }, loggingEnabled: false);

    protected override void PreStart() => ArmIdleTimer();

    // ---- frames ----

    private void OnFrame(Frame frame)
    {
        _meter.FrameIn();
        if (_encoder.Node?.Pending is { } pending && pending.Refuses(_queue.Waiting))
        {
            // Before the intake: the frame is not taken (its seq stays free), so the client may send it again.
            _meter.FrameRejected(RejectReason.NodeFull);
            if (!Sender.IsNobody())
                Sender.Tell(new FrameRejected(_sessionId, _spec.StreamId, frame.Seq, RejectReason.NodeFull,
                    $"the node holds its maximum of {pending.Max} pending encoder inputs"));
            return;
        }
        if (_intake.Admit(frame, _supervision.State, _supervision.Disabled, NowMs, SessionNowUs, _encoder.InputRange) is { } refused)
        {
            _meter.FrameRejected(refused.Reason);
            if (!Sender.IsNobody()) Sender.Tell(new FrameRejected(_sessionId, _spec.StreamId, frame.Seq, refused.Reason, refused.Detail));
            return;
        }
        _meter.FrameAccepted();
        if (frame.TraceParent is { } trace) _pushTrace = trace;
        _recording?.Frame(frame);
        OnActivity();
        if (_budget is not null && _budget.ShedsFrame(frame.EventTimeUs, SessionNowUs))
        {
            // Taken (its seq is used) but over the budget already: it only moves the watermark, so its windows close without it.
            _meter.FrameShedOverBudget();
            _inputs.Skip(frame);
            DrainFramer();
            return;
        }
        var taken = _inputs.Add(frame);
        if (taken.Late) _meter.FrameLate();
        if (taken.TooLate)
        {
            _meter.FrameTooLate();
            _alignment.Tell(new LateEvidence(_sessionId, _spec.StreamId, frame.EventTimeUs, frame.Seq, LateMark.PastAllowedLateness.AsWindowEndUs(), taken.WatermarkUs));
        }
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
        _recording?.Heartbeat(_spec.StreamId, hb.WatermarkUs);
        OnActivity();
        _inputs.Heartbeat(hb.WatermarkUs);
        DrainFramer();
    }

    private void OnClose()
    {
        _recording?.StreamClosed(_spec.StreamId);
        _inputs.Finish();
        DrainFramer();
        Report(_supervision.OnFinished());
        Timers.Cancel("idle");
        _idleTimerOn = false;
        PublishProgress(force: true);
        ReleaseRoomWaiters();
    }

    private void OnActivity()
    {
        _intake.OnActivity(NowMs);
        Report(_supervision.OnActivity());
        if (_supervision.MayRevive(NowMs)) Revive("a frame arrived after the failed cooldown");
        ArmIdleTimer();
    }

    private void DrainFramer()
    {
        // Nothing waits for a failed stream: its inputs are dropped (counted) so the session goes on without it.
        _meter.Shed(_inputs.Drain(shed: _supervision.State == StreamState.Failed));
        SendNextBatch();
        LetGoOfOldVersion();
        PublishProgress();
    }

    // ---- encoder ----

    private void SendNextBatch()
    {
        if (_budget is not null && _queue.CanSend) _meter.InputsShedOverBudget(_queue.ShedOverdue(_budget, SessionNowUs));
        if (!_queue.CanSend || _supervision.EncoderHeldDown && _encoderChild.Current is null) return;
        // No batch is in flight: a reload seen now sets the switch point to the model's new version (docs/models.md).
        if (_encoderChild.MayBeReplaced) FollowModel();
        LetGoOfOldVersion();
        // Retried inputs go to the encoder as before (they failed there), and so does the batch an operator armed to crash.
        if (_repeatsOn && _queue.SingleMode == 0 && !_crashArmed && !ServeRepeats()) return;
        var retry = _queue.SingleMode > 0; // the batch is an input retried alone after a failure
        // While the previous version is held, a batch is all before the switch point (the old version) or all after it.
        var batch = _queue.TakeBatch(NowMs, _encoderChild.SplitAtUs, _repeatsOn ? _repeats.MaxValues : 0)!;
        if (_repeatsOn && !retry) _meter.RepeatMisses(batch.Inputs.Length);
        var encoder = _encoderChild.For(Context, batch.Inputs);
        encoder.Tell(new EncoderActor.Encode(batch.Id, batch.Inputs, retry) { PushTrace = _pushTrace });
        _pushTrace = null;
        // One timer per deadline, not per batch (batches come every few microseconds): it checks the batch in flight then.
        if (!Timers.IsTimerActive("deadline")) Timers.StartSingleTimer("deadline", CheckDeadline.Instance, _deadline);
    }

    /// <summary>
    /// Gives the inputs at the front of the queue that repeat an encoded one exactly their evidence from the
    /// <see cref="RepeatCache"/>, in order, as the encoder would have (no batch is in flight, so nothing overtakes):
    /// health, drift watch and progress see them as encoded inputs. False when none is left for the encoder.
    /// </summary>
    private bool ServeRepeats()
    {
        while (_queue.Next is { } next && _repeats.Find(next, _spec.Modality, VersionFor(next)) is { } evidence)
        {
            (_hitInputs ??= []).Add(_queue.TakeNext());
            (_hitEvidence ??= []).Add(evidence);
        }
        if (_hitInputs is not { Count: > 0 } || _hitEvidence is null) return true;
        var served = _hitEvidence.ToArray();
        _supervision.OnEncoded(_hitInputs);
        _meter.RepeatHits(served.Length);
        _hitInputs.Clear();
        _hitEvidence.Clear();
        if (_drift is not null) WatchDrift(served);
        _alignment.Tell(new AlignmentActor.EvidenceBatch(_spec.StreamId, served, _inputs.PublishWithEvidence(), Health.Reliability));
        ReleaseRoomWaiters();
        return _queue.CanSend;
    }

    /// <summary>
    /// The model version <paramref name="input"/> runs on: the one held for inputs before a switch point, else the one the
    /// stream follows. A repeat is served only from an output of that version.
    /// </summary>
    private string? VersionFor(EncoderInput input) =>
        _encoderChild.Held is { } held && input.StartUs < _encoderChild.SplitAtUs ? held.Model : _encoder.Model;

    /// <summary>
    /// A reload replaced the version of the stream's model: the stream runs the current one from its switch point on,
    /// the first window of the session's grid after the latest input it sent (docs/models.md).
    /// </summary>
    private void FollowModel()
    {
        if (_encoderChild.Follow(Context) is not { } moved) return;
        if (moved.GaveBack is { } gaveBack)
        {
            Log.Info("Session {0} stream {1}: gives {2} back at another reload, held for its inputs before the switch point", _sessionId, _spec.StreamId, gaveBack.Encoder.Model);
            if (gaveBack.Freed) LogFreed(gaveBack.Encoder);
        }
        if (moved.Problem is { } problem)
        {
            Log.Warning("Session {0} stream {1}: model {2} has a new version this stream cannot run; it stays on {3}: {4}",
                _sessionId, _spec.StreamId, _spec.Model, moved.From.Model, problem);
            return;
        }
        _encoder = moved.To;
        // A cached output belongs to the version that made it.
        _repeats.Clear();
        _repeatsOn = _repeats.Serves(_encoder);
        if (_drift is null != (_encoder.DriftMonitoring is null)) _drift = _encoder.DriftMonitoring is { } watch ? new DriftMonitor(watch) : null;
        FusionMetrics.ModelSwitched(_spec.Model);
        if (moved.FromUs is { } fromUs)
            Log.Info("Session {0} stream {1}: {2} -> {3} from the window starting at {4} us ({5} waiting)", _sessionId, _spec.StreamId, moved.From.Model, _encoder.Model, fromUs, _queue.Pending.Count);
        else
            Log.Info("Session {0} stream {1}: {2} -> {3} from the next input ({4} waiting)", _sessionId, _spec.StreamId, moved.From.Model, _encoder.Model, _queue.Pending.Count);
        if (moved.Freed) LogFreed(moved.From);
    }

    /// <summary>
    /// With nothing in flight: gives back the version held for the inputs before the switch point once none of them can
    /// still count (the stream's watermark past the end of the last window before it and the allowed lateness, none waiting), or at once
    /// when <paramref name="force"/>d.
    /// </summary>
    private void LetGoOfOldVersion(bool force = false)
    {
        if (_encoderChild.Held is not { } held || _queue.InFlight is not null && !force) return;
        if (_encoderChild.LetGoOfOld(Context, _inputs.WatermarkUs, _queue.Pending, force) is not { } freed) return;
        Log.Info("Session {0} stream {1}: gives {2} back, held for its inputs before the switch point", _sessionId, _spec.StreamId, held.Model);
        if (freed) LogFreed(held);
    }

    private void LogFreed(ResolvedEncoder retired)
    {
        FusionMetrics.EncoderFreed(_spec.Model);
        Log.Info("Model {0} is retired and no stream runs it any more: its encoder is closed", retired.Model);
    }

    /// <summary>
    /// The encoder has not answered a batch in time: it is given up as failed now, not when its call returns (an
    /// actor stops only between messages). Its late answer, if any, carries an old batch id and is ignored.
    /// </summary>
    private void OnCheckDeadline()
    {
        if (_queue.DeadlineLeft(NowMs, _deadline) is not { } left || _encoderChild.Current is null) return;
        if (left > TimeSpan.Zero)
        {
            Timers.StartSingleTimer("deadline", CheckDeadline.Instance, left);
            return;
        }
        Log.Warning("Session {0} stream {1}: the encoder did not answer a batch of {2} within {3}; counted as a failure",
            _sessionId, _spec.StreamId, _queue.InFlight!.Inputs.Length, _deadline);
        _encoderChild.Stop(Context);
        OnEncoderFailed();
    }

    private void OnEncoded(EncoderActor.Encoded msg)
    {
        var sentAtMs = _queue.InFlight?.SentAtMs ?? NowMs;
        if (_queue.Complete(msg.BatchId) is not { } batch) return; // an answer from before a restart
        _supervision.OnEncoded(batch);
        _budget?.Encoded(NowMs - sentAtMs);
        _meter.Encoded(batch.Length, msg.Millis);
        if (_repeatsOn && msg.Evidence.Count == batch.Length)
            for (var i = 0; i < batch.Length; i++) _repeats.Add(batch[i], msg.Evidence[i]);
        if (_drift is not null) WatchDrift(msg.Evidence);
        _alignment.Tell(new AlignmentActor.EvidenceBatch(_spec.StreamId, msg.Evidence, _inputs.PublishWithEvidence(), Health.Reliability));
        SendNextBatch();
        LetGoOfOldVersion();
        PublishProgress();
        ReleaseRoomWaiters();
    }

    /// <summary>Records each scored input's drift and the window's mean; logs and counts each crossing of the alert threshold once.</summary>
    private void WatchDrift(IReadOnlyList<Evidence> evidence)
    {
        for (var i = 0; i < evidence.Count; i++)
        {
            var d = evidence[i].Drift;
            if (double.IsFinite(d)) FusionMetrics.Drifted(_meter.Tag, d);
            switch (_drift!.Add(d))
            {
                case DriftCrossing.Raised:
                    FusionMetrics.DriftAlert(_meter.Tag);
                    Log.Warning("Session {0} stream {1} ({2}): input drift {3:F2} over the last {4} inputs is above the alert threshold {5}: its inputs are unlike the model's training data",
                        _sessionId, _spec.StreamId, _spec.Modality, _drift.Mean, _drift.Count, _encoder.DriftMonitoring!.AlertThreshold);
                    break;
                case DriftCrossing.Cleared:
                    Log.Info("Session {0} stream {1} ({2}): input drift back to {3:F2}, below the alert threshold {4}",
                        _sessionId, _spec.StreamId, _spec.Modality, _drift.Mean, _encoder.DriftMonitoring!.AlertThreshold);
                    break;
            }
        }
        if (_drift!.Count > 0) FusionMetrics.WindowDrift(_meter.Tag, _drift.Mean);
    }

    private void OnEncoderDied(IActorRef dead)
    {
        if (_encoderChild.Died(dead)) OnEncoderFailed();
    }

    private void OnEncoderFailed()
    {
        _crashArmed = false;
        _repeats.Clear(); // a restarted encoder starts with an empty cache
        _meter.EncoderFailed();
        if (_queue.Fail() is { } failure)
        {
            foreach (var input in failure.Quarantined)
            {
                _meter.Quarantined();
                Log.Warning("Session {0} stream {1}: quarantined input at {2} (frames {3}..{4}) after {5} encoder failures",
                    _sessionId, _spec.StreamId, EventTime.Format(input.StartUs), input.FirstSeq, input.LastSeq, _queue.MaxFailures);
                _alignment.Tell(new LateEvidence(_sessionId, _spec.StreamId, input.StartUs, input.LastSeq, LateMark.Quarantined.AsWindowEndUs(), _inputs.WatermarkUs));
            }
            _meter.Shed(failure.Shed.Count);
        }
        ReleaseRoomWaiters(); // quarantined inputs may have made room
        if (_supervision.OnEncoderFailed(_time.Wall.NowUs, _time.Random.NextDouble(), out var reason, out var spent) is { } delay)
        {
            Report(reason);
            Timers.StartSingleTimer("restart", new RestartEncoder(_encoderChild.Generation), delay);
        }
        else Fail(spent);
        PublishProgress(force: true);
    }

    private void OnRestartTimer()
    {
        if (!_supervision.MayRestart || _encoderChild.Current is not null) return;
        _encoderChild.Start(Context);
        _meter.EncoderRestarted();
        Report(_supervision.OnEncoderUp());
        SendNextBatch();
        PublishProgress(force: true);
    }

    private void Fail(string reason)
    {
        Timers.Cancel("restart");
        // Nothing waits for a failed stream: its inputs are dropped (counted) so the session goes on without it.
        _meter.Shed(_queue.ShedAll());
        Report(_supervision.Fail(NowMs, reason));
        ReleaseRoomWaiters();
    }

    private void Disable()
    {
        _supervision.Disabled = true;
        _repeats.Clear();
        Fail("disabled by an operator");
        if (_encoderChild.Stop(Context)) _meter.Shed(_queue.DropInFlight());
        PublishProgress(force: true);
        Sender.Tell(new Akka.Actor.Status.Success($"stream {_spec.StreamId} disabled"));
    }

    private void Revive(string reason)
    {
        if (!_supervision.Revive(reason, out var report)) return;
        Report(report);
        Timers.StartSingleTimer("restart", new RestartEncoder(_encoderChild.Generation), _supervision.ReviveDelay);
    }

    private void CrashEncoderNow()
    {
        _crashArmed = true;
        (_encoderChild.Current ?? _encoderChild.Start(Context)).Tell(EncoderActor.CrashNext.Instance);
        Sender.Tell(new Akka.Actor.Status.Success($"the next batch of {_spec.StreamId} will crash its encoder"));
    }

    // ---- room, idleness and progress ----

    private void ReleaseRoomWaiters()
    {
        if (_roomWaiters.Count == 0) return;
        foreach (var (session, id) in _roomWaiters.Release(_queue.HasRoom(_supervision.NothingWillWait))) session.Tell(new Room(id));
    }

    private void ArmIdleTimer()
    {
        if (_idleTimerOn || _supervision.State == StreamState.Finished) return;
        if (!DrivenClock.Drives(_time.Monotonic)) Timers.StartPeriodicTimer("idle", IdleCheck.Instance, StreamIntake.IdleCheckEvery(_spec.IdleTimeout));
        _idleTimerOn = true;
    }

    private void CheckIdle()
    {
        _recording?.Clock(ClockSource.IdleCheck, _spec.StreamId);
        // A stream the server itself is holding back (inputs waiting for the encoder) is never idle.
        if (_intake.SilentFor(NowMs, _spec.IdleTimeout) is not { } silentMs || !_queue.IsEmpty) return;
        Report(_supervision.OnIdle(silentMs));
        if (_supervision.State == StreamState.Active) return;
        Timers.Cancel("idle");
        _idleTimerOn = false;
    }

    private void PublishProgress(bool force = false)
    {
        if (_inputs.Progress(force) is { } complete) _alignment.Tell(new AlignmentActor.EvidenceBatch(_spec.StreamId, [], complete, Health.Reliability));
    }

    /// <summary>Logs and publishes a change of the stream's state; null when it did not change.</summary>
    private void Report(string? reason)
    {
        if (reason is null) return;
        Log.Info("Session {0} stream {1} ({2}) is {3}: {4}", _sessionId, _spec.StreamId, _spec.Modality, Health.State, reason);
        _alignment.Tell(new AlignmentActor.StreamHealthChanged(_spec.StreamId, Health.State, Health.Reliability, reason));
    }

    private StreamStatus Status() => StatusOf(_sessionId, _spec, _encoder, _intake, _inputs, _supervision, _meter, _drift);

    private static StreamStatus StatusOf(string sessionId, StreamSpec spec, ResolvedEncoder encoder, StreamIntake intake, StreamInputs inputs,
        EncoderSupervision supervision, StreamMeter meter, DriftMonitor? drift) =>
        new(sessionId, spec.StreamId, spec.Modality, supervision.Health.State, supervision.Health.Reliability,
            inputs.WatermarkUs, inputs.CompleteThrough(), inputs.Queue.Waiting, meter.Snapshot(intake.Seqs.Skipped))
        {
            Drift = drift is null ? null
                : new StreamDrift(drift.Last, drift.Mean, drift.Count, encoder.DriftMonitoring!.AlertThreshold, drift.Alerting, drift.Alerts, drift.Scored),
        };
}
