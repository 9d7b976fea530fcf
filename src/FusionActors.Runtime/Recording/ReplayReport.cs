using System.Text.Json;
using System.Text.Json.Serialization;

namespace FusionActors.Runtime.Recording;

/// <summary>Where two runs of a recording decide a window differently.</summary>
/// <param name="PosteriorDelta">The largest difference of a class's probability (NaN when one side has no result).</param>
/// <param name="WeightDelta">The largest difference of a modality's weight (NaN when one side has no result).</param>
public sealed record DecisionDifference(long WindowStartUs, int Revision, string? A, string? B, double ConfidenceA, double ConfidenceB,
    double PosteriorDelta = double.NaN, double WeightDelta = double.NaN)
{
    public static double MaxDelta(IReadOnlyList<double> a, IReadOnlyList<double> b) =>
        a.Count != b.Count ? double.PositiveInfinity : a.Zip(b).Select(p => Math.Abs(p.First - p.Second)).DefaultIfEmpty(0).Max();

    public static double MaxDelta(IReadOnlyDictionary<string, double> a, IReadOnlyDictionary<string, double> b) =>
        a.Keys.Union(b.Keys).Select(k => Math.Abs(a.GetValueOrDefault(k) - b.GetValueOrDefault(k))).DefaultIfEmpty(0).Max();
}

/// <summary>
/// The JSON report of a replay: what was replayed, every fused result (window, revision, status, top label, confidence,
/// posterior, weights, missing modalities), and how the recording's own results compare. It holds nothing that changes
/// between runs (no timings, no dates), so two runs of the same recording, models and policy write the same bytes.
/// </summary>
public static class ReplayReport
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>The recording's own results the replay decided the same, bit for bit, and the windows it decided otherwise.</summary>
    public static (int Recorded, int Same, IReadOnlyList<DecisionDifference> Different) AgainstRecording(RecordingContents recording, ReplayResult replay)
    {
        var recorded = recording.Records.OfType<RecordedResult>().Select(ReplayedResult.Of).ToList();
        var replayed = replay.Results.ToDictionary(r => (r.WindowStartUs, r.Revision));
        var same = 0;
        var different = new List<DecisionDifference>();
        foreach (var r in recorded)
        {
            if (replayed.TryGetValue((r.WindowStartUs, r.Revision), out var x) && x.SameAs(r)) same++;
            else different.Add(new DecisionDifference(r.WindowStartUs, r.Revision, Label(r), x is null ? null : Label(x), r.Confidence, x?.Confidence ?? double.NaN,
                x is null ? double.NaN : DecisionDifference.MaxDelta(r.Posterior, x.Posterior), x is null ? double.NaN : DecisionDifference.MaxDelta(r.Weights, x.Weights)));
        }
        return (recorded.Count, same, different);
    }

    /// <summary>The windows (and revisions) two replays decide differently: another top label, or a window only one of them fused.</summary>
    public static IReadOnlyList<DecisionDifference> Compare(ReplayResult a, ReplayResult b)
    {
        var left = a.Results.ToDictionary(r => (r.WindowStartUs, r.Revision));
        var right = b.Results.ToDictionary(r => (r.WindowStartUs, r.Revision));
        return left.Keys.Union(right.Keys).Order()
            .Select(k => (k, L: left.GetValueOrDefault(k), R: right.GetValueOrDefault(k)))
            .Where(x => x.L is null || x.R is null || Label(x.L) != Label(x.R) || x.L.Status != x.R.Status)
            .Select(x => new DecisionDifference(x.k.WindowStartUs, x.k.Revision, x.L is null ? null : Label(x.L), x.R is null ? null : Label(x.R),
                x.L?.Confidence ?? double.NaN, x.R?.Confidence ?? double.NaN))
            .ToList();
    }

    private static string Label(ReplayedResult r) => r.Status == Protocol.FusedStatus.NoEvidence ? "(no evidence)" : r.TopLabel ?? r.TopClass.ToString();

    public static string Build(string recording, string models, RecordingContents contents, ReplayResult replay)
    {
        var (count, same, different) = AgainstRecording(contents, replay);
        return JsonSerializer.Serialize(new
        {
            recording,
            models,
            sessionId = replay.SessionId,
            policy = replay.Policy,
            records = replay.Records,
            frames = replay.FramesReplayed,
            clockSteps = replay.ClockSteps,
            readStoppedBecause = contents.StoppedBecause,
            results = replay.Results,
            recorded = new { results = count, sameAsReplay = same, different },
        }, Json);
    }

    public static string BuildComparison(string recording, (string Name, ReplayResult Run) a, (string Name, ReplayResult Run) b)
    {
        var different = Compare(a.Run, b.Run);
        return JsonSerializer.Serialize(new
        {
            recording,
            a = new { name = a.Name, policy = a.Run.Policy, results = a.Run.Results },
            b = new { name = b.Name, policy = b.Run.Policy, results = b.Run.Results },
            windows = a.Run.Results.Select(r => (r.WindowStartUs, r.Revision)).Union(b.Run.Results.Select(r => (r.WindowStartUs, r.Revision))).Count(),
            different,
        }, Json);
    }
}
