using System.Diagnostics;
using FusionActors.Core.Streams;
using FusionActors.Inference;
using FusionActors.Runtime.Metrics;

namespace FusionActors.Runtime.Encoders.Batching;

/// <summary>
/// The node's dynamic batcher: inputs of every session's streams that use the same encoder wait in one
/// <see cref="FairBatchQueue"/>, and a few threads of its own run them in shared model calls of up to
/// <see cref="BatchingOptions.MaxBatch"/> inputs (fewer for models with long inputs, <see cref="BatchingOptions.MaxCallValues"/>), waiting at most <see cref="BatchingOptions.MaxQueueDelay"/> for a call
/// to fill. Encoders are told apart by instance (the node shares one per model, so a call never mixes models or
/// a fault-injecting wrapper with the plain model).
/// <para>
/// A call that throws is not blamed on everyone in it: when it held inputs of several requests, each request is
/// run again alone, and only the ones that fail alone fail (their streams then retry input by input and quarantine,
/// as before). A call still running at half the encode deadline counts as stalled: when it held several requests,
/// each is run again alone on another thread (so the inputs of other sessions are answered before their deadlines),
/// and its thread is replaced by a fresh one, up to <see cref="BatchingOptions.MaxStalledThreads"/> at once, so a
/// hung model does not take the node's encoder threads with it; the stream's own deadline fails the request that hangs.
/// </para>
/// Thread-safe. Requests complete by callback, on a batcher thread.
/// </summary>
public sealed class EncoderBatcher : IDisposable
{
    private const int WaitSamples = 1 << 16;
    private readonly BatchingOptions _options;
    private readonly long _stallAfterTicks;
    private readonly long _delayTicks;
    private readonly object _gate = new();
    private readonly Dictionary<IEncoder, FairBatchQueue> _queues = new(ReferenceEqualityComparer.Instance);
    private readonly List<IEncoder> _order = []; // encoders with a queue, served in turn
    private readonly List<Worker> _workers = [];
    private readonly long[] _waits = new long[WaitSamples]; // queue waits in ticks, a ring of the latest
    private readonly Timer _watchdog;
    private readonly Queue<RunningCall> _rescues = new(); // requests to run alone: retries, and requests of stalled shared calls
    private int _rescuers; // threads running one rescued request each
    private int _next;
    private int _stalled;
    private bool _started;
    private bool _disposed;
    private long _calls, _inputs, _isolatedCalls, _failed, _replaced, _waitCount, _maxCallsWaited;

    /// <param name="encodeDeadline">The streams' encode deadline: a call still running at half of it counts as stalled.</param>
    public EncoderBatcher(BatchingOptions options, TimeSpan encodeDeadline)
    {
        var stallAfter = encodeDeadline / 2;
        var problems = options.Problems().ToList();
        if (problems.Count > 0) throw new ArgumentException(string.Join("; ", problems), nameof(options));
        if (stallAfter <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(encodeDeadline), encodeDeadline, "must be positive");
        _options = options;
        _stallAfterTicks = (long)(stallAfter.TotalSeconds * Stopwatch.Frequency);
        _delayTicks = (long)(options.MaxQueueDelay.TotalSeconds * Stopwatch.Frequency);
        var every = TimeSpan.FromTicks(Math.Clamp(stallAfter.Ticks / 4, TimeSpan.FromMilliseconds(20).Ticks, TimeSpan.FromSeconds(1).Ticks));
        _watchdog = new Timer(_ => CheckStalls(), null, Timeout.InfiniteTimeSpan, every);
        _watchdogPeriod = every;
    }

    private readonly TimeSpan _watchdogPeriod;

    public BatchingOptions Options => _options;

