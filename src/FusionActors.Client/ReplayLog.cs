using System.Threading.Channels;
using FusionActors.Core.Streams;
using FusionActors.Protocol;

namespace FusionActors.Client;

/// <summary>
/// What a session's client holds until the server commits it: frames and stream closes, in the
/// order they were pushed. Each connection (one frame sink) gets the whole log first, then every new entry;
/// a commit drops the frames before its event time. The log has a capacity: a push waits for room, which is
/// how a slow or absent server slows the sensor down instead of the client running out of memory.
/// The delivery contract it is part of: docs/design.md, "Delivery".
/// </summary>
public sealed class ReplayLog
{
    private readonly object _gate = new();
    private readonly LinkedList<IWithSessionId> _entries = new(); // push order: what a new connection gets
    // The same entries by event time (stream closes last), so a commit takes what it frees without walking the log.
    private readonly PriorityQueue<LinkedListNode<IWithSessionId>, long> _byTime = new();
    private readonly Dictionary<string, SeqTracker> _appended = new(); // per stream: which seqs were ever appended
    private readonly Dictionary<string, long> _nextAssigned = new();
    private readonly Stack<LinkedListNode<IWithSessionId>> _freeNodes = new(); // at most Capacity: entries held never exceed it
    private readonly CancellationTokenSource _closed = new();
    private readonly SemaphoreSlim _room;
    private ChannelWriter<IWithSessionId>? _out;

    public ReplayLog(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
        _room = new SemaphoreSlim(capacity, capacity);
    }

    public int Capacity { get; }

    /// <summary>Entries held (frames and stream closes).</summary>
    public int Count { get { lock (_gate) return _entries.Count; } }

    public long FramesAppended { get; private set; }

    public long FramesCommitted { get; private set; }

    /// <summary>Entries written again to a new connection (replays after a reconnect).</summary>
    public long EntriesReplayed { get; private set; }

    /// <summary>The highest commit seen (<see cref="long.MinValue"/> before the first).</summary>
    public long CommittedThroughUs { get; private set; } = long.MinValue;

    /// <summary>Waits for room, then holds the entry and writes it to the current connection, if any.</summary>
    public async ValueTask AppendAsync(IWithSessionId entry, CancellationToken cancel = default)
    {
        if (entry is not (Frame or CloseStream)) throw new ArgumentException($"only frames and stream closes are held, not {entry.GetType().Name}", nameof(entry));
        await WaitForRoom(cancel).ConfigureAwait(false);
        lock (_gate) Hold(entry);
    }

    /// <summary>
    /// Waits for room, then gives the stream's next seq to <paramref name="make"/> and holds the frame. The seq
    /// is taken only once the frame is surely held: a push cancelled while waiting leaves no gap in the seqs.
    /// </summary>
    public async ValueTask<long> AppendNextAsync(string streamId, Func<long, Frame> make, CancellationToken cancel = default)
    {
        await WaitForRoom(cancel).ConfigureAwait(false);
        lock (_gate)
        {
            var seq = _nextAssigned.GetValueOrDefault(streamId);
            _nextAssigned[streamId] = seq + 1;
            Hold(make(seq));
            return seq;
        }
    }

    /// <summary>
    /// <see cref="AppendNextAsync(string, Func{long, Frame}, CancellationToken)"/> for a frame of these fields: the push
    /// path, without a delegate per frame.
    /// </summary>
    public ValueTask<long> AppendNextAsync(string sessionId, string streamId, long eventTimeUs, float[] payload, string? traceParent,
        CancellationToken cancel = default)
    {
        var room = WaitForRoom(cancel);
        if (!room.IsCompletedSuccessfully) return AppendNextAfterAsync(room, sessionId, streamId, eventTimeUs, payload, traceParent);
        return new ValueTask<long>(HoldNext(sessionId, streamId, eventTimeUs, payload, traceParent));
    }

    private async ValueTask<long> AppendNextAfterAsync(Task room, string sessionId, string streamId, long eventTimeUs, float[] payload, string? traceParent)
    {
        await room.ConfigureAwait(false);
        return HoldNext(sessionId, streamId, eventTimeUs, payload, traceParent);
    }

    private long HoldNext(string sessionId, string streamId, long eventTimeUs, float[] payload, string? traceParent)
    {
        lock (_gate)
        {
            var seq = _nextAssigned.GetValueOrDefault(streamId);
            _nextAssigned[streamId] = seq + 1;
            Hold(new Frame(sessionId, streamId, seq, eventTimeUs, payload) { TraceParent = traceParent });
            return seq;
        }
    }

    private Task WaitForRoom(CancellationToken cancel)
    {
        // Room at once (the usual case): no linked token, no task.
        if (!_closed.IsCancellationRequested && !cancel.IsCancellationRequested && _room.Wait(0)) return Task.CompletedTask;
        return WaitForRoomSlow(cancel);
    }

