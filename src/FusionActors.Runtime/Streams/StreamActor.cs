using Akka.Actor;
using Akka.Event;
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
using FusionActors.Runtime.Sessions;

namespace FusionActors.Runtime.Streams;

/// <summary>
/// One sensor stream of a session: dedupes by seq, validates, frames, keeps the stream watermark and
/// health, and is the backoff supervisor of its <see cref="EncoderActor"/>. One batch is in the encoder at
/// a time; inputs queue in a capped buffer meanwhile (micro-batching falls out of that). A failed batch is
/// retried input by input; an input that failed 3 times is quarantined. Past the restart budget the stream
/// is Failed and the session fuses without it. Evidence goes to the alignment with how far this stream's
/// evidence is complete, so windows close only when every live stream's evidence is in.
/// </summary>
public sealed class StreamActor : UntypedActor, IWithTimers
{
    private readonly string _sessionId;
    private readonly StreamSpec _spec;
    private readonly IActorRef _alignment;
    private readonly ResolvedEncoder _encoder;
    private readonly BackoffPolicy _backoff;
    private long _clockOffsetUs;
    private ILoggingAdapter? _logger;

    private readonly SeqTracker _seqs;
    private readonly StreamWatermark _watermark;
    private readonly IFramer _framer;
    private readonly StreamHealth _health = new();
    private readonly RestartBudget _budget;
    private readonly QuarantineTracker _quarantine = new();
    private readonly Deque<EncoderInput> _pending = new();
    private readonly Counters _counters = new();

    private IActorRef? _encoderActor;
    private int _encoderGeneration;
    private EncoderInput[]? _inFlight;
    private long _inFlightSince; // Environment.TickCount64 when the batch in flight was sent
    private long _batchId;
    private int _singleMode;
    private long _lastActivityTicks = Environment.TickCount64;
    private long _failedAtTicks;
    private long _publishedCompleteUs = EventTime.MinusInfinity;
    private bool _idleTimerOn;
    private bool _disabled;
    private long _dropUntilTicks;
    private List<(IActorRef Session, long Id)>? _roomWaiters;

    public StreamActor(string sessionId, StreamSpec spec, SessionSpec session, IActorRef alignment, ResolvedEncoder encoder,
        BackoffPolicy backoff, long clockOffsetUs, long firstSeq = 0, long[]? heldBelow = null)
    {
        _sessionId = sessionId;
        _spec = spec;
        _alignment = alignment;
        _encoder = encoder;
        _backoff = backoff;
        _clockOffsetUs = clockOffsetUs;
        _seqs = new SeqTracker(spec.MaxSeqAhead, firstSeq, heldBelow);
        _metricTag = FusionMetrics.TagFor(spec.Modality);
        _watermark = new StreamWatermark(spec.MaxOutOfOrdernessUs);
        _budget = new RestartBudget(backoff);
        _framer = spec.Framing.Kind == FramingKind.Windowed
            ? new WindowedFramer(spec.StreamId, spec.Framing.LengthUs, spec.Framing.HopUs, spec.SampleRateHz, session.StartUs, session.AllowedLatenessUs)
            : new PerFrameFramer(spec.StreamId, spec.FrameDurationUs);

    }

