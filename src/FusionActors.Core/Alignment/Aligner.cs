using FusionActors.Core.Specs;
using FusionActors.Core.Streams;
using FusionActors.Core.Time;
using FusionActors.Protocol;
using FusionActors.Protocol.Specs;

namespace FusionActors.Core.Alignment;

/// <summary>What one step of the aligner produced: windows to fuse (new or revised) and late evidence for the side output.</summary>
public sealed class AlignmentOutput
{
    public static readonly AlignmentOutput None = new([], []);

    public AlignmentOutput(IReadOnlyList<AlignedWindow> windows, IReadOnlyList<Evidence> late)
    {
        Windows = windows;
        Late = late;
    }

    public IReadOnlyList<AlignedWindow> Windows { get; }
    public IReadOnlyList<Evidence> Late { get; }
}

/// <summary>
/// Merges evidence of a session's streams by event time: buffers it per stream, closes windows
/// when the session watermark reaches their end − 1 (empty windows too, so a silent session still reports),
/// revises closed windows with evidence that is late by at most the allowed lateness, and hands later
/// evidence to the late-data side output. Anchor windows match every other stream nearest to each anchor
/// evidence within a tolerance. Buffered evidence is capped; over the cap the lowest-priority modality is shed.
/// No clock and no actor: the caller passes the session clock when it has one.
/// </summary>
public sealed class Aligner
{
    private readonly SessionSpec _spec;
    private readonly WindowSpec _window;
    private readonly WindowGrid _grid;
    private readonly long _lateness;
    private readonly Dictionary<string, SortedList<long, Evidence>> _buffers = new();
    private readonly Dictionary<string, StreamSpec> _streams = new();
    private readonly SessionWatermark _watermark;
    private readonly SortedDictionary<long, int> _retained = new(); // closed windows (start or anchor time) still open to revision
    private readonly long[] _expired = new long[256];
    private readonly SortedSet<long> _pendingAnchors = new();
    private readonly Dictionary<string, long> _shed = new();
    private readonly IReadOnlyDictionary<string, IReadOnlyList<Evidence>> _noEvidence; // shared by every window no stream has evidence in
    private long _nextCloseStart;
    private long _maxSeenUs = EventTime.MinusInfinity;
    private int _buffered;

    public Aligner(SessionSpec spec)
    {
        SpecValidator.EnsureValid(spec);
        _spec = spec;
        _window = spec.Window;
        _lateness = spec.AllowedLatenessUs;
        foreach (var s in spec.Streams)
        {
            _buffers[s.StreamId] = new SortedList<long, Evidence>();
            _streams[s.StreamId] = s;
        }
        _noEvidence = _buffers.Keys.ToDictionary(id => id, _ => (IReadOnlyList<Evidence>)[]);
        _watermark = new SessionWatermark(_streams.Keys, spec.Streams.Max(s => s.MaxOutOfOrdernessUs));
        _grid = new WindowGrid(spec.StartUs, _window.LengthUs, Math.Max(1, _window.HopUs));
        _nextCloseStart = spec.StartUs;
    }

    public long WatermarkUs => _watermark.CurrentUs;

    public SessionWatermark Watermark => _watermark;

    /// <summary>
    /// Event time before which every piece of evidence has been fused in all the windows it belongs to
    /// (frames before it are committed; a client may forget them). Grid windows: the start of the
    /// first window not closed yet (evidence before it lies only in closed windows). Anchor windows: the
    /// watermark less twice the tolerance (evidence is matched to anchors at most one tolerance away, which
    /// close one tolerance after their time). +infinity once a finished session has closed every window.
    /// </summary>
    public long CommittedThroughUs
    {
        get
        {
            var w = _watermark.CurrentUs;
            if (_window.Kind == WindowKind.Anchor)
                return w == EventTime.PlusInfinity && _pendingAnchors.Count == 0 ? w : EventTime.SaturatingAdd(w, -2 * _window.ToleranceUs);
            return w == EventTime.PlusInfinity && _nextCloseStart > _maxSeenUs ? EventTime.PlusInfinity : _nextCloseStart;
        }
    }

