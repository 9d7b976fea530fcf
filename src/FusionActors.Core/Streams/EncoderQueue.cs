using FusionActors.Core.Supervision;
using FusionActors.Core.Time;
using FusionActors.Protocol.Specs;

namespace FusionActors.Core.Streams;

/// <summary>A batch given to the encoder: its id (an answer carrying another is stale), its inputs, and when it was sent.</summary>
public sealed record EncoderBatch(long Id, EncoderInput[] Inputs, long SentAtMs);

/// <summary>What a failed batch came to: inputs quarantined, inputs put back to be retried alone, inputs shed to keep the cap.</summary>
public sealed record BatchFailure(IReadOnlyList<EncoderInput> Quarantined, int Retried, IReadOnlyList<EncoderInput> Shed);

/// <summary>
/// The inputs of one stream waiting for its encoder. Inputs queue in a capped buffer with an overflow policy; one
/// batch (at most <c>maxBatch</c> inputs) is in the encoder at a time, so micro-batching falls out of how long the
/// encoder takes. A failed batch goes back to the front to be retried input by input, so the input that fails is
/// found and the others are not blamed; an input that failed <see cref="MaxFailures"/> times is quarantined.
/// Every input given to <see cref="Enqueue"/> leaves exactly once: encoded (<see cref="Complete"/>), given its evidence
/// without the encoder (<see cref="TakeNext"/>), quarantined, or shed (overflow, <see cref="ShedAll"/>, <see cref="DropInFlight"/>, <see cref="ShedOverdue"/>). No clock: times come in as arguments.
/// </summary>
public sealed class EncoderQueue
{
    private readonly int _maxPending;
    private readonly OverflowPolicy _overflow;
    private readonly int _maxBatch;
    private readonly QuarantineTracker _quarantine;
    private readonly Deque<EncoderInput> _pending = new();
    private EncoderBatch? _inFlight;
    private long _lastBatchId;
    private int _singleMode;

    public EncoderQueue(int maxPending, OverflowPolicy overflow, int maxBatch, QuarantineTracker? quarantine = null)
    {
        if (maxPending < 1) throw new ArgumentOutOfRangeException(nameof(maxPending), maxPending, "at least one input must fit");
        if (maxBatch < 1) throw new ArgumentOutOfRangeException(nameof(maxBatch), maxBatch, "a batch holds at least one input");
        _maxPending = maxPending;
        _overflow = overflow;
        _maxBatch = maxBatch;
        _quarantine = quarantine ?? new QuarantineTracker();
    }

    /// <summary>The queue a stream's spec asks for: its pending cap, overflow policy and batch size.</summary>
    public static EncoderQueue For(StreamSpec spec) => new(spec.MaxPendingInputs, spec.Overflow, spec.MaxBatch);

    /// <summary>Inputs waiting to be sent, oldest first.</summary>
    public IReadOnlyCollection<EncoderInput> Pending => _pending;

    /// <summary>The batch in the encoder, if any.</summary>
    public EncoderBatch? InFlight => _inFlight;

    /// <summary>Inputs the stream holds for the encoder: waiting and in flight.</summary>
    public int Waiting => _pending.Count + (_inFlight?.Inputs.Length ?? 0);

    /// <summary>Nothing waits and nothing is in the encoder.</summary>
    public bool IsEmpty => _pending.Count == 0 && _inFlight is null;

    /// <summary>A batch can be sent: none is in flight and an input waits.</summary>
    public bool CanSend => _inFlight is null && _pending.Count > 0;

    /// <summary>Retried inputs still to be sent one per batch.</summary>
    public int SingleMode => _singleMode;

    public int MaxFailures => _quarantine.MaxFailures;

    /// <summary>
    /// Room for a producer to push more: fewer inputs wait than half the cap, so a full-speed producer is held back
    /// before anything is shed; or <paramref name="nothingWillWait"/> (its inputs are refused or dropped anyway).
    /// </summary>
    public bool HasRoom(bool nothingWillWait = false) => Waiting < Math.Max(1, _maxPending / 2) || nothingWillWait;

    /// <summary>Queues an input; returns the input the overflow policy shed to keep the cap (the new one or the oldest), if any.</summary>
    public EncoderInput? Enqueue(EncoderInput input)
    {
        EncoderInput? shed = null;
        if (_pending.Count >= _maxPending)
        {
            if (_overflow == OverflowPolicy.DropNewest) return input;
            shed = _pending.RemoveFirst();
        }
        _pending.AddLast(input);
        return shed;
    }