    private readonly string _metricTag; // the modality as the node's metrics name it (bounded)

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
            case RestartEncoder r: OnRestartTimer(r); break;
            case CheckDeadline: OnCheckDeadline(); break;
            case CrashEncoder: CrashEncoderNow(); break;
            case RestartStream: Revive("operator restart"); break;
            case DisableStream: Disable(); break;
            case EnableStream:
                _disabled = false;
                Revive("enabled by an operator");
                Sender.Tell(new Akka.Actor.Status.Success($"stream {_spec.StreamId} enabled"));
                break;
            case DropFrames d:
                _dropUntilTicks = Environment.TickCount64 + (long)d.Duration.TotalMilliseconds;
                Log.Warning("Session {0} stream {1}: chaos drill drops every frame for {2}", _sessionId, _spec.StreamId, d.Duration);
                Sender.Tell(new Akka.Actor.Status.Success($"stream {_spec.StreamId} drops frames for {d.Duration.TotalSeconds:0.#} s"));
                break;
            case GetStatus: Sender.Tell(Status()); break;
            case ClockOffsetChanged c: _clockOffsetUs = c.OffsetUs; break;
            case AwaitRoom r:
                if (HasRoom()) Sender.Tell(new Room(r.Id));
                else (_roomWaiters ??= []).Add((Sender, r.Id));
                break;
            default: Unhandled(message); break;
        }
    }

    private ILoggingAdapter Log => _logger ??= Context.GetLogger();

    public static Props Props(string sessionId, StreamSpec spec, SessionSpec session, IActorRef alignment, ResolvedEncoder encoder,
        BackoffPolicy backoff, long clockOffsetUs, long firstSeq = 0, long[]? heldBelow = null) =>
        ActorFactory.Props(() => new StreamActor(sessionId, spec, session, alignment, encoder, backoff, clockOffsetUs, firstSeq, heldBelow));

    protected override SupervisorStrategy SupervisorStrategy() =>
        // The encoder is restarted by this actor's own backoff, not by Akka's restart: stop it and watch.
        // One structured line per crash instead of Akka's stack trace: a crash is an expected event here.
        new OneForOneStrategy(e =>
        {
            Log.Warning("Session {0} stream {1}: encoder crashed: {2}: {3}", _sessionId, _spec.StreamId, e.GetType().Name, e.Message);
            return Directive.Stop;
        }, loggingEnabled: false);

    protected override void PreStart()
    {
        ArmIdleTimer();
    }

    // ---- frames ----

    private void OnFrame(Frame frame)
    {
        _counters.FramesIn++;
        FusionMetrics.FrameIn(_metricTag);
        if (_health.State == StreamState.Finished)
        {
            Reject(frame, RejectReason.StreamFinished, "the stream was closed");
            return;
        }
        if (_disabled)
        {
            Reject(frame, RejectReason.StreamDisabled, "an operator disabled the stream");
            return;
        }
        if (_dropUntilTicks > Environment.TickCount64)
        {
            // A drill: the frame is lost as in a sensor outage, but counted and answered, never silent.
            Reject(frame, RejectReason.ChaosDropped, "chaos drill: the stream drops its frames");
            return;
        }
        var problem = FrameValidator.Validate(_spec, frame, ServerClock.NowUs() - _clockOffsetUs, _encoder.InputRange);
        if (problem is { } p)
        {
            Reject(frame, p.Reason, p.Detail);
            return;
        }
        switch (_seqs.Take(frame.Seq))
        {
            case SeqCheck.Duplicate:
                Reject(frame, RejectReason.Duplicate, $"seq {frame.Seq} was already taken");
                return;
            case SeqCheck.OutOfRange:
                Reject(frame, RejectReason.SeqOutOfRange,
                    $"seq {frame.Seq} is outside [{_seqs.LowestMissing}, {_seqs.LowestMissing + _spec.MaxSeqAhead})");
                return;
        }
        _counters.FramesAccepted++;
        OnActivity();

        if (_watermark.IsLate(frame.EventTimeUs)) _counters.FramesLate++;
        if (_watermark.IsLate(frame.EventTimeUs)) FusionMetrics.FrameLate(_metricTag);
        var fate = _framer.Add(frame, _watermark.CurrentUs);
        if (fate == FrameFate.TooLate)
        {
            _counters.FramesTooLate++;
            FusionMetrics.FrameTooLate(_metricTag);
            _alignment.Tell(new LateEvidence(_sessionId, _spec.StreamId, frame.EventTimeUs, frame.Seq, -1, _watermark.CurrentUs));
        }
        _watermark.OnEvent(frame.EventTimeUs);
        DrainFramer();
    }

    private void OnHeartbeat(StreamHeartbeat hb)
    {
        var now = ServerClock.NowUs() - _clockOffsetUs;
        if (hb.WatermarkUs > now + _spec.MaxFutureSkewUs)
        {
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
        _lastActivityTicks = Environment.TickCount64;
        if (_health.OnActivity()) Report("a frame arrived");
        if (_health.State == StreamState.Failed && Environment.TickCount64 - _failedAtTicks >= (long)_backoff.FailedCooldown.TotalMilliseconds)
            Revive("a frame arrived after the failed cooldown");
        ArmIdleTimer();
    }

    private void DrainFramer()
    {
        while (_framer.TryTake(_watermark.CurrentUs, out var input)) Enqueue(input);
        SendNextBatch();
        PublishProgress();
    }

    private void Enqueue(EncoderInput input)
    {
        if (_health.State == StreamState.Failed)
        {
            _counters.InputsShed++;
            FusionMetrics.Shed(_metricTag, 1);
            return;
        }
        if (_pending.Count >= _spec.MaxPendingInputs)
        {
            if (_spec.Overflow == OverflowPolicy.DropNewest)
            {
                _counters.InputsShed++;
                FusionMetrics.Shed(_metricTag, 1);
                return;
            }
            // Drop the oldest input not reserved for a retry.
            _pending.RemoveFirst();
            _counters.InputsShed++;
            FusionMetrics.Shed(_metricTag, 1);
        }
        _pending.AddLast(input);
    }

    // ---- encoder ----

    private void SendNextBatch()
    {
        if (_inFlight is not null || _pending.Count == 0) return;
        if (_health.State is StreamState.Restarting or StreamState.Failed && _encoderActor is null) return;
        if (_encoderActor is null) StartEncoder();
        var size = _singleMode > 0 ? 1 : Math.Min(_spec.MaxBatch, _pending.Count);
        var batch = new EncoderInput[size];
        for (var i = 0; i < size; i++)
        {
            batch[i] = _pending.RemoveFirst();
        }
        if (_singleMode > 0) _singleMode--;
        _inFlight = batch;
        _encoderActor!.Tell(new EncoderActor.Encode(++_batchId, batch));
        _inFlightSince = Environment.TickCount64;
        // One timer per deadline, not per batch (batches come every few microseconds): it checks the batch in flight then.
        if (!Timers.IsTimerActive("deadline")) Timers.StartSingleTimer("deadline", CheckDeadline.Instance, _backoff.EncodeDeadline);
    }

    /// <summary>
    /// The encoder has not answered a batch in time: it is given up as failed now, not when its call returns (an
    /// actor stops only between messages). Its late answer, if any, carries an old batch id and is ignored.
    /// </summary>
    private void OnCheckDeadline()
    {
        if (_inFlight is null || _encoderActor is not { } stalled) return;
        var waited = TimeSpan.FromMilliseconds(Environment.TickCount64 - _inFlightSince);
        if (waited < _backoff.EncodeDeadline)
        {
            Timers.StartSingleTimer("deadline", CheckDeadline.Instance, _backoff.EncodeDeadline - waited);
            return;
        }
        Log.Warning("Session {0} stream {1}: the encoder did not answer a batch of {2} within {3}; counted as a failure",
            _sessionId, _spec.StreamId, _inFlight.Length, _backoff.EncodeDeadline);
        Context.Unwatch(stalled);
        Context.Stop(stalled);
        OnEncoderDied(stalled);
    }

    private void OnEncoded(EncoderActor.Encoded msg)
    {
        if (_inFlight is null || msg.BatchId != _batchId) return; // an answer from before a restart
        var batch = _inFlight;
        _inFlight = null;
        foreach (var input in batch)
        {
            _quarantine.Forget(input.StartUs, input.Revision);
            _health.RecordSuccess(input.Coverage, input.Revision == 0);
        }
        _budget.OnSuccess();
        _counters.InputsEncoded += batch.Length;
        _counters.Batches++;
        _counters.EncodeMillis += msg.Millis;
        FusionMetrics.Encoded(_metricTag, msg.Millis, batch.Length);
        var complete = CompleteThrough();
        _publishedCompleteUs = complete;
        _alignment.Tell(new AlignmentActor.EvidenceBatch(_spec.StreamId, msg.Evidence, complete, _health.Reliability));
        SendNextBatch();
        PublishProgress();
        ReleaseRoomWaiters();
    }

    /// <summary>
    /// Room for another batch from a client's frame sink: fewer inputs wait for the encoder than half the cap
    /// (so a full-speed client is held back before anything is shed), or nothing will wait because the stream
    /// is failed, finished or disabled (its frames are then refused or dropped, counted, without delay).
    /// </summary>
    private bool HasRoom() =>
        _pending.Count + (_inFlight?.Length ?? 0) < Math.Max(1, _spec.MaxPendingInputs / 2)
        || _health.State is StreamState.Failed or StreamState.Finished || _disabled;

    private void ReleaseRoomWaiters()
    {
        if (_roomWaiters is not { Count: > 0 } || !HasRoom()) return;
        foreach (var (session, id) in _roomWaiters) session.Tell(new Room(id));
        _roomWaiters.Clear();
    }

    private void StartEncoder()
    {
        var props = EncoderActor.Props(_encoder, _spec.Modality).WithDispatcher(DispatcherFor(Context.System));
        _encoderActor = Context.Watch(Context.ActorOf(props, $"encoder-{++_encoderGeneration}"));
    }

    private static string DispatcherFor(ActorSystem system) =>
        system.Dispatchers.HasDispatcher(EncoderActor.DispatcherId) ? EncoderActor.DispatcherId : Akka.Dispatch.Dispatchers.DefaultDispatcherId;

    private void OnEncoderDied(IActorRef dead)
    {
        if (!dead.Equals(_encoderActor)) return;
        _encoderActor = null;
        _counters.EncoderFailures++;
        FusionMetrics.EncoderFailed(_metricTag);
        _health.RecordFailure();
        if (_inFlight is { } batch)
        {
            _inFlight = null;
            var retry = new List<EncoderInput>();
            foreach (var input in batch)
            {
                if (_quarantine.RecordFailure(input.StartUs, input.Revision))
                {
                    _counters.Quarantined++;
                    FusionMetrics.InputQuarantined(_metricTag);
                    Log.Warning("Session {0} stream {1}: quarantined input at {2} (frames {3}..{4}) after {5} encoder failures",
                        _sessionId, _spec.StreamId, EventTime.Format(input.StartUs), input.FirstSeq, input.LastSeq, _quarantine.MaxFailures);
                    _alignment.Tell(new LateEvidence(_sessionId, _spec.StreamId, input.StartUs, input.LastSeq, -2, _watermark.CurrentUs));
                }
                else retry.Add(input);
            }
            // Retry one by one so the poison input is found and good inputs are not blamed.
            for (var i = retry.Count - 1; i >= 0; i--) _pending.AddFirst(retry[i]);
            _singleMode = Math.Max(_singleMode, retry.Count);
            // Retries count against the cap like any waiting input.
            while (_pending.Count > _spec.MaxPendingInputs)
            {
                if (_spec.Overflow == OverflowPolicy.DropOldest) _pending.RemoveFirst();
                else _pending.RemoveLast();
                _counters.InputsShed++;
                FusionMetrics.Shed(_metricTag, 1);
            }
            _singleMode = Math.Min(_singleMode, _pending.Count);
        }
        ReleaseRoomWaiters(); // quarantined inputs may have made room

        if (_budget.TryRestart(DateTimeOffset.UtcNow))
        {
            var delay = _backoff.Delay(_budget.Consecutive - 1, Random.Shared.NextDouble());
            if (_health.OnEncoderDown()) Report($"encoder failed; restart in {delay.TotalMilliseconds:0} ms");
            Timers.StartSingleTimer("restart", new RestartEncoder(_encoderGeneration), delay);
        }
        else
        {
            Fail($"restart budget spent ({_backoff.MaxRestarts} restarts within {_backoff.Within})");
        }
        PublishProgress(force: true);
    }

    private void OnRestartTimer(RestartEncoder msg)
    {
        if (_health.State != StreamState.Restarting || _encoderActor is not null) return;
        StartEncoder();
        _counters.EncoderRestarts++;
        FusionMetrics.EncoderRestarted(_metricTag);
        if (_health.OnEncoderUp()) Report("encoder restarted");
        SendNextBatch();
        PublishProgress(force: true);
    }

    private void Fail(string reason)
    {
        _failedAtTicks = Environment.TickCount64;
        Timers.Cancel("restart");
        // Nothing waits for a failed stream: its inputs are dropped (counted) so the session goes on without it.
        _counters.InputsShed += _pending.Count;
        FusionMetrics.Shed(_metricTag, _pending.Count);
        _pending.Clear();
        _singleMode = 0;
        if (_health.OnBudgetSpent()) Report(reason);
        ReleaseRoomWaiters();
    }

    private void Disable()
    {
        _disabled = true;
        Fail("disabled by an operator");
        if (_encoderActor is not null)
        {
            Context.Unwatch(_encoderActor);
            Context.Stop(_encoderActor);
            _encoderActor = null;
            _counters.InputsShed += _inFlight?.Length ?? 0;
            FusionMetrics.Shed(_metricTag, _inFlight?.Length ?? 0);
            _inFlight = null;
        }
        PublishProgress(force: true);
        Sender.Tell(new Akka.Actor.Status.Success($"stream {_spec.StreamId} disabled"));
    }

    private void Revive(string reason)
    {
        if (_health.State != StreamState.Failed || _disabled) return;
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
        var every = TimeSpan.FromTicks(Math.Max(TimeSpan.FromMilliseconds(5).Ticks, _spec.IdleTimeout.Ticks / 4));
        Timers.StartPeriodicTimer("idle", IdleCheck.Instance, every);
        _idleTimerOn = true;
    }

    private void CheckIdle()
    {
        var silentMs = Environment.TickCount64 - _lastActivityTicks;
        if (silentMs < _spec.IdleTimeout.TotalMilliseconds) return;
        // A stream the server itself is holding back (inputs waiting for the encoder) is never idle.
        if (_pending.Count > 0 || _inFlight is not null) return;
        if (_health.OnIdle()) Report($"no frame or heartbeat for {silentMs} ms");
        if (_health.State != StreamState.Active)
        {
            Timers.Cancel("idle");
            _idleTimerOn = false;
        }
    }

    /// <param name="floor">The caller only asks whether the result exceeds this: the scan stops once it cannot.</param>
    private long CompleteThrough(long floor = EventTime.MinusInfinity)
    {
        var complete = _framer.CompleteThroughUs(_watermark.CurrentUs);
        // The batch in the encoder first: it holds the earliest inputs, so after it the scan usually stops at once.
        if (_inFlight is not null)
            foreach (var i in _inFlight) complete = Math.Min(complete, i.StartUs - 1);
        // A scan, not a sorted index: the queue is capped and short, and a scan allocates nothing per frame.
        foreach (var i in _pending)
        {
            if (complete <= floor) break;
            complete = Math.Min(complete, i.StartUs - 1);
        }
        return complete;
    }

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
        _counters.Reject(reason);
        FusionMetrics.FrameRejected(_metricTag, reason);
        if (!Sender.IsNobody()) Sender.Tell(new FrameRejected(_sessionId, _spec.StreamId, frame.Seq, reason, detail));
    }

    private StreamStatus Status() => new(_sessionId, _spec.StreamId, _spec.Modality, _health.State, _health.Reliability,
        _watermark.CurrentUs, CompleteThrough(), _pending.Count + (_inFlight?.Length ?? 0), _counters.Snapshot(_seqs.Skipped));

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

    private sealed class Counters
    {
        private Dictionary<RejectReason, long>? _rejected; // most streams never reject anything
        public long FramesIn, FramesAccepted, FramesLate, FramesTooLate, InputsEncoded, InputsShed, EncoderFailures, EncoderRestarts, Quarantined, Batches;
        public double EncodeMillis;

        public void Reject(RejectReason reason)
        {
            _rejected ??= new Dictionary<RejectReason, long>();
            _rejected[reason] = _rejected.GetValueOrDefault(reason) + 1;
        }

        /// <param name="seqsSkipped">Kept by the stream's seq tracker, not counted here.</param>
        public StreamCounters Snapshot(long seqsSkipped) => new()
        {
            FramesIn = FramesIn, FramesAccepted = FramesAccepted, Rejected = _rejected is null ? new Dictionary<RejectReason, long>() : new Dictionary<RejectReason, long>(_rejected),
            FramesLate = FramesLate, FramesTooLate = FramesTooLate, InputsEncoded = InputsEncoded, InputsShed = InputsShed,
            EncoderFailures = EncoderFailures, EncoderRestarts = EncoderRestarts, Quarantined = Quarantined,
            EncodeMillisTotal = EncodeMillis, Batches = Batches, SeqsSkipped = seqsSkipped,
        };
    }
}
