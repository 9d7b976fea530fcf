using FusionActors.Core.Specs;
using FusionActors.Core.Streams;
using FusionActors.Core.Time;
using FusionActors.Protocol.Specs;

namespace FusionActors.Core.Alignment.Windows;

/// <summary>
/// Tumbling and sliding windows, [origin + k·hop, origin + k·hop + length): a window closes when the watermark
/// reaches its end − 1, empty ones too (so a silent session still reports), in order of start.
/// A window closed while the watermark follows processing time (no stream live) is provisional: its evidence may
/// still be on its way (a paused node, a cut link, a client that started late), so it stays open until the streams'
/// own watermark passes it, and is emitted again with the next revision if evidence arrived for it meanwhile.
/// </summary>
public sealed class GridWindowAssigner : IWindowAssigner
{
    /// <summary>
    /// Windows one watermark step may close one by one. Beyond, a run of windows with no evidence in any stream
    /// is skipped (counted in <see cref="SkippedCount"/>) instead of reported empty one by one: a client stamping
    /// Unix-epoch times on a session that starts at 0 would otherwise make a billion NoEvidence results.
    /// </summary>
    public const int MaxWindowsPerStep = 10_000;

    /// <summary>
    /// Windows closed on processing time kept open for their evidence at most. Beyond, the oldest one is final
    /// (counted in <see cref="ProvisionalGivenUp"/>): a session silent for an hour with a 10 ms hop keeps no more.
    /// </summary>
    public const int MaxProvisionalWindows = 4096;

    /// <summary>
    /// What the windows one <see cref="Close"/> emits may hold, at most (by <see cref="EmptyWindowCost"/> and
    /// <see cref="StreamEntryCost"/>), whatever the hop, the number of streams or the jump of the watermark: a step that
    /// reaches it stops, <see cref="MorePending"/> says so, and the next step goes on where it stopped.
    /// </summary>
    public const long MaxEmittedBytesPerStep = 512 * 1024;

    /// <summary>What an emitted window costs at least: its record, its place in the output and among the windows kept for revision.</summary>
    public const long EmptyWindowCost = 256;

    /// <summary>What a window with evidence costs besides, per stream: an entry in its map and a list of that stream's evidence.</summary>
    public const long StreamEntryCost = 128;

    private readonly EvidenceBuffers _state;
    private readonly WindowGrid _grid;
    private readonly long _lengthUs;
    private readonly long _hopUs;
    private long _nextCloseStart;
    // Windows closed on processing time, by start: the revision last emitted and whether evidence came since.
    // Made on the first window closed on the clock: a session that never idles does not carry it.
    private SortedDictionary<long, (int Revision, bool Changed)>? _provisionalWindows;
    private int _changed; // provisional windows with evidence not emitted yet

    public GridWindowAssigner(SessionSpec spec, EvidenceBuffers state)
    {
        _state = state;
        _lengthUs = spec.Window.LengthUs;
        _hopUs = spec.Window.HopUs;
        _grid = new WindowGrid(spec.StartUs, _lengthUs, Math.Max(1, spec.Window.HopUs));
        _nextCloseStart = spec.StartUs;
    }

    public long SkippedCount { get; private set; }

    /// <summary>The last <see cref="Close"/> stopped at <see cref="MaxEmittedBytesPerStep"/> with windows still to emit.</summary>
    public bool MorePending { get; private set; }

    /// <summary>Provisional windows made final over <see cref="MaxProvisionalWindows"/> before their evidence could come.</summary>
    public long ProvisionalGivenUp { get; private set; }

    /// <summary>Windows closed on processing time still open to their evidence.</summary>
    public int ProvisionalCount => _provisionalWindows?.Count ?? 0;

    private SortedDictionary<long, (int Revision, bool Changed)> Provisional => _provisionalWindows ??= new();

    public long StepUs => _hopUs;

    /// <summary>
    /// The start of the first window not closed yet, or not final yet (closed on processing time, its evidence
    /// possibly still to come): evidence before it lies only in windows that are final. +infinity once a finished
    /// session has closed every window.
    /// </summary>
    public long CommittedThroughUs
    {
        get
        {
            var through = _state.Watermark.CurrentUs == EventTime.PlusInfinity && _nextCloseStart > _state.MaxSeenUs
                ? EventTime.PlusInfinity
                : _nextCloseStart;
            if (ProvisionalCount > 0) through = Math.Min(through, FirstProvisional());
            return through;
        }
    }