    /// <summary>Queues a stream's batch; <paramref name="onDone"/> is called once it is encoded or failed, not when cancelled.</summary>
    /// <exception cref="ObjectDisposedException">the batcher was disposed (the node is stopping).</exception>
    /// <param name="alone">Run it in a call of its own, shared with no other request: a stream retrying inputs after a failure
    /// (one of them may be what failed) must not put other sessions' inputs at risk.</param>
    /// <param name="trace">The submitter's <c>encode</c> span, which the <c>encode.batch</c> span of each call running its inputs links.</param>
    public EncodeRequest Submit(IEncoder encoder, string session, IReadOnlyList<EncoderInput> inputs, Action<EncodeRequest> onDone, bool alone = false,
        Activity? trace = null)
    {
        var request = new EncodeRequest(encoder, session, inputs, Stopwatch.GetTimestamp(), onDone) { Span = trace };
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (alone)
            {
                request.Taken = inputs.Count; // in no lane: nothing of it waits in the fair queue
                _rescues.Enqueue(new RunningCall(encoder, [new BatchSlice(request, 0, inputs.Count)], 0, Rescue: true, Alone: true));
                if (!_started) Start();
                Monitor.PulseAll(_gate);
                return request;
            }
            if (!_queues.TryGetValue(encoder, out var queue))
            {
                _queues[encoder] = queue = new FairBatchQueue(_options.MaxInFlightPerSession);
                _order.Add(encoder);
            }
            queue.Enqueue(request);
            if (!_started) Start();
            Monitor.PulseAll(_gate);
        }
        return request;
    }

    /// <summary>The submitter gives <paramref name="request"/> up: inputs not yet in a call are not run, nothing is called back.</summary>
    public void Cancel(EncodeRequest request)
    {
        if (!request.MarkCancelled()) return;
        lock (_gate) Forget(request);
    }

    /// <summary>Counts since the start (or the last <see cref="ResetStats"/>).</summary>
    public BatcherStats Stats()
    {
        lock (_gate)
            return new BatcherStats(_calls, _inputs, _isolatedCalls, _failed, _replaced, _maxCallsWaited, _queues.Values.Sum(q => q.Pending),
                _queues.Values.Sum(q => q.InFlight), _workers.Count(w => !w.Abandoned));
    }

    /// <summary>How long the latest requests (up to 65,536) waited between submission and their first model call, µs, sorted.</summary>
    public double[] QueueWaitsUs()
    {
        lock (_gate)
        {
            var n = (int)Math.Min(_waitCount, WaitSamples);
            var us = new double[n];
            for (var i = 0; i < n; i++) us[i] = _waits[i] * 1e6 / Stopwatch.Frequency;
            Array.Sort(us);
            return us;
        }
    }

    public void ResetStats()
    {
        lock (_gate) _calls = _inputs = _isolatedCalls = _failed = _replaced = _waitCount = _maxCallsWaited = 0;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            Monitor.PulseAll(_gate);
        }
        _watchdog.Dispose();
    }

    private void Start()
    {
        _started = true;
        for (var i = 0; i < _options.Threads; i++) StartWorker();
        _watchdog.Change(_watchdogPeriod, _watchdogPeriod);
    }

    private void StartWorker()
    {
        var worker = new Worker();
        _workers.Add(worker);
        new Thread(() => Run(worker)) { IsBackground = true, Name = $"fusion-batcher-{_workers.Count}" }.Start();
    }

    private void Run(Worker worker)
    {
        RunningCall? done = null;
        while (true)
        {
            RunningCall? call = null;
            lock (_gate)
            {
                if (done is { Rescue: false }) EndCall(done.Slices);
                worker.Current = null;
                if (worker.Abandoned)
                {
                    _stalled--;
                    _workers.Remove(worker);
                    return;
                }
                while (call is null)
                {
                    if (_disposed)
                    {
                        _workers.Remove(worker);
                        return;
                    }
                    var now = Stopwatch.GetTimestamp();
                    while (call is null && _rescues.TryDequeue(out var rescue))
                        if (rescue.Slices[0].Request.IsWaiting) call = rescue with { StartedTicks = now }; // else given up meanwhile
                    if (call is not null) break;
                    if (Pick(now, out var encoder, out var queue, out var wakeAt) && queue!.Take(_options.CallSize(encoder!.InputLength), now) is { Count: > 0 } taken)
                    {
                        call = new RunningCall(encoder, taken, now, Rescue: false, Alone: false);
                        foreach (var s in taken)
                            if (s.Offset == 0 && s.Request.StartedTicks == now)
                            {
                                RecordWait(now - s.Request.EnqueuedTicks);
                                _maxCallsWaited = Math.Max(_maxCallsWaited, s.Request.CallsWaited);
                            }
                        break;
                    }
                    var wait = wakeAt == long.MaxValue ? Timeout.Infinite : (int)Math.Max(1, (wakeAt - now) * 1000 / Stopwatch.Frequency);
                    Monitor.Wait(_gate, wait);
                }
                worker.Current = call;
            }
            Call(call);
            done = call;
        }
    }

    /// <summary>
    /// The next encoder, in turn, whose queue should be called now: a full call waits, or its oldest input has waited
    /// the queue delay. Else when to look again (<see cref="long.MaxValue"/>: when something is submitted).
    /// </summary>
    private bool Pick(long now, out IEncoder? encoder, out FairBatchQueue? queue, out long wakeAt)
    {
        wakeAt = long.MaxValue;
        for (var i = 0; i < _order.Count; i++)
        {
            var index = (_next + i) % _order.Count;
            var candidate = _order[index];
            var q = _queues[candidate];
            var available = q.Available();
            if (available == 0) continue;
            var dueAt = _delayTicks == 0 || available >= _options.CallSize(candidate.InputLength) ? now : q.OldestTicks() + _delayTicks;
            if (dueAt <= now)
            {
                _next = index + 1;
                (encoder, queue) = (candidate, q);
                return true;
            }
            wakeAt = Math.Min(wakeAt, dueAt);
        }
        (encoder, queue) = (null, null);
        return false;
    }

    private void Call(RunningCall call)
    {
        var (encoder, slices) = (call.Encoder, call.Slices);
        var total = 0;
        var requests = 0;
        EncodeRequest? last = null;
        foreach (var s in slices)
        {
            total += s.Count;
            if (!ReferenceEquals(s.Request, last)) requests++;
            last = s.Request;
        }
        var values = new ReadOnlyMemory<float>[total];
        var k = 0;
        foreach (var s in slices)
            for (var i = 0; i < s.Count; i++) values[k++] = s.Request.Inputs[s.Offset + i].Values;
        if (!call.Rescue || call.Alone)
        {
            Interlocked.Increment(ref _calls);
            Interlocked.Add(ref _inputs, total);
            FusionMetrics.BatcherCall(total);
        }
        else Interlocked.Increment(ref _isolatedCalls);
        IReadOnlyList<EncoderOutput> outputs;
        var span = FusionTracing.StartBatch(encoder.Name, slices, total); // null unless a listener samples a traced request
        try
        {
            outputs = Encode(encoder, values);
        }
        catch (Exception e) when (requests > 1)
        {
            span?.SetStatus(ActivityStatusCode.Error, e.GetType().Name);
            FusionTracing.StopDetached(span);
            if (call.Claim()) Isolate(encoder, slices);
            return;
        }
        catch (Exception e)
        {
            span?.SetStatus(ActivityStatusCode.Error, e.GetType().Name);
            FusionTracing.StopDetached(span);
            if (call.Claim()) FailRequest(slices[0].Request, e);
            return;
        }
        FusionTracing.StopDetached(span);
        if (!call.Claim()) return; // it stalled and its requests were run again alone: they answer
        var from = 0;
        foreach (var s in slices)
        {
            if (span is not null) s.Request.BatchSpan = span; // before Deliver: its callback reads it
            s.Request.Deliver(outputs, from, s.Offset, s.Count);
            from += s.Count;
        }
    }

    /// <summary>A shared call failed: each request in it runs alone, and fails only if it fails alone.</summary>
    private void Isolate(IEncoder encoder, List<BatchSlice> slices)
    {
        foreach (var group in slices.GroupBy(s => s.Request, ReferenceEqualityComparer.Instance))
        {
            var request = (EncodeRequest)group.Key!;
            if (!request.IsWaiting) continue;
            var own = group.ToList();
            var values = own.SelectMany(s => Enumerable.Range(s.Offset, s.Count).Select(i => (ReadOnlyMemory<float>)request.Inputs[i].Values)).ToArray();
            Interlocked.Increment(ref _isolatedCalls);
            try
            {
                var outputs = Encode(encoder, values);
                var from = 0;
                foreach (var s in own)
                {
                    request.Deliver(outputs, from, s.Offset, s.Count);
                    from += s.Count;
                }
            }
            catch (Exception e)
            {
                FailRequest(request, e);
            }
        }
    }

    private static IReadOnlyList<EncoderOutput> Encode(IEncoder encoder, ReadOnlyMemory<float>[] values)
    {
        var outputs = encoder.Encode(values);
        if (outputs.Count != values.Length)
            throw new InvalidOperationException($"encoder '{encoder.Name}' returned {outputs.Count} outputs for {values.Length} inputs");
        return outputs;
    }

    private void FailRequest(EncodeRequest request, Exception error)
    {
        if (!request.Fail(error)) return;
        Interlocked.Increment(ref _failed);
        lock (_gate) Forget(request);
    }

    private void Forget(EncodeRequest request)
    {
        if (_queues.TryGetValue(request.Encoder, out var queue)) queue.Remove(request);
        DropIfIdle(request.Encoder);
    }

    private void EndCall(List<BatchSlice> slices)
    {
        var encoder = slices[0].Request.Encoder;
        if (_queues.TryGetValue(encoder, out var queue))
            foreach (var s in slices) queue.Release(s);
        DropIfIdle(encoder);
        Monitor.PulseAll(_gate); // in-flight limits may let more in now
    }

    private void DropIfIdle(IEncoder encoder)
    {
        // Encoders wrapped per stream (fault drills) come and go: a queue lives only while it holds inputs.
        if (!_queues.TryGetValue(encoder, out var queue) || !queue.IsIdle) return;
        _queues.Remove(encoder);
        var index = _order.IndexOf(encoder);
        _order.RemoveAt(index);
        if (_next > index) _next--;
    }

    private void RecordWait(long ticks) => _waits[_waitCount++ % WaitSamples] = ticks;

    private void CheckStalls()
    {
        lock (_gate)
        {
            if (_disposed) return;
            var now = Stopwatch.GetTimestamp();
            foreach (var w in _workers.ToArray())
            {
                if (w.Abandoned || w.Current is not { } call || now - call.StartedTicks < _stallAfterTicks) continue;
                // A shared call that hangs must not take the other sessions' inputs with it: each of its requests runs
                // again alone (the one that hangs then hangs alone, and its stream's deadline fails it).
                // They run at once, each on a thread of its own while the budget of extra threads lasts: which one hangs
                // is not known, and the others must be answered before their streams' deadlines.
                if (!call.Rescue && call.Slices.Any(s => !ReferenceEquals(s.Request, call.Slices[0].Request)) && call.Rescued())
                    foreach (var group in call.Slices.GroupBy(s => s.Request, ReferenceEqualityComparer.Instance))
                    {
                        if (!((EncodeRequest)group.Key!).IsWaiting) continue;
                        var rescue = new RunningCall(call.Encoder, group.ToList(), now, Rescue: true, Alone: false);
                        if (_stalled + _rescuers < _options.MaxStalledThreads) StartRescuer(rescue);
                        else _rescues.Enqueue(rescue);
                    }
                if (_stalled >= _options.MaxStalledThreads) continue;
                // The call cannot be interrupted: its thread is left to finish it and then exits; a fresh one serves the queues.
                w.Abandoned = true;
                _stalled++;
                _replaced++;
                StartWorker();
            }
            Monitor.PulseAll(_gate);
        }
    }

    private void StartRescuer(RunningCall rescue)
    {
        _rescuers++;
        _replaced++;
        new Thread(() =>
        {
            Call(rescue);
            lock (_gate) _rescuers--;
        }) { IsBackground = true, Name = "fusion-batcher-r" }.Start();
    }

    /// <summary>
    /// A model call: slices taken from a queue, or (<see cref="Rescue"/>) one request run alone: a retry
    /// (<see cref="Alone"/>), or a request of a stalled shared call run again.
    /// </summary>
    private sealed record RunningCall(IEncoder Encoder, List<BatchSlice> Slices, long StartedTicks, bool Rescue, bool Alone)
    {
        private int _state; // 0 running, 1 its worker answers, 2 it stalled and its requests run again alone

        /// <summary>The worker may answer the call's requests: it was not given up as stalled.</summary>
        public bool Claim() => Interlocked.CompareExchange(ref _state, 1, 0) == 0;

        /// <summary>The watchdog gives the call up: its requests are run again alone; false when its worker answers already.</summary>
        public bool Rescued() => Interlocked.CompareExchange(ref _state, 2, 0) == 0;
    }

    private sealed class Worker
    {
        public RunningCall? Current;
        public bool Abandoned;
    }
}

/// <summary>
/// What the batcher did: model calls and the inputs in them (mean batch = Inputs / Calls), calls re-run alone after a
/// shared call failed or stalled, requests failed, extra threads started after stalls (replacements and threads
/// re-running a stalled call's requests), the most calls any request waited for
/// (<see cref="EncodeRequest.CallsWaited"/>); and what it holds now.
/// </summary>
public sealed record BatcherStats(long Calls, long Inputs, long IsolatedCalls, long FailedRequests, long ThreadsReplaced, long MaxCallsWaited,
    int Pending, int InFlight, int Threads)
{
    public double MeanBatch => Calls == 0 ? 0 : (double)Inputs / Calls;
}
