using FusionActors.Core.Alignment.Windows;
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
/// when the session watermark passes them (empty windows too, so a silent session still reports),
/// revises closed windows with evidence that is late by at most the allowed lateness, and hands later
/// evidence to the late-data side output. Which windows there are is the <see cref="IWindowAssigner"/>'s to say
/// (<see cref="WindowAssigners"/> makes it from the spec's window kind). Buffered evidence is capped; over the cap
/// the lowest-priority modality is shed.
/// No clock and no actor: the caller passes the session clock when it has one.
/// </summary>
public sealed class Aligner
{
    /// <inheritdoc cref="GridWindowAssigner.MaxWindowsPerStep"/>
    public const int MaxWindowsPerStep = GridWindowAssigner.MaxWindowsPerStep;

    private readonly EvidenceBuffers _state;
    private readonly IWindowAssigner _windows;
    private long[]? _expired; // made on the first expiry: an idle session does not carry it

    public Aligner(SessionSpec spec)
    {
        SpecValidator.EnsureValid(spec);
        _state = new EvidenceBuffers(spec);
        _windows = WindowAssigners.Create(spec, _state);
    }

    public long WatermarkUs => _state.Watermark.CurrentUs;

    public SessionWatermark Watermark => _state.Watermark;

    /// <summary>The window kind's assigner.</summary>
    public IWindowAssigner Windows => _windows;

    /// <summary>
    /// Event time before which every piece of evidence has been fused in all the windows it belongs to
    /// (frames before it are committed; a client may forget them). Grid windows: the start of the
    /// first window not closed yet (evidence before it lies only in closed windows). Anchor windows: the
    /// watermark less twice the tolerance (evidence is matched to anchors at most one tolerance away, which
    /// close one tolerance after their time). +infinity once a finished session has closed every window.
    /// </summary>
    public long CommittedThroughUs => _windows.CommittedThroughUs;

    /// <summary>
    /// Resumes a session that an earlier incarnation had fused up to <paramref name="atUs"/> (a client's last
    /// <see cref="CommittedThroughUs"/>, after a failover): grid windows that start before it are not closed
    /// again, so they are neither fused twice nor reported empty. Anchor windows need nothing: they exist only
    /// where anchor evidence arrives.
    /// </summary>
    public void ResumeAt(long atUs) => _windows.ResumeAt(atUs);

    /// <summary>Windows a resumed session's client was given, at most: <see cref="ResumeRevisions"/> refuses more.</summary>
    public const int MaxResumedRevisions = 1024;

    /// <summary>The highest revision a resume may name: far above any window's real revisions, far from overflow.</summary>
    public const int MaxResumedRevision = 1 << 20;

    /// <summary>Revisions each incarnation of a session has to itself: incarnation g numbers from g times this.</summary>
    public const int RevisionsPerGeneration = 1 << 12;

    /// <summary>The highest generation a resume may name (its revisions stay far from overflow).</summary>
    public const int MaxResumedGeneration = (1 << 18) - 1;

    /// <summary>
    /// Resumes the revision numbering of a session an earlier incarnation ran, so that what this one emits supersedes
    /// what the client has instead of repeating its (window, revision): a window closed empty on the clock by a paused
    /// node and fused here from the replayed frames. This incarnation's revision r of a window goes out as
    /// max(<paramref name="generation"/> · <see cref="RevisionsPerGeneration"/>, delivered + 1) + r, where delivered is
    /// the highest revision the client named for that window (<paramref name="delivered"/>, by start). The generation
    /// (how many incarnations the client attached to before) covers what an earlier incarnation still delivered
    /// after the client made its resume point; the delivered revisions cover a window revised more often than that.
    /// </summary>
    public void ResumeRevisions(IReadOnlyDictionary<long, int>? delivered, int generation = 0)
    {
        if (delivered is { Count: > MaxResumedRevisions })
            throw new ArgumentException($"a resume names at most {MaxResumedRevisions} windows", nameof(delivered));
        if (delivered is not null)
            foreach (var (_, revision) in delivered)
                if (revision is < 0 or > MaxResumedRevision)
                    throw new ArgumentException($"a resumed revision must be in [0, {MaxResumedRevision}]", nameof(delivered));
        if (generation is < 0 or > MaxResumedGeneration)
            throw new ArgumentOutOfRangeException(nameof(generation), $"a resumed generation must be in [0, {MaxResumedGeneration}]");
        _revisionFloor = generation * RevisionsPerGeneration;
        _revisionBase = delivered is null || delivered.Count == 0 ? null : new Dictionary<long, int>(delivered);
    }

