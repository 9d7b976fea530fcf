namespace FusionActors.Runtime.Encoders.Batching;

/// <summary>
/// The inputs of one model waiting for a call, in one lane per session, and the rule that forms a call from them:
/// round-robin over the sessions that have inputs waiting, one input per session per turn, so a call of N inputs
/// with S sessions waiting takes about N / S of each, whatever batch sizes the sessions asked for. A session has at
/// most <c>maxInFlightPerSession</c> inputs in model calls at once, so one that floods cannot hold every encoder
/// thread. Requests of a lane are taken in the order they came (a stream has one request at a time, so its inputs
/// keep their order). Not thread-safe: the <see cref="EncoderBatcher"/> holds its lock around every call. No clock:
/// times come in as Stopwatch ticks.
/// </summary>
public sealed class FairBatchQueue
{
    private readonly int _maxInFlightPerSession;
    private readonly Dictionary<string, Lane> _lanes = new(StringComparer.Ordinal);
    private readonly Queue<Lane> _ring = new(); // lanes with inputs not yet taken, in turn order

    public FairBatchQueue(int maxInFlightPerSession)
    {
        if (maxInFlightPerSession < 1) throw new ArgumentOutOfRangeException(nameof(maxInFlightPerSession), maxInFlightPerSession, "a session must be able to have one input in a call");
        _maxInFlightPerSession = maxInFlightPerSession;
    }

    /// <summary>Inputs waiting, not yet taken into a call.</summary>
    public int Pending { get; private set; }

    /// <summary>Inputs taken into calls that have not ended.</summary>
    public int InFlight { get; private set; }

    /// <summary>Calls formed so far.</summary>
    public long CallsFormed { get; private set; }

    /// <summary>Sessions with inputs waiting or in a call.</summary>
    public int Sessions => _lanes.Count;

    /// <summary>Nothing waits and nothing is in a call: the queue can be dropped.</summary>
    public bool IsIdle => Pending == 0 && InFlight == 0;

    public void Enqueue(EncodeRequest request)
    {
        if (!_lanes.TryGetValue(request.Session, out var lane)) _lanes[request.Session] = lane = new Lane(request.Session);
        lane.Requests.AddLast(request);
        request.CallsAtEnqueue = CallsFormed;
        var untaken = request.Inputs.Count - request.Taken;
        lane.Untaken += untaken;
        Pending += untaken;
        if (!lane.InRing)
        {
            lane.InRing = true;
            _ring.Enqueue(lane);
        }
    }

    /// <summary>Inputs a call could take now: waiting, within their sessions' in-flight limits.</summary>
    public int Available()
    {
        var n = 0;
        foreach (var lane in _ring) n += lane.Takeable(_maxInFlightPerSession);
        return n;
    }

    /// <summary>When the request waiting longest that a call could take now was submitted; <see cref="long.MaxValue"/> when none.</summary>
    public long OldestTicks()
    {
        var oldest = long.MaxValue;
        foreach (var lane in _ring)
            if (lane.Takeable(_maxInFlightPerSession) > 0 && lane.Requests.Count > 0)
                oldest = Math.Min(oldest, lane.Requests.First!.Value.EnqueuedTicks);
        return oldest;
    }

    /// <summary>
    /// Forms a call of at most <paramref name="maxBatch"/> inputs by round-robin over the sessions, starting with the
    /// session after the last one served; marks them in flight. Empty when nothing can be taken.
    /// </summary>
    public List<BatchSlice> Take(int maxBatch, long nowTicks)
    {
        var slices = new List<BatchSlice>();
        if (maxBatch < 1 || _ring.Count == 0) return slices;
        List<Lane> served = [];
        var count = 0;
        var progressed = true;
        while (count < maxBatch && progressed)
        {
            progressed = false;
            for (int i = 0, n = _ring.Count; i < n && count < maxBatch; i++)
            {
                var lane = _ring.Dequeue();
                if (lane.Takeable(_maxInFlightPerSession) > lane.Turns)
                {
                    if (lane.Turns == 0) served.Add(lane);
                    lane.Turns++;
                    count++;
                    progressed = true;
                }
                _ring.Enqueue(lane);
            }
        }
        foreach (var lane in served)
        {
            var want = lane.Turns;
            lane.Turns = 0;
            while (want > 0)
            {
                var request = lane.Requests.First!.Value;
                var give = Math.Min(want, request.Inputs.Count - request.Taken);
                slices.Add(new BatchSlice(request, request.Taken, give));
                if (request.StartedTicks == 0)
                {
                    request.StartedTicks = nowTicks;
                    request.CallsWaited = CallsFormed - request.CallsAtEnqueue;
                }
                request.Taken += give;
                if (request.Taken == request.Inputs.Count) lane.Requests.RemoveFirst();
                want -= give;
                lane.Untaken -= give;
                lane.InFlight += give;
                Pending -= give;
                InFlight += give;
            }
        }
        DropEmptyFromRing();
        if (slices.Count > 0) CallsFormed++;
        return slices;
    }

    /// <summary>A call ended: its inputs are no longer in flight (each slice once).</summary>
    public void Release(BatchSlice slice)
    {
        if (!_lanes.TryGetValue(slice.Request.Session, out var lane)) return;
        lane.InFlight -= slice.Count;
        InFlight -= slice.Count;
        ForgetIfIdle(lane);
    }

    /// <summary>
    /// A request ended before all its inputs were taken (it failed, or its submitter gave it up): the rest of its
    /// inputs no longer wait. Inputs of it already in calls stay in flight until those calls end.
    /// </summary>
    public void Remove(EncodeRequest request)
    {
        if (!_lanes.TryGetValue(request.Session, out var lane) || request.Taken == request.Inputs.Count) return;
        var untaken = request.Inputs.Count - request.Taken;
        request.Taken = request.Inputs.Count;
        lane.Requests.Remove(request);
        lane.Untaken -= untaken;
        Pending -= untaken;
        if (lane.Untaken == 0) DropEmptyFromRing();
        ForgetIfIdle(lane);
    }

    private void DropEmptyFromRing()
    {
        for (int i = 0, n = _ring.Count; i < n; i++)
        {
            var lane = _ring.Dequeue();
            if (lane.Untaken > 0) _ring.Enqueue(lane);
            else lane.InRing = false;
        }
    }

    private void ForgetIfIdle(Lane lane)
    {
        if (lane.Untaken == 0 && lane.InFlight == 0 && !lane.InRing) _lanes.Remove(lane.Session);
    }

    private sealed class Lane(string session)
    {
        public string Session { get; } = session;
        public LinkedList<EncodeRequest> Requests { get; } = new();
        public int Untaken;
        public int InFlight;
        public int Turns; // inputs given to the call being formed
        public bool InRing;

        public int Takeable(int maxInFlight) => Math.Max(0, Math.Min(Untaken, maxInFlight - InFlight));
    }
}