    /// <summary>
    /// Resumes a session that an earlier incarnation had fused up to <paramref name="atUs"/> (a client's last
    /// <see cref="CommittedThroughUs"/>, after a failover): grid windows that start before it are not closed
    /// again, so they are neither fused twice nor reported empty. Anchor windows need nothing: they exist only
    /// where anchor evidence arrives.
    /// </summary>
    public void ResumeAt(long atUs)
    {
        if (_window.Kind == WindowKind.Anchor || atUs <= _nextCloseStart || atUs == EventTime.PlusInfinity) return;
        // The first window that starts at or after atUs.
        var k = WindowGrid.FloorDiv(atUs - _grid.OriginUs + _grid.HopUs - 1, _grid.HopUs);
        _nextCloseStart = Math.Max(_nextCloseStart, _grid.StartOf(k));
    }

    public long LateCount { get; private set; }

    public long RevisionCount { get; private set; }

    public long ClosedCount { get; private set; }

    public int BufferedEvidence => _buffered;

    /// <summary>Evidence shed over the buffer cap, per stream.</summary>
    public IReadOnlyDictionary<string, long> Shed => _shed;

    public void SetStreamWatermark(string streamId, long completeThroughUs) => _watermark.SetWatermark(streamId, completeThroughUs);

    public void SetStreamState(string streamId, StreamState state) => _watermark.SetState(streamId, state);

    public AlignmentOutput OnEvidence(Evidence e)
    {
        if (!_buffers.TryGetValue(e.StreamId, out var buffer))
            throw new ArgumentException($"evidence for unknown stream '{e.StreamId}'", nameof(e));
        if (e.TimeUs > _maxSeenUs) _maxSeenUs = e.TimeUs;
        return _window.Kind == WindowKind.Anchor ? OnAnchoredEvidence(e, buffer) : OnGridEvidence(e, buffer);
    }

    /// <summary>Recomputes the session watermark and closes every window it passed.</summary>
    public AlignmentOutput Advance(long? sessionNowUs)
    {
        _watermark.Recompute(sessionNowUs);
        var w = _watermark.CurrentUs;
        var closed = _window.Kind == WindowKind.Anchor ? CloseAnchors(w) : CloseGrid(w);
        ExpireRetained(w);
        Prune(w);
        return closed is null ? AlignmentOutput.None : new AlignmentOutput(closed, []);
    }

    // ---- tumbling and sliding ----

    private AlignmentOutput OnGridEvidence(Evidence e, SortedList<long, Evidence> buffer)
    {
        var (first, last) = _grid.WindowsContaining(e.TimeUs);
        var live = false;
        List<long>? revise = null;
        for (var k = first; k <= last; k++)
        {
            var start = _grid.StartOf(k);
            if (start >= _nextCloseStart) live = true;
            else if (_retained.ContainsKey(start))
            {
                live = true;
                (revise ??= []).Add(start);
            }
        }
        if (!live) return Late(e);
        if (!Store(e, buffer)) return AlignmentOutput.None;
        if (revise is null) return AlignmentOutput.None;
        var windows = new List<AlignedWindow>(revise.Count);
        foreach (var start in revise)
        {
            var revision = ++_retained[start];
            RevisionCount++;
            windows.Add(BuildGridWindow(start, revision));
        }
        return new AlignmentOutput(windows, []);
    }

    /// <summary>
    /// Windows one watermark step may close one by one. Beyond, a run of windows with no evidence in any stream
    /// is skipped (counted in <see cref="SkippedCount"/>) instead of reported empty one by one: a client stamping
    /// Unix-epoch times on a session that starts at 0 would otherwise make a billion NoEvidence results.
    /// </summary>
    public const int MaxWindowsPerStep = 10_000;

    /// <summary>Empty windows a single watermark step passed over without reporting them.</summary>
    public long SkippedCount { get; private set; }