    /// <summary>
    /// Sheds the waiting inputs at the front (the oldest) that would be encoded over <paramref name="budget"/> if sent at
    /// <paramref name="nowUs"/>, up to the first that would not; when none would be on time, only those late already
    /// (<see cref="DeliveryBudget"/>). Returns how many were shed. Retried inputs wait at the front and are shed like the
    /// others.
    /// </summary>
    public int ShedOverdue(DeliveryBudget budget, long nowUs)
    {
        // Inputs wait in the order they were made, oldest first: the first on time by the estimate ends the shedding.
        var onTime = -1;
        var k = 0;
        foreach (var input in _pending)
        {
            if (!budget.WouldBeLate(input, nowUs))
            {
                onTime = k;
                break;
            }
            k++;
        }
        var n = 0;
        while (_pending.Count > 0 && (onTime >= 0 ? n < onTime : budget.IsLate(_pending.First, nowUs)))
        {
            _pending.RemoveFirst();
            if (_singleMode > 0) _singleMode--;
            n++;
        }
        return n;
    }

    /// <summary>The input the next batch starts with, when one can be sent (none in flight); null otherwise.</summary>
    public EncoderInput? Next => CanSend ? _pending.First : null;

    /// <summary>
    /// Takes <see cref="Next"/> out of the queue as done without the encoder (its caller has its evidence: an exact
    /// repeat of an encoded input). Only while no batch is in flight, so inputs still leave in order.
    /// </summary>
    public EncoderInput TakeNext()
    {
        if (!CanSend) throw new InvalidOperationException("an input is taken only while no batch is in flight and one waits");
        var input = _pending.RemoveFirst();
        if (_singleMode > 0) _singleMode--;
        _quarantine.Forget(input.StartUs, input.Revision);
        return input;
    }

    /// <summary>
    /// Takes the next batch into flight, sent at <paramref name="nowMs"/>: one input while retried inputs are sent
    /// alone, else up to the batch size. Null when a batch is already in flight or nothing waits.
    /// </summary>
    /// <param name="nowMs">When the batch is sent.</param>
    /// <param name="splitAtUs">
    /// When given, the batch holds only inputs on the same side of this time as the first one waiting (all starting
    /// before it, or all at or after it): the stream's switch point to another version of its model.
    /// </param>
    /// <param name="repeatsUpTo">
    /// Inputs of at most this many values end the batch before one that repeats the input before it bit for bit: the
    /// repeat stays first in the queue, for its stream to give it the evidence of the one just sent (a frozen camera's
    /// burst costs one model input, not one per frame). 0 = never (no repeat cache).
    /// </param>
    public EncoderBatch? TakeBatch(long nowMs, long? splitAtUs = null, int repeatsUpTo = 0)
    {
        if (!CanSend) return null;
        var size = _singleMode > 0 ? 1 : Math.Min(_maxBatch, _pending.Count);
        if (size > 1 && (splitAtUs is not null || repeatsUpTo > 0))
        {
            // A scan, not a copy: the batch ends where the inputs cross the switch point, or before one that repeats its predecessor.
            var before = splitAtUs is { } first && _pending.First.StartUs < first;
            var k = 0;
            float[]? previous = null;
            foreach (var input in _pending)
            {
                if (k == size) break;
                if (splitAtUs is { } split && input.StartUs < split != before) break;
                if (repeatsUpTo > 0 && previous is not null && input.Values.Length <= repeatsUpTo && SameBits(previous, input.Values)) break;
                previous = input.Values;
                k++;
            }
            size = k;
        }
        var inputs = new EncoderInput[size];
        for (var i = 0; i < size; i++) inputs[i] = _pending.RemoveFirst();
        if (_singleMode > 0) _singleMode--;
        _inFlight = new EncoderBatch(++_lastBatchId, inputs, nowMs);
        return _inFlight;
    }

    private static bool SameBits(float[] a, float[] b) =>
        a.Length == b.Length && System.Runtime.InteropServices.MemoryMarshal.AsBytes(a.AsSpan()).SequenceEqual(System.Runtime.InteropServices.MemoryMarshal.AsBytes(b.AsSpan()));

