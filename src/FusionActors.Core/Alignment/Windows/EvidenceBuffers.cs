using FusionActors.Core.Streams;
using FusionActors.Core.Time;
using FusionActors.Protocol.Specs;

namespace FusionActors.Core.Alignment.Windows;

/// <summary>
/// What an <see cref="Aligner"/> holds whatever its window kind: each stream's evidence by start time (capped; over
/// the cap the lowest-priority modality is shed), the session watermark, the closed windows still open to revision,
/// and the counters. Window assigners read and write it; it decides nothing about windows.
/// </summary>
public sealed class EvidenceBuffers
{
    private readonly Dictionary<string, StreamSpec> _streams = new();
    private readonly Dictionary<string, long> _shed = new();
    private readonly int _maxBuffered;

    public EvidenceBuffers(SessionSpec spec)
    {
        foreach (var s in spec.Streams)
        {
            Buffers[s.StreamId] = new SortedList<long, Evidence>();
            _streams[s.StreamId] = s;
        }
        Keys = new StreamKeys([.. Buffers.Keys]);
        Ordered = [.. Keys.Ids.Select(id => Buffers[id])];
        Watermark = new SessionWatermark(_streams.Keys, spec.Streams.Max(s => s.MaxOutOfOrdernessUs));
        LatenessUs = spec.AllowedLatenessUs;
        _maxBuffered = spec.MaxBufferedEvidence;
    }

    /// <summary>Each stream's evidence by its start time.</summary>
    public Dictionary<string, SortedList<long, Evidence>> Buffers { get; } = new();

    /// <summary>The session's stream ids in spec order (the order <see cref="Buffers"/> enumerates): the keys of every window's evidence map.</summary>
    public StreamKeys Keys { get; }

    /// <summary>The buffers of <see cref="Buffers"/>, in the order of <see cref="Keys"/>.</summary>
    public SortedList<long, Evidence>[] Ordered { get; }

    public SessionWatermark Watermark { get; }

    /// <summary>The spec's allowed lateness.</summary>
    public long LatenessUs { get; }

    /// <summary>Closed windows (by start or anchor time) still open to revision, with their latest revision.</summary>
    public SortedDictionary<long, int> Retained { get; } = new();

    /// <summary>The latest event time of any evidence seen.</summary>
    public long MaxSeenUs { get; private set; } = EventTime.MinusInfinity;

    public long LateCount { get; private set; }

    public long RevisionCount { get; private set; }

    public long ClosedCount { get; private set; }

    public int Buffered { get; private set; }

    /// <summary>Evidence shed over the buffer cap, per stream.</summary>
    public IReadOnlyDictionary<string, long> Shed => _shed;

    /// <summary>Counts a window closed (its first emission).</summary>
    public void CountClosed() => ClosedCount++;

    /// <summary>Counts a closed window emitted again with a new revision.</summary>
    public void CountRevision() => RevisionCount++;

    /// <summary>Notes the event time of evidence that arrived, stored or not.</summary>
    public void Saw(Evidence e)
    {
        if (e.TimeUs > MaxSeenUs) MaxSeenUs = e.TimeUs;
    }

    /// <summary>Counts <paramref name="e"/> late and hands it to the side output.</summary>
    public AlignmentOutput Late(Evidence e)
    {
        LateCount++;
        return new AlignmentOutput([], [e]);
    }

    /// <summary>Stores evidence; a repeat or an older revision of the same input is ignored (returns false).</summary>
    public bool Store(Evidence e, SortedList<long, Evidence> buffer)
    {
        if (buffer.TryGetValue(e.StartUs, out var existing))
        {
            if (existing.Revision >= e.Revision) return false;
            buffer[e.StartUs] = e;
            return true;
        }
        buffer.Add(e.StartUs, e);
        Buffered++;
        while (Buffered > _maxBuffered) ShedOne();
        return true;
    }

    /// <summary>Drops every piece of evidence that starts before <paramref name="keepFromUs"/>.</summary>
    public void DropBefore(long keepFromUs)
    {
        foreach (var buffer in Buffers.Values)
            while (buffer.Count > 0 && buffer.Keys[0] < keepFromUs)
            {
                buffer.RemoveAt(0);
                Buffered--;
            }
    }

    /// <summary>A window as the fusion sees it, stamped with the watermark and its lag now.</summary>
    /// <summary>The evidence of a window no stream has evidence in: one map shared by all of them.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<Evidence>> NoEvidence =>
        _noEvidence ??= new StreamMap<IReadOnlyList<Evidence>>(Keys, [.. Keys.Ids.Select(_ => (IReadOnlyList<Evidence>)[])]);

    private IReadOnlyDictionary<string, IReadOnlyList<Evidence>>? _noEvidence;

    /// <summary>Whether any stream holds evidence in [<paramref name="fromUs"/>, <paramref name="toUs"/>).</summary>
    public bool AnyEvidenceIn(long fromUs, long toUs)
    {
        foreach (var buffer in Buffers.Values)
        {
            var keys = buffer.Keys;
            var i = LowerBound(keys, fromUs);
            if (i < keys.Count && keys[i] < toUs) return true;
        }
        return false;
    }

    public AlignedWindow Window(long startUs, long endUs, int revision, IReadOnlyDictionary<string, IReadOnlyList<Evidence>> evidence) =>
        new(startUs, endUs, revision, evidence, Watermark.CurrentUs, Lag());

    private long Lag() =>
        MaxSeenUs == EventTime.MinusInfinity || Watermark.CurrentUs == EventTime.MinusInfinity
            ? 0
            : Math.Max(0, MaxSeenUs - Watermark.CurrentUs);

    private void ShedOne()
    {
        string? victim = null;
        foreach (var (id, buffer) in Buffers)
        {
            if (buffer.Count == 0) continue;
            if (victim is null) { victim = id; continue; }
            var p = _streams[id].Priority;
            var vp = _streams[victim].Priority;
            if (p < vp || (p == vp && buffer.Count > Buffers[victim].Count)) victim = id;
        }
        if (victim is null) return;
        Buffers[victim].RemoveAt(0);
        Buffered--;
        _shed[victim] = _shed.GetValueOrDefault(victim) + 1;
    }

    /// <summary>The evidence of <paramref name="buffer"/> that starts in [<paramref name="from"/>, <paramref name="to"/>).</summary>
    public static IReadOnlyList<Evidence> Range(SortedList<long, Evidence> buffer, long from, long to)
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

    /// <summary>The evidence of <paramref name="buffer"/> that starts nearest <paramref name="t"/>, at most <paramref name="tol"/> away.</summary>
    public static Evidence? Nearest(SortedList<long, Evidence> buffer, long t, long tol)
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

    /// <summary>Index of the first key ≥ <paramref name="value"/>.</summary>
    public static int LowerBound(IList<long> keys, long value)
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