    private List<AlignedWindow>? CloseGrid(long w)
    {
        List<AlignedWindow>? closed = null;
        while (EventTime.SaturatingAdd(_nextCloseStart, _window.LengthUs - 1) <= w)
        {
            // A finished session closes windows up to its last evidence, not to infinity.
            if (w == EventTime.PlusInfinity && _nextCloseStart > _maxSeenUs) break;
            if (WindowsToClose(w) > MaxWindowsPerStep && SkipEmptyWindows(w)) continue;
            closed ??= new List<AlignedWindow>((int)Int128.Min(WindowsToClose(w), MaxWindowsPerStep));
            closed.Add(BuildGridWindow(_nextCloseStart, 0));
            ClosedCount++;
            if (_lateness > 0) _retained[_nextCloseStart] = 0;
            _nextCloseStart += _grid.HopUs;
        }
        return closed;
    }

    /// <summary>How many grid windows closing up to <paramref name="w"/> would take from here (wide arithmetic: no overflow).</summary>
    private Int128 WindowsToClose(long w)
    {
        var limit = w == EventTime.PlusInfinity ? (Int128)_maxSeenUs + _window.LengthUs : w;
        var span = limit - (_window.LengthUs - 1) - _nextCloseStart;
        return span < 0 ? 0 : span / _grid.HopUs + 1;
    }

    /// <summary>
    /// Moves the next window to close forward to the first one that may hold evidence, or to the last
    /// <see cref="MaxWindowsPerStep"/> windows this step closes, whichever comes first. False when the next window
    /// may hold evidence already (nothing to skip).
    /// </summary>
    private bool SkipEmptyWindows(long w)
    {
        var next = long.MaxValue;
        foreach (var buffer in _buffers.Values)
        {
            var keys = buffer.Keys;
            var i = LowerBound(keys, _nextCloseStart);
            if (i < keys.Count && keys[i] < next) next = keys[i];
        }
        var limit = w == EventTime.PlusInfinity ? (Int128)_maxSeenUs + _window.LengthUs : w;
        var lastBlock = limit - (_window.LengthUs - 1) - (Int128)(MaxWindowsPerStep - 1) * _grid.HopUs;
        var target = next == long.MaxValue ? lastBlock : Int128.Min((Int128)next - _window.LengthUs + 1, lastBlock);
        if (target <= _nextCloseStart) return false;
        // The first window that starts at or after the target.
        var k = WindowGrid.FloorDiv((long)(target - _grid.OriginUs + _grid.HopUs - 1), _grid.HopUs);
        var start = _grid.StartOf(k);
        if (start <= _nextCloseStart) return false;
        SkippedCount += (start - _nextCloseStart) / _grid.HopUs;
        _nextCloseStart = start;
        return true;
    }

    private AlignedWindow BuildGridWindow(long start, int revision)
    {
        var end = start + _window.LengthUs;
        // A run of empty windows closed in one step (up to MaxWindowsPerStep) costs a record each, not a map per stream each.
        if (!AnyEvidenceIn(start, end)) return new AlignedWindow(start, end, revision, _noEvidence, _watermark.CurrentUs, Lag());
        var evidence = new Dictionary<string, IReadOnlyList<Evidence>>(_buffers.Count);
        foreach (var (id, buffer) in _buffers)
            evidence[id] = Range(buffer, start, end);
        return new AlignedWindow(start, end, revision, evidence, _watermark.CurrentUs, Lag());
    }

    private bool AnyEvidenceIn(long from, long to)
    {
        foreach (var buffer in _buffers.Values)
        {
            var keys = buffer.Keys;
            var i = LowerBound(keys, from);
            if (i < keys.Count && keys[i] < to) return true;
        }
        return false;
    }

    // ---- anchor windows ----