    /// <summary>
    /// The encoder answered batch <paramref name="batchId"/>: returns its inputs, now encoded (their failures are
    /// forgotten), or null when that is not the batch in flight (an answer from before a restart).
    /// </summary>
    public EncoderInput[]? Complete(long batchId)
    {
        if (_inFlight is not { } batch || batch.Id != batchId) return null;
        _inFlight = null;
        foreach (var input in batch.Inputs) _quarantine.Forget(input.StartUs, input.Revision);
        return batch.Inputs;
    }

    /// <summary>
    /// The batch in flight failed. Each of its inputs counts a failure: one that reached <see cref="MaxFailures"/> is
    /// quarantined, the others go back to the front in order, to be sent one per batch. Retries count against the cap
    /// like any waiting input. Null when no batch was in flight.
    /// </summary>
    public BatchFailure? Fail()
    {
        if (_inFlight is not { } batch) return null;
        _inFlight = null;
        List<EncoderInput>? quarantined = null, retry = null;
        foreach (var input in batch.Inputs)
        {
            if (_quarantine.RecordFailure(input.StartUs, input.Revision)) (quarantined ??= []).Add(input);
            else (retry ??= []).Add(input);
        }
        var retried = retry?.Count ?? 0;
        for (var i = retried - 1; i >= 0; i--) _pending.AddFirst(retry![i]);
        _singleMode = Math.Max(_singleMode, retried);
        List<EncoderInput>? shed = null;
        while (_pending.Count > _maxPending)
            (shed ??= []).Add(_overflow == OverflowPolicy.DropOldest ? _pending.RemoveFirst() : _pending.RemoveLast());
        _singleMode = Math.Min(_singleMode, _pending.Count);
        return new BatchFailure(quarantined is null ? [] : quarantined, retried, shed is null ? [] : shed);
    }

    /// <summary>
    /// How long the batch in flight may still take at <paramref name="nowMs"/> before it is past
    /// <paramref name="deadline"/>: zero once it is; null when no batch is in flight.
    /// </summary>
    public TimeSpan? DeadlineLeft(long nowMs, TimeSpan deadline)
    {
        if (_inFlight is null) return null;
        var left = deadline - TimeSpan.FromMilliseconds(nowMs - _inFlight.SentAtMs);
        return left > TimeSpan.Zero ? left : TimeSpan.Zero;
    }

    /// <summary>Gives up the batch in flight without counting a failure (its encoder was stopped); returns how many inputs it held.</summary>
    public int DropInFlight()
    {
        var n = _inFlight?.Inputs.Length ?? 0;
        _inFlight = null;
        return n;
    }

    /// <summary>Drops every waiting input (the batch in flight stays) and ends retrying alone; returns how many were dropped.</summary>
    public int ShedAll()
    {
        var n = _pending.Count;
        _pending.Clear();
        _singleMode = 0;
        return n;
    }

    /// <summary>
    /// How far evidence is complete given that the framer has taken every input through <paramref name="framerCompleteUs"/>:
    /// just before the earliest input still waiting or in flight.
    /// </summary>
    /// <param name="floor">The caller only asks whether the result exceeds this: the scan stops once it cannot.</param>
    public long CompleteThrough(long framerCompleteUs, long floor = EventTime.MinusInfinity)
    {
        var complete = framerCompleteUs;
        // The batch in flight first: it holds the earliest inputs, so after it the scan usually stops at once.
        if (_inFlight is not null)
            foreach (var i in _inFlight.Inputs) complete = Math.Min(complete, i.StartUs - 1);
        // A scan, not a sorted index: the queue is capped and short, and a scan allocates nothing per frame.
        foreach (var i in _pending)
        {
            if (complete <= floor) break;
            complete = Math.Min(complete, i.StartUs - 1);
        }
        return complete;
    }
}

/// <summary>
/// Producers waiting for room in an <see cref="EncoderQueue"/>: one is answered at once when there is room, else
/// held until a <see cref="Release"/> finds room, which wakes every one held.
/// </summary>
public sealed class RoomWaiters<T>
{
    private List<T>? _held; // most streams never hold anyone

    public int Count => _held?.Count ?? 0;

    /// <summary>True when <paramref name="waiter"/> may go on now; false when it is held.</summary>
    public bool Await(T waiter, bool hasRoom)
    {
        if (hasRoom) return true;
        (_held ??= []).Add(waiter);
        return false;
    }

    /// <summary>The waiters to wake: every one held once there is room, none before.</summary>
    public IReadOnlyList<T> Release(bool hasRoom)
    {
        if (_held is not { Count: > 0 } || !hasRoom) return [];
        var woken = _held.ToArray();
        _held.Clear();
        return woken;
    }
}
