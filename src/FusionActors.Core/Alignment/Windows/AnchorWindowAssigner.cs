using FusionActors.Core.Specs;
using FusionActors.Core.Streams;
using FusionActors.Core.Time;
using FusionActors.Protocol.Specs;

namespace FusionActors.Core.Alignment.Windows;

/// <summary>
/// One window per evidence of the anchor stream, [anchor − tolerance, anchor + tolerance]: every other stream is
/// matched by its evidence nearest the anchor within the tolerance. A window closes once the watermark is one
/// tolerance past its anchor; windows exist only where anchor evidence arrives.
/// </summary>
public sealed class AnchorWindowAssigner : IWindowAssigner
{
    private readonly EvidenceBuffers _state;
    private readonly string? _anchorStream;
    private readonly long _tol;
    private readonly SortedSet<long> _pendingAnchors = new();

    public AnchorWindowAssigner(SessionSpec spec, EvidenceBuffers state)
    {
        _state = state;
        _anchorStream = spec.Window.AnchorStream;
        _tol = spec.Window.ToleranceUs;
    }

    public long SkippedCount => 0;

    public long StepUs => _tol;

    /// <summary>
    /// The watermark less twice the tolerance (evidence is matched to anchors at most one tolerance away, which
    /// close one tolerance after their time); +infinity once a finished session has closed every window.
    /// </summary>
    public long CommittedThroughUs
    {
        get
        {
            var w = _state.Watermark.CurrentUs;
            return w == EventTime.PlusInfinity && _pendingAnchors.Count == 0 ? w : EventTime.SaturatingAdd(w, -2 * _tol);
        }
    }

    /// <summary>Nothing to do: anchor windows exist only where anchor evidence arrives.</summary>
    public void ResumeAt(long atUs)
    {
    }

    public AlignmentOutput OnEvidence(Evidence e, SortedList<long, Evidence> buffer)
    {
        var w = _state.Watermark.CurrentUs;
        var tol = _tol;
        var lateness = _state.LatenessUs;
        var retained = _state.Retained;
        if (e.StreamId == _anchorStream)
        {
            var closeAt = e.TimeUs + tol;
            if (closeAt > w)
            {
                if (!_state.Store(e, buffer)) return AlignmentOutput.None;
                _pendingAnchors.Add(e.TimeUs);
                return AlignmentOutput.None;
            }
            if (EventTime.SaturatingAdd(closeAt, lateness) > w || retained.ContainsKey(e.TimeUs))
            {
                // An anchor late within the allowed lateness still gets its window, at once.
                if (!_state.Store(e, buffer)) return AlignmentOutput.None;
                var revision = retained.TryGetValue(e.TimeUs, out var r) ? r + 1 : 0;
                retained[e.TimeUs] = revision;
                if (revision > 0) _state.CountRevision();
                return new AlignmentOutput([Build(e.TimeUs, revision)], []);
            }
            return _state.Late(e);
        }

        List<AlignedWindow>? revised = null;
        var usable = false;
        foreach (var a in _pendingAnchors.GetViewBetween(e.TimeUs - tol, e.TimeUs + tol)) { usable = true; break; }
        var candidates = retained.Keys.Where(a => Math.Abs(a - e.TimeUs) <= tol).ToList();
        // Still matchable by an anchor to come: on time (a > w), or late within the allowed lateness (a + tol + L > w).
        var matchable = e.TimeUs + tol > w || (lateness > 0 && EventTime.SaturatingAdd(e.TimeUs + 2 * tol, lateness) > w);
        if (!usable && candidates.Count == 0 && !matchable) return _state.Late(e);
        var before = candidates.ToDictionary(a => a, a => EvidenceBuffers.Nearest(buffer, a, tol));
        if (!_state.Store(e, buffer)) return AlignmentOutput.None;
        foreach (var a in candidates)
        {
            if (ReferenceEquals(EvidenceBuffers.Nearest(buffer, a, tol), before[a])) continue;
            var revision = ++retained[a];
            _state.CountRevision();
            (revised ??= []).Add(Build(a, revision));
        }
        return revised is null ? AlignmentOutput.None : new AlignmentOutput(revised, []);
    }

    public List<AlignedWindow>? Close(long w)
    {
        List<AlignedWindow>? closed = null;
        while (_pendingAnchors.Count > 0 && EventTime.SaturatingAdd(_pendingAnchors.Min, _tol) <= w)
        {
            var a = _pendingAnchors.Min;
            _pendingAnchors.Remove(a);
            (closed ??= []).Add(Build(a, 0));
            _state.CountClosed();
            if (_state.LatenessUs > 0) _state.Retained[a] = 0;
        }
        return closed;
    }

    public long LastTimeOf(long key) => key + _tol;

    public long KeepFrom(long w)
    {
        var tol = _tol;
        var lateness = _state.LatenessUs;
        // Keep what a late anchor (accepted while a + tol + L > w) could still match.
        var keepFrom = w == EventTime.MinusInfinity ? w
            : lateness > 0 ? EventTime.SaturatingSubtract(w, 2 * tol + lateness - 1)
            : w - tol;
        if (_pendingAnchors.Count > 0) keepFrom = Math.Min(keepFrom, _pendingAnchors.Min - tol);
        if (_state.Retained.Count > 0) keepFrom = Math.Min(keepFrom, _state.Retained.Keys.First() - tol);
        return keepFrom;
    }

    private AlignedWindow Build(long anchorUs, int revision)
    {
        var evidence = new Dictionary<string, IReadOnlyList<Evidence>>(_state.Buffers.Count);
        foreach (var (id, buffer) in _state.Buffers)
        {
            if (id == _anchorStream)
                evidence[id] = buffer.TryGetValue(anchorUs, out var anchor) ? [anchor] : [];
            else
                evidence[id] = EvidenceBuffers.Nearest(buffer, anchorUs, _tol) is { } n ? [n] : [];
        }
        return _state.Window(anchorUs - _tol, anchorUs + _tol + 1, revision, evidence);
    }

    /// <summary>Problems of an anchor window: its anchor must be a stream of the session, its tolerance bounded.</summary>
    public static void Validate(SessionSpec spec, SpecLimits limits, List<string> problems)
    {
        var w = spec.Window;
        if (w.AnchorStream is null || spec.FindStream(w.AnchorStream) is null)
            problems.Add($"anchor stream '{SpecValidator.Shown(w.AnchorStream)}' is not a stream of the session");
        if (w.ToleranceUs <= 0 || w.ToleranceUs > limits.MaxDurationUs) problems.Add($"anchor tolerance must be in (0, {limits.MaxDurationUs}] us");
    }
}
