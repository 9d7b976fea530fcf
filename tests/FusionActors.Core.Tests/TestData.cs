using FusionActors.Core.Alignment;
using FusionActors.Core.Fusion;
using FusionActors.Core.Specs;
using FusionActors.Core.Streams;
using FusionActors.Protocol;
using FusionActors.Protocol.Specs;

namespace FusionActors.Core.Tests;

/// <summary>Small builders so each spec states only what matters to it.</summary>
internal static class TestData
{
    public const long Ms = 1_000;
    public const long Sec = 1_000_000;

    public static StreamSpec Stream(string id, string? modality = null, int frameLength = 4, int priority = 0,
        long maxOutOfOrdernessUs = 50 * Ms, double priorWeight = 1.0, long freshnessTauUs = Sec) => new()
    {
        StreamId = id,
        Modality = modality ?? id,
        Model = "noop",
        FrameLength = frameLength,
        Priority = priority,
        MaxOutOfOrdernessUs = maxOutOfOrdernessUs,
        PriorWeight = priorWeight,
        FreshnessTauUs = freshnessTauUs,
    };

    public static SessionSpec Session(params StreamSpec[] streams) => new()
    {
        SessionId = "s1",
        Streams = streams,
        Labels = ["a", "b", "c"],
    };

    public static SessionSpec AudioVideo(WindowSpec? window = null, long allowedLatenessUs = 0) =>
        Session(Stream("audio"), Stream("video")) with
        {
            Window = window ?? WindowSpec.Tumbling(Sec),
            AllowedLatenessUs = allowedLatenessUs,
        };

    /// <summary>Evidence with log-probabilities of the given probabilities (3 classes by default).</summary>
    public static Evidence Ev(string stream, long startUs, long endUs = -1, double[]? probs = null, int revision = 0,
        float[]? embedding = null, string? modality = null) =>
        new(stream, modality ?? stream, startUs, endUs < 0 ? startUs + 1 : endUs, embedding ?? [],
            probs is null ? [] : probs.Select(p => Math.Log(p)).ToArray(), 1.0, 0, revision);

    public static Evidence EvP(string stream, long startUs, params double[] probs) => Ev(stream, startUs, probs: probs);

    public static Frame Frame(string stream, long seq, long eventTimeUs, int length, float value = 1f) =>
        new("s1", stream, seq, eventTimeUs, Enumerable.Repeat(value, length).ToArray());

    public static AlignedWindow Window(long startUs, long endUs, int revision = 0, params Evidence[] evidence) =>
        new(startUs, endUs, revision,
            evidence.GroupBy(e => e.StreamId).ToDictionary(g => g.Key, g => (IReadOnlyList<Evidence>)g.ToList()),
            endUs, 0);

    public static Dictionary<string, StreamSnapshot> Healthy(params string[] streams) =>
        streams.ToDictionary(s => s, _ => new StreamSnapshot(StreamState.Active, 1.0));

    /// <summary>Reports both streams complete through <paramref name="us"/> and advances (again while a step stops at its budget).</summary>
    public static AlignmentOutput AdvanceAll(this Aligner aligner, long us, long? now = null)
    {
        foreach (var id in aligner.Watermark.StreamIds.ToList()) aligner.SetStreamWatermark(id, us);
        return aligner.AdvanceFully(now);
    }

    /// <summary>Advances as the alignment actor does: again while a step stopped at its budget; what every step emitted.</summary>
    public static AlignmentOutput AdvanceFully(this Aligner aligner, long? now)
    {
        var first = aligner.Advance(now);
        if (!aligner.MorePending) return first;
        var windows = new List<AlignedWindow>(first.Windows);
        var late = new List<Evidence>(first.Late);
        while (aligner.MorePending)
        {
            var next = aligner.Advance(now);
            windows.AddRange(next.Windows);
            late.AddRange(next.Late);
        }
        return new AlignmentOutput(windows, late);
    }
}