    /// <summary>Windows that start before <paramref name="atUs"/> are not closed again: neither fused twice nor reported empty.</summary>
    public void ResumeAt(long atUs)
    {
        if (atUs <= _nextCloseStart || atUs == EventTime.PlusInfinity) return;
        // The first window that starts at or after atUs.
        var k = WindowGrid.FloorDiv(atUs - _grid.OriginUs + _grid.HopUs - 1, _grid.HopUs);
        _nextCloseStart = Math.Max(_nextCloseStart, _grid.StartOf(k));
    }

    public AlignmentOutput OnEvidence(Evidence e, SortedList<long, Evidence> buffer)
    {
        var (first, last) = _grid.WindowsContaining(e.TimeUs);
        var live = false;
        List<long>? revise = null;
        List<long>? reopened = null;
        for (var k = first; k <= last; k++)
        {
            var start = _grid.StartOf(k);
            if (start >= _nextCloseStart) live = true;
            else if (ProvisionalCount > 0 && Provisional.ContainsKey(start))
            {
                live = true;
                (reopened ??= []).Add(start);
            }
            else if (_state.Retained.ContainsKey(start))
            {
                live = true;
                (revise ??= []).Add(start);
            }
        }
        if (!live) return _state.Late(e);
        if (!_state.Store(e, buffer)) return AlignmentOutput.None;
        // A provisional window is emitted again once, when it becomes final (or the clock closes it again), not
        // once per piece of evidence that arrives for it.
        if (reopened is not null)
            foreach (var start in reopened)
            {
                var p = Provisional[start];
                if (!p.Changed) _changed++;
                Provisional[start] = (p.Revision, true);
            }
        if (revise is null) return AlignmentOutput.None;
        var windows = new List<AlignedWindow>(revise.Count);
        long spent = 0; // revisions of one piece of evidence: at most the windows per instant, not capped further
        foreach (var start in revise)
        {
            var revision = ++_state.Retained[start];
            _state.CountRevision();
            windows.Add(Build(start, revision, ref spent));
        }
        return new AlignmentOutput(windows, []);
    }

    public List<AlignedWindow>? Close(long w)
    {
        List<AlignedWindow>? closed = null;
        var onClock = _state.Watermark.FollowsProcessingTime;
        long spent = 0;
        MorePending = false;
        while (EventTime.SaturatingAdd(_nextCloseStart, _lengthUs - 1) <= w)
        {
            // A finished session closes windows up to its last evidence, not to infinity.
            if (w == EventTime.PlusInfinity && _nextCloseStart > _state.MaxSeenUs) break;
            if (WindowsToClose(w) > MaxWindowsPerStep && SkipEmptyWindows(w)) continue;
            if (spent >= MaxEmittedBytesPerStep)
            {
                MorePending = true;
                break;
            }
            closed ??= new List<AlignedWindow>((int)Int128.Min(WindowsToClose(w), MaxEmittedBytesPerStep / EmptyWindowCost));
            closed.Add(Build(_nextCloseStart, 0, ref spent));
            _state.CountClosed();
            if (onClock) AddProvisional(_nextCloseStart);
            else if (_state.LatenessUs > 0) _state.Retained[_nextCloseStart] = 0;
            _nextCloseStart += _grid.HopUs;
        }
        if (ProvisionalCount > 0) Settle(onClock, ref closed, ref spent);
        return closed;
    }

    /// <summary>
    /// Provisional windows the streams' own watermark has passed become final, emitted with the next revision when
    /// evidence came for them; while the watermark follows processing time again, those with new evidence are
    /// emitted with it at once (the clock closes them again) and stay provisional.
    /// </summary>
    private void Settle(bool onClock, ref List<AlignedWindow>? closed, ref long spent)
    {
        if (onClock && _changed == 0) return;
        var eventTime = _state.Watermark.EventTimeUs;
        List<long>? final = null;
        List<(long Start, int Revision)>? emitted = null;
        foreach (var (start, (revision, changed)) in Provisional)
        {
            var passed = !onClock && EventTime.SaturatingAdd(start, _lengthUs - 1) <= eventTime;
            if (!passed && !onClock) break; // in order of start: the ones after it are not passed either
            if (changed && spent >= MaxEmittedBytesPerStep)
            {
                // Over the step's budget: this one and those after it wait for the next step, still provisional.
                MorePending = true;
                break;
            }
            if (passed) (final ??= []).Add(start);
            if (!changed) continue;
            (closed ??= []).Add(Build(start, revision + 1, ref spent));
            _state.CountRevision();
            (emitted ??= []).Add((start, revision + 1));
        }
        if (emitted is not null)
            foreach (var (start, revision) in emitted)
            {
                Provisional[start] = (revision, false);
                _changed--;
            }
        if (final is null) return;
        foreach (var start in final) MakeFinal(start);
    }