    private AlignmentOutput OnAnchoredEvidence(Evidence e, SortedList<long, Evidence> buffer)
    {
        var w = _watermark.CurrentUs;
        var tol = _window.ToleranceUs;
        if (e.StreamId == _window.AnchorStream)
        {
            var closeAt = e.TimeUs + tol;
            if (closeAt > w)
            {
                if (!Store(e, buffer)) return AlignmentOutput.None;
                _pendingAnchors.Add(e.TimeUs);
                return AlignmentOutput.None;
            }
            if (EventTime.SaturatingAdd(closeAt, _lateness) > w || _retained.ContainsKey(e.TimeUs))
            {
                // An anchor late within the allowed lateness still gets its window, at once.
                if (!Store(e, buffer)) return AlignmentOutput.None;
                var revision = _retained.TryGetValue(e.TimeUs, out var r) ? r + 1 : 0;
                _retained[e.TimeUs] = revision;
                if (revision > 0) RevisionCount++;
                return new AlignmentOutput([BuildAnchorWindow(e.TimeUs, revision)], []);
            }
            return Late(e);
        }

        List<AlignedWindow>? revised = null;
        var usable = false;
        foreach (var a in _pendingAnchors.GetViewBetween(e.TimeUs - tol, e.TimeUs + tol)) { usable = true; break; }
        var candidates = _retained.Keys.Where(a => Math.Abs(a - e.TimeUs) <= tol).ToList();
        // Still matchable by an anchor to come: on time (a > w), or late within the allowed lateness (a + tol + L > w).
        var matchable = e.TimeUs + tol > w || (_lateness > 0 && EventTime.SaturatingAdd(e.TimeUs + 2 * tol, _lateness) > w);
        if (!usable && candidates.Count == 0 && !matchable) return Late(e);
        var before = candidates.ToDictionary(a => a, a => Nearest(buffer, a, tol));
        if (!Store(e, buffer)) return AlignmentOutput.None;
        foreach (var a in candidates)
        {
            if (ReferenceEquals(Nearest(buffer, a, tol), before[a])) continue;
            var revision = ++_retained[a];
            RevisionCount++;
            (revised ??= []).Add(BuildAnchorWindow(a, revision));
        }
        return revised is null ? AlignmentOutput.None : new AlignmentOutput(revised, []);
    }

    private List<AlignedWindow>? CloseAnchors(long w)
    {
        List<AlignedWindow>? closed = null;
        while (_pendingAnchors.Count > 0 && EventTime.SaturatingAdd(_pendingAnchors.Min, _window.ToleranceUs) <= w)
        {
            var a = _pendingAnchors.Min;
            _pendingAnchors.Remove(a);
            (closed ??= []).Add(BuildAnchorWindow(a, 0));
            ClosedCount++;
            if (_lateness > 0) _retained[a] = 0;
        }
        return closed;
    }

    private AlignedWindow BuildAnchorWindow(long anchorUs, int revision)
    {
        var tol = _window.ToleranceUs;
        var evidence = new Dictionary<string, IReadOnlyList<Evidence>>(_buffers.Count);
        foreach (var (id, buffer) in _buffers)
        {
            if (id == _window.AnchorStream)
                evidence[id] = buffer.TryGetValue(anchorUs, out var anchor) ? [anchor] : [];
            else
                evidence[id] = Nearest(buffer, anchorUs, tol) is { } n ? [n] : [];
        }
        return new AlignedWindow(anchorUs - tol, anchorUs + tol + 1, revision, evidence, _watermark.CurrentUs, Lag());
    }

    private static Evidence? Nearest(SortedList<long, Evidence> buffer, long t, long tol)
    {
        var keys = buffer.Keys;
        var i = LowerBound(keys, t - tol);
        Evidence? best = null;
        var bestDist = long.MaxValue;
        for (; i < keys.Count && keys[i] <= t + tol; i++)
        {
            var d = Math.Abs(keys[i] - t);
            if (d < bestDist) // ties go to the earlier evidence, deterministically
            {
                bestDist = d;
                best = buffer.Values[i];
            }
        }
        return best;
    }

    // ---- shared ----

    private AlignmentOutput Late(Evidence e)
    {
        LateCount++;
        return new AlignmentOutput([], [e]);
    }