    private int _revisionFloor;
    private Dictionary<long, int>? _revisionBase;

    public long LateCount => _state.LateCount;

    public long RevisionCount => _state.RevisionCount;

    public long ClosedCount => _state.ClosedCount;

    public int BufferedEvidence => _state.Buffered;

    /// <summary>Evidence shed over the buffer cap, per stream.</summary>
    public IReadOnlyDictionary<string, long> Shed => _state.Shed;

    /// <summary>Empty windows a single watermark step passed over without reporting them.</summary>
    public long SkippedCount => _windows.SkippedCount;

    /// <summary>
    /// The last <see cref="Advance"/> stopped at its budget (<see cref="GridWindowAssigner.MaxEmittedBytesPerStep"/> of
    /// windows) with windows still to close or revise: advance again to go on (the alignment actor does, at once).
    /// </summary>
    public bool MorePending => _windows.MorePending;

    public void SetStreamWatermark(string streamId, long completeThroughUs) => _state.Watermark.SetWatermark(streamId, completeThroughUs);

    public void SetStreamState(string streamId, StreamState state) => _state.Watermark.SetState(streamId, state);

    public AlignmentOutput OnEvidence(Evidence e)
    {
        if (!_state.Buffers.TryGetValue(e.StreamId, out var buffer))
            throw new ArgumentException($"evidence for unknown stream '{e.StreamId}'", nameof(e));
        _state.Saw(e);
        return Rebase(_windows.OnEvidence(e, buffer));
    }

    /// <summary>Recomputes the session watermark and closes every window it passed.</summary>
    public AlignmentOutput Advance(long? sessionNowUs)
    {
        _state.Watermark.Recompute(sessionNowUs);
        var w = _state.Watermark.CurrentUs;
        var closed = _windows.Close(w);
        ExpireRetained(w);
        Prune(w);
        return closed is null ? AlignmentOutput.None : Rebase(new AlignmentOutput(closed, []));
    }

    private AlignmentOutput Rebase(AlignmentOutput output)
    {
        if ((_revisionBase is null && _revisionFloor == 0) || output.Windows.Count == 0) return output;
        var rebased = new List<AlignedWindow>(output.Windows.Count);
        foreach (var w in output.Windows)
        {
            var from = _revisionBase is not null && _revisionBase.TryGetValue(w.StartUs, out var delivered)
                ? Math.Max(_revisionFloor, delivered + 1)
                : _revisionFloor;
            rebased.Add(from == 0 ? w : w with { Revision = from + w.Revision, RevisionBase = from });
        }
        return new AlignmentOutput(rebased, output.Late);
    }

    private void ExpireRetained(long w)
    {
        // In rounds of at most one buffer: a step that expires millions of windows (a finished session with an hour of
        // lateness) does not allocate a list of them all.
        var retained = _state.Retained;
        if (retained.Count == 0) return;
        var expired = _expired ??= new long[256];
        var full = true;
        while (full && retained.Count > 0)
        {
            var n = 0;
            foreach (var key in retained.Keys)
            {
                if (EventTime.SaturatingAdd(_windows.LastTimeOf(key), _state.LatenessUs) > w) break;
                expired[n++] = key;
                if (n == expired.Length) break;
            }
            for (var i = 0; i < n; i++) retained.Remove(expired[i]);
            full = n == expired.Length;
        }
    }

    /// <summary>Drops evidence that no open, pending or retained window can use any more.</summary>
    private void Prune(long w)
    {
        var keepFrom = _windows.KeepFrom(w);
        if (keepFrom == EventTime.MinusInfinity) return;
        _state.DropBefore(keepFrom);
    }
}
