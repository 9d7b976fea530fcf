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
    // Per window delivered (pruned once far behind the commit point): the highest wire revision delivered, how many
    // results of it the application got, and whether one was decided on evidence.
    private readonly Dictionary<(long Start, long End), WindowDelivery> _windows = new();
    private readonly SortedSet<(long End, long Start)> _byEnd = [];
    // Windows not committed yet, by start: the highest revision delivered. A reopen hands them to a new incarnation,
    // which numbers its results of them above (docs/design.md, "Delivery").
    private readonly SortedDictionary<long, int> _delivered = new();
    private readonly Dictionary<RejectReason, long> _rejected = new();
    private readonly List<TaskCompletionSource> _commitWaiters = [];
    private readonly List<ResumeRecord> _resumes = [];
    private long _committedUs = long.MinValue;
    private long _resultCount, _duplicates, _dropped, _outranked;

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

    /// <summary>Answers to opens from an incarnation behind this client's commit point, not attached to.</summary>
    public int BehindAnswers { get; set; }

    public string? Node { get; set; }

    /// <summary>The session capability of this writer (<see cref="SessionOpened.Capability"/>): what its later operations carry.</summary>
    public string? Capability { get => Volatile.Read(ref _capability); set => Volatile.Write(ref _capability, value); }

    private string? _capability;

    /// <summary>Messages in the session's name that did not carry its seal or nonce: dropped (<see cref="SessionStats.ForgedDropped"/>).</summary>
    public long Forged;

    public long CommittedThroughUs { get { lock (_gate) return _committedUs; } }

    /// <summary>
    /// Takes a result from the session and hands it to the application, or drops it. Per window, the application gets
    /// results in the order the session ranks them (its wire revision): one the application has (the same window and
    /// revision, from an incarnation that died before its commit reached this client) is dropped as a duplicate; one
    /// ranked below a result delivered (an older incarnation's, arriving late), or a <see cref="FusedStatus.NoEvidence"/>
    /// after a result decided on evidence (another incarnation that lacked the frames), is dropped as outranked. What the
    /// application sees numbers each window's results 0, 1, 2, ... (<see cref="FusedResult.Revision"/>), whatever the
    /// incarnations numbered them.
    /// </summary>
    public void OnResult(FusedResult r)
    {
        lock (_gate)
        {
            var key = (r.WindowStartUs, r.WindowEndUs);
            var had = _windows.TryGetValue(key, out var window);
            if (had && r.Revision == window.Wire)
            {
                _duplicates++;
                return;
            }
            if (had && (r.Revision < window.Wire || (r.Status == FusedStatus.NoEvidence && window.Evidence)))
            {
                _outranked++;
                return;
            }
            if (!had) _byEnd.Add((r.WindowEndUs, r.WindowStartUs));
            _windows[key] = new WindowDelivery(r.Revision, window.Count + 1, window.Evidence || r.Status != FusedStatus.NoEvidence);
            _resultCount++;
            if (r.WindowStartUs >= _committedUs)
            {
                if (!_delivered.TryGetValue(r.WindowStartUs, out var rev) || rev < r.Revision) _delivered[r.WindowStartUs] = r.Revision;
                // The session refuses a resume naming more: the oldest are dropped (their results may then repeat a key).
                while (_delivered.Count > Aligner.MaxResumedRevisions) _delivered.Remove(_delivered.Keys.First());
            }
            r = r with { Revision = window.Count };
        }
        _results.Writer.TryWrite(r);
    }

    /// <param name="Wire">The highest revision delivered, as the session numbered it.</param>
    /// <param name="Count">Results of the window the application got.</param>
    /// <param name="Evidence">Whether one of them was decided on evidence.</param>
    private readonly record struct WindowDelivery(int Wire, int Count, bool Evidence);

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
                _windows.Remove((k.Start, k.End));
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
                [.. _resumes], Node, Interlocked.Read(ref Forged), ReopenBackoffs, _outranked, BehindAnswers);
    }
}

/// <summary>One reopen of a session after its connection was lost.</summary>
/// <param name="Gap">From noticing the loss to the session answering again.</param>
public sealed record ResumeRecord(DateTime AtUtc, string Node, TimeSpan Gap, int EntriesReplayed);

/// <summary>Counters of a client session.</summary>
/// <param name="DuplicateResultsDropped">Results dropped because the application had their window and revision.</param>
/// <param name="OutrankedResultsDropped">
/// Results dropped because their window had a result the session ranks higher (an older incarnation's, arriving late), or
/// because they were NoEvidence for a window the application had a result decided on evidence of.
/// </param>
/// <param name="BehindIncarnationsRefused">Answers to opens from an incarnation behind this client's commit point, which it did not attach to.</param>
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
    int ReopenBackoffs = 0,
    long OutrankedResultsDropped = 0,
    int BehindIncarnationsRefused = 0);