    private async Task WaitForRoomSlow(CancellationToken cancel)
    {
        using var both = CancellationTokenSource.CreateLinkedTokenSource(cancel, _closed.Token);
        try { await _room.WaitAsync(both.Token).ConfigureAwait(false); }
        catch (OperationCanceledException) when (_closed.IsCancellationRequested && !cancel.IsCancellationRequested)
        {
            throw new ObjectDisposedException(nameof(ReplayLog), "the session ended while a push waited for room");
        }
    }

    private void Hold(IWithSessionId entry)
    {
        // Nodes of committed entries are used again: holding a frame allocates nothing but the frame.
        LinkedListNode<IWithSessionId> node;
        if (_freeNodes.TryPop(out var free))
        {
            free.Value = entry;
            node = free;
        }
        else node = new LinkedListNode<IWithSessionId>(entry);
        _entries.AddLast(node);
        _byTime.Enqueue(node, entry is Frame frame ? frame.EventTimeUs : long.MaxValue);
        if (entry is Frame f)
        {
            FramesAppended++;
            if (!_appended.TryGetValue(f.StreamId, out var seqs)) _appended[f.StreamId] = seqs = new SeqTracker(Capacity + 64);
            seqs.Take(f.Seq);
            if (f.Seq + 1 > _nextAssigned.GetValueOrDefault(f.StreamId)) _nextAssigned[f.StreamId] = f.Seq + 1;
        }
        _out?.TryWrite(entry);
    }

    /// <summary>Wakes every push waiting for room with an <see cref="ObjectDisposedException"/>: the session ended.</summary>
    public void Close() => _closed.Cancel();

    /// <summary>Sends without holding (heartbeats: a lost one is superseded by the next).</summary>
    public void SendUnheld(IWithSessionId message)
    {
        lock (_gate) _out?.TryWrite(message);
    }

    /// <summary>
    /// Makes <paramref name="writer"/> the current connection: it gets every held entry, in push order, then
    /// what comes next. Returns how many entries were replayed.
    /// </summary>
    public int Attach(ChannelWriter<IWithSessionId> writer)
    {
        lock (_gate)
        {
            _out?.TryComplete();
            foreach (var e in _entries) writer.TryWrite(e);
            _out = writer;
            EntriesReplayed += _entries.Count;
            return _entries.Count;
        }
    }

    /// <summary>Ends the current connection's feed (it completes once what was written is sent).</summary>
    public void Detach()
    {
        lock (_gate)
        {
            _out?.TryComplete();
            _out = null;
        }
    }

    /// <summary>Forgets the frames before <paramref name="throughUs"/> (and, at +infinity, the stream closes). Returns how many.</summary>
    public int Commit(long throughUs)
    {
        var released = 0;
        lock (_gate)
        {
            if (throughUs <= CommittedThroughUs) return 0;
            CommittedThroughUs = throughUs;
            while (_byTime.TryPeek(out var node, out var timeUs) && (timeUs < throughUs || throughUs == long.MaxValue))
            {
                _byTime.Dequeue();
                if (node.Value is Frame) FramesCommitted++;
                _entries.Remove(node);
                node.Value = null!;
                _freeNodes.Push(node);
                released++;
            }
        }
        if (released > 0) _room.Release(released);
        return released;
    }

    /// <summary>
    /// Per stream, the lowest seq the session may still get from this client: the lowest one held, or the
    /// lowest one never appended yet (a sensor that numbers its own frames may push them out of order). A
    /// resumed session takes every lower seq as done.
    /// </summary>
    public Dictionary<string, long> NextSeqByStream() => ResumePoint().Next;

    /// <summary>
    /// Where a reopened session picks up, per stream: <c>Next</c>, the start of the run of seqs this client holds
    /// or has not pushed yet up to its newest; and <c>HeldBelow</c>, the seqs it still holds below that run (a frame
    /// stamped far ahead stays held while later ones are committed and freed). Every other seq below
    /// <c>Next</c> was committed. A resume point at the lowest held seq instead would open a gap of freed seqs
    /// that the session's seq window could not span.
    /// </summary>
    public (Dictionary<string, long> Next, Dictionary<string, long[]> HeldBelow) ResumePoint()
    {
        lock (_gate)
        {
            var held = new Dictionary<string, SortedSet<long>>();
            foreach (var e in _entries)
                if (e is Frame f)
                {
                    if (!held.TryGetValue(f.StreamId, out var set)) held[f.StreamId] = set = [];
                    set.Add(f.Seq);
                }
            var next = new Dictionary<string, long>();
            var below = new Dictionary<string, long[]>();
            foreach (var (stream, appended) in _appended)
            {
                var start = appended.LowestMissing; // never pushed from here on
                if (held.TryGetValue(stream, out var seqs))
                {
                    while (start > 0 && seqs.Contains(start - 1)) start--;
                    var under = seqs.GetViewBetween(long.MinValue, start - 1);
                    if (under.Count > 0) below[stream] = [.. under];
                }
                next[stream] = start;
            }
            return (next, below);
        }
    }
}