    /// <summary>Stores evidence; a repeat or an older revision of the same input is ignored (returns false).</summary>
    private bool Store(Evidence e, SortedList<long, Evidence> buffer)
    {
        if (buffer.TryGetValue(e.StartUs, out var existing))
        {
            if (existing.Revision >= e.Revision) return false;
            buffer[e.StartUs] = e;
            return true;
        }
        buffer.Add(e.StartUs, e);
        _buffered++;
        while (_buffered > _spec.MaxBufferedEvidence) ShedOne();
        return true;
    }

    private void ShedOne()
    {
        string? victim = null;
        foreach (var (id, buffer) in _buffers)
        {
            if (buffer.Count == 0) continue;
            if (victim is null) { victim = id; continue; }
            var p = _streams[id].Priority;
            var vp = _streams[victim].Priority;
            if (p < vp || (p == vp && buffer.Count > _buffers[victim].Count)) victim = id;
        }
        if (victim is null) return;
        _buffers[victim].RemoveAt(0);
        _buffered--;
        _shed[victim] = _shed.GetValueOrDefault(victim) + 1;
    }

    private void ExpireRetained(long w)
    {
        // In rounds of at most one buffer: a step that expires millions of windows (a finished session with an hour of
        // lateness) does not allocate a list of them all.
        var full = true;
        while (full && _retained.Count > 0)
        {
            var n = 0;
            foreach (var key in _retained.Keys)
            {
                var lastTime = _window.Kind == WindowKind.Anchor ? key + _window.ToleranceUs : key + _window.LengthUs - 1;
                if (EventTime.SaturatingAdd(lastTime, _lateness) > w) break;
                _expired[n++] = key;
                if (n == _expired.Length) break;
            }
            for (var i = 0; i < n; i++) _retained.Remove(_expired[i]);
            full = n == _expired.Length;
        }
    }

    /// <summary>Drops evidence that no open, pending or retained window can use any more.</summary>
    private void Prune(long w)
    {
        long keepFrom;
        if (_window.Kind == WindowKind.Anchor)
        {
            var tol = _window.ToleranceUs;
            // Keep what a late anchor (accepted while a + tol + L > w) could still match.
            keepFrom = w == EventTime.MinusInfinity ? w
                : _lateness > 0 ? EventTime.SaturatingSubtract(w, 2 * tol + _lateness - 1)
                : w - tol;
            if (_pendingAnchors.Count > 0) keepFrom = Math.Min(keepFrom, _pendingAnchors.Min - tol);
            if (_retained.Count > 0) keepFrom = Math.Min(keepFrom, _retained.Keys.First() - tol);
        }
        else
        {
            keepFrom = _retained.Count > 0 ? Math.Min(_retained.Keys.First(), _nextCloseStart) : _nextCloseStart;
        }
        if (keepFrom == EventTime.MinusInfinity) return;
        foreach (var buffer in _buffers.Values)
            while (buffer.Count > 0 && buffer.Keys[0] < keepFrom)
            {
                buffer.RemoveAt(0);
                _buffered--;
            }
    }

    private long Lag() =>
        _maxSeenUs == EventTime.MinusInfinity || _watermark.CurrentUs == EventTime.MinusInfinity
            ? 0
            : Math.Max(0, _maxSeenUs - _watermark.CurrentUs);

    private static IReadOnlyList<Evidence> Range(SortedList<long, Evidence> buffer, long from, long to)
    {
        var keys = buffer.Keys;
        var i = LowerBound(keys, from);
        if (i >= keys.Count || keys[i] >= to) return [];
        var end = LowerBound(keys, to);
        var result = new Evidence[end - i]; // exact size: one array per stream and window, no list growth
        var values = buffer.Values;
        for (var j = 0; j < result.Length; j++) result[j] = values[i + j];
        return result;
    }

    private static int LowerBound(IList<long> keys, long value)
    {
        int lo = 0, hi = keys.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (keys[mid] < value) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }
}
