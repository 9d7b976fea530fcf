using System.Diagnostics;
using System.Threading.Channels;
using FusionActors.Core.Alignment;
using FusionActors.Core.Streams;
using FusionActors.Protocol;

namespace FusionActors.Client;

/// <summary>What a session's link actor learns, shared with the <see cref="FusionSession"/> that users hold.</summary>
internal sealed class SessionState
{
    private readonly object _gate = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly long _startUs;
    private readonly Channel<FusedResult> _results;
    private readonly Channel<object> _events;
    private readonly HashSet<(long Start, long End, int Revision)> _seen = [];
    private readonly SortedSet<(long End, long Start, int Revision)> _byEnd = [];
    // Windows not committed yet, by start: the highest revision delivered. A reopen hands them to a new incarnation,
    // which numbers its results of them above (docs/design.md, "Delivery").
    private readonly SortedDictionary<long, int> _delivered = new();
    private readonly Dictionary<RejectReason, long> _rejected = new();
    private readonly List<TaskCompletionSource> _commitWaiters = [];
    private readonly List<ResumeRecord> _resumes = [];
    private long _committedUs = long.MinValue;
    private long _resultCount, _duplicates, _dropped;

    public SessionState(long startUs, int resultBuffer)
    {
        _startUs = startUs;
        _results = Channel.CreateBounded<FusedResult>(new BoundedChannelOptions(resultBuffer)
            { FullMode = BoundedChannelFullMode.DropOldest, SingleWriter = true }, _ => Interlocked.Increment(ref _dropped));
        _events = Channel.CreateBounded<object>(new BoundedChannelOptions(resultBuffer)
            { FullMode = BoundedChannelFullMode.DropOldest, SingleWriter = true });
    }

    /// <summary>The session clock: the spec's start plus the time since the session object was made, in µs.</summary>
    public long NowUs() => _startUs + _clock.Elapsed.Ticks / 10;

    public ChannelReader<FusedResult> Results => _results.Reader;

    public ChannelReader<object> Events => _events.Reader;

    public int Opens { get; set; }

    public long Disconnects { get; set; }

    public long FramesCommittedMessages { get; set; }

    /// <summary>Reopens that waited out a back-off because the connection before was lost soon after it opened.</summary>
    public int ReopenBackoffs { get; set; }

    public string? Node { get; set; }

    /// <summary>The session capability of this writer (<see cref="SessionOpened.Capability"/>): what its later operations carry.</summary>
    public string? Capability { get => Volatile.Read(ref _capability); set => Volatile.Write(ref _capability, value); }

    private string? _capability;

    /// <summary>Messages in the session's name that did not carry its seal or nonce: dropped (<see cref="SessionStats.ForgedDropped"/>).</summary>
    public long Forged;

    public long CommittedThroughUs { get { lock (_gate) return _committedUs; } }

    public void OnResult(FusedResult r)
    {
        lock (_gate)
        {
            // A result seen before (the same window and revision, from an incarnation that died before its commit
            // reached us) is dropped; what is kept is pruned once it is far behind the commit point.
            if (!_seen.Add((r.WindowStartUs, r.WindowEndUs, r.Revision)))
            {
                _duplicates++;
                return;
            }
            _byEnd.Add((r.WindowEndUs, r.WindowStartUs, r.Revision));
            _resultCount++;
            if (r.WindowStartUs >= _committedUs)
            {
                if (!_delivered.TryGetValue(r.WindowStartUs, out var had) || had < r.Revision) _delivered[r.WindowStartUs] = r.Revision;
                // The session refuses a resume naming more: the oldest are dropped (their results may then repeat a key).
                while (_delivered.Count > Aligner.MaxResumedRevisions) _delivered.Remove(_delivered.Keys.First());
            }
        }
        _results.Writer.TryWrite(r);
    }

    public void OnCommit(long throughUs)
    {
        List<TaskCompletionSource> ready;
        lock (_gate)
        {
            _committedUs = Math.Max(_committedUs, throughUs);
            while (_delivered.Count > 0 && _delivered.Keys.First() < _committedUs) _delivered.Remove(_delivered.Keys.First());
            var horizon = throughUs == long.MaxValue ? long.MaxValue : throughUs - 600_000_000; // keep 10 min of window keys
            while (_byEnd.Count > 0 && _byEnd.Min.End < horizon)
            {
                var k = _byEnd.Min;
                _byEnd.Remove(k);
                _seen.Remove((k.Start, k.End, k.Revision));
            }
            ready = [.. _commitWaiters];
            _commitWaiters.Clear();
        }
        foreach (var w in ready) w.TrySetResult();
    }

    /// <summary>The highest revision delivered of each window not committed yet; null when none.</summary>
    public Dictionary<long, int>? DeliveredRevisions()
    {
        lock (_gate) return _delivered.Count == 0 ? null : new Dictionary<long, int>(_delivered);
    }

    /// <summary>Completes when a commit arrives (any); callers loop on their own condition.</summary>
    public Task NextCommit()
    {
        var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate) _commitWaiters.Add(tcs);
        return tcs.Task;
    }

    public void OnRejected(FrameRejected x)
    {
        lock (_gate) _rejected[x.Reason] = _rejected.GetValueOrDefault(x.Reason) + 1;
        _events.Writer.TryWrite(x);
    }

    public void OnEvent(object e) => _events.Writer.TryWrite(e);

    public void OnResumed(string node, TimeSpan gap, int replayed)
    {
        lock (_gate) _resumes.Add(new ResumeRecord(DateTime.UtcNow, node, gap, replayed));
    }

    /// <summary>Why the session ended on the client's side for good; null while it runs.</summary>
    public Exception? Failure { get; private set; }

    public void Fail(Exception reason)
    {
        Failure ??= reason;
        Complete();
    }

    public void Complete()
    {
        _results.Writer.TryComplete(Failure);
        _events.Writer.TryComplete(Failure);
        List<TaskCompletionSource> waiters;
        lock (_gate)
        {
            waiters = [.. _commitWaiters];
            _commitWaiters.Clear();
        }
        foreach (var w in waiters) w.TrySetResult();
    }

    public SessionStats Snapshot(ReplayLog log)
    {
        lock (_gate)
            return new SessionStats(log.FramesAppended, log.FramesCommitted, log.Count, log.EntriesReplayed, _committedUs,
                _resultCount, _duplicates, Interlocked.Read(ref _dropped), new Dictionary<RejectReason, long>(_rejected), Opens, Disconnects,
                [.. _resumes], Node, Interlocked.Read(ref Forged), ReopenBackoffs);
    }
}

/// <summary>One reopen of a session after its connection was lost.</summary>
/// <param name="Gap">From noticing the loss to the session answering again.</param>
public sealed record ResumeRecord(DateTime AtUtc, string Node, TimeSpan Gap, int EntriesReplayed);

/// <summary>Counters of a client session.</summary>
public sealed record SessionStats(
    long FramesPushed,
    long FramesCommitted,
    int Uncommitted,
    long EntriesReplayed,
    long CommittedThroughUs,
    long Results,
    long DuplicateResultsDropped,
    long ResultsDroppedUnread,
    IReadOnlyDictionary<RejectReason, long> Rejected,
    int Opens,
    long Disconnects,
    IReadOnlyList<ResumeRecord> Resumes,
    string? Node,
    long ForgedDropped = 0,
    int ReopenBackoffs = 0);