    private void AddProvisional(long start)
    {
        Provisional[start] = (0, false);
        if (Provisional.Count <= MaxProvisionalWindows) return;
        MakeFinal(FirstProvisional());
        ProvisionalGivenUp++;
    }

    /// <summary>A provisional window is final: from now on it takes late evidence as any closed window does.</summary>
    private void MakeFinal(long start)
    {
        var (revision, changed) = Provisional[start];
        if (changed) _changed--;
        Provisional.Remove(start);
        if (_state.LatenessUs > 0) _state.Retained[start] = revision;
    }

    private long FirstProvisional()
    {
        foreach (var start in Provisional.Keys) return start;
        return EventTime.PlusInfinity;
    }

    public long LastTimeOf(long key) => key + _lengthUs - 1;

    public long KeepFrom(long watermarkUs)
    {
        var from = _state.Retained.Count > 0 ? Math.Min(_state.Retained.Keys.First(), _nextCloseStart) : _nextCloseStart;
        return ProvisionalCount > 0 ? Math.Min(from, FirstProvisional()) : from;
    }

    /// <summary>How many grid windows closing up to <paramref name="w"/> would take from here (wide arithmetic: no overflow).</summary>
    private Int128 WindowsToClose(long w)
    {
        var limit = w == EventTime.PlusInfinity ? (Int128)_state.MaxSeenUs + _lengthUs : w;
        var span = limit - (_lengthUs - 1) - _nextCloseStart;
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
        foreach (var buffer in _state.Buffers.Values)
        {
            var keys = buffer.Keys;
            var i = EvidenceBuffers.LowerBound(keys, _nextCloseStart);
            if (i < keys.Count && keys[i] < next) next = keys[i];
        }
        var limit = w == EventTime.PlusInfinity ? (Int128)_state.MaxSeenUs + _lengthUs : w;
        var lastBlock = limit - (_lengthUs - 1) - (Int128)(MaxWindowsPerStep - 1) * _grid.HopUs;
        var target = next == long.MaxValue ? lastBlock : Int128.Min((Int128)next - _lengthUs + 1, lastBlock);
        if (target <= _nextCloseStart) return false;
        // The first window that starts at or after the target.
        var k = WindowGrid.FloorDiv((long)(target - _grid.OriginUs + _grid.HopUs - 1), _grid.HopUs);
        var start = _grid.StartOf(k);
        if (start <= _nextCloseStart) return false;
        SkippedCount += (start - _nextCloseStart) / _grid.HopUs;
        _nextCloseStart = start;
        return true;
    }

    private AlignedWindow Build(long start, int revision, ref long spent)
    {
        var end = start + _lengthUs;
        spent += EmptyWindowCost;
        // A run of empty windows closed in one step (up to MaxWindowsPerStep) costs a record each, not a map per stream each.
        if (!_state.AnyEvidenceIn(start, end)) return _state.Window(start, end, revision, _state.NoEvidence);
        spent += StreamEntryCost * _state.Buffers.Count;
        // One array of lists over the session's shared stream ids, not a dictionary per window.
        var buffers = _state.Ordered;
        var evidence = new IReadOnlyList<Evidence>[buffers.Length];
        for (var i = 0; i < buffers.Length; i++) evidence[i] = EvidenceBuffers.Range(buffers[i], start, end);
        return _state.Window(start, end, revision, new StreamMap<IReadOnlyList<Evidence>>(_state.Keys, evidence));
    }

    /// <summary>
    /// Problems of a grid <paramref name="window"/>. Tumbling windows may leave gaps (hop over length); sliding ones
    /// may not (<paramref name="hopMayExceedLength"/> false).
    /// </summary>
    public static void Validate(WindowSpec window, SpecLimits limits, bool hopMayExceedLength, List<string> problems)
    {
        var (w, l, p) = (window, limits, problems);
        if (w.LengthUs <= 0 || w.HopUs <= 0) p.Add("window length and hop must be > 0");
        else if (!hopMayExceedLength && w.HopUs > w.LengthUs) p.Add("sliding window hop must not exceed its length");
        else
        {
            if (w.LengthUs > l.MaxDurationUs) p.Add($"window length must be at most {l.MaxDurationUs} us");
            if (w.HopUs < l.MinWindowHopUs) p.Add($"window hop must be at least {l.MinWindowHopUs} us");
            else if (w.LengthUs / w.HopUs > l.MaxWindowsPerInstant) p.Add($"window length / hop over {l.MaxWindowsPerInstant} windows per instant");
        }
    }
}
