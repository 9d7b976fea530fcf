using System.Text.Json;
using System.Text.Json.Serialization;

namespace FusionActors.Soak;

/// <summary>What a soak run found. It passes when no frame was lost, no result reached the application twice and every window was fused.</summary>
/// <param name="FramesLost">Frames a push process sent and the cluster never committed.</param>
/// <param name="WindowsFused">Windows (1 s of the data set) with a result decided on evidence; a window without one is missing.</param>
/// <param name="DuplicateResultsDelivered">
/// Results the client library handed to the application although it had handed over the same window and revision before,
/// counted by the probe's application (push reports give no such count).
/// </param>
/// <param name="DuplicateResultsDropped">Results the client library dropped as already delivered (sent again by a session's new incarnation).</param>
/// <param name="OutrankedResultsDropped">
/// Results the probe's client library dropped as outranked: a lower revision than one delivered (an older incarnation's,
/// late), or a NoEvidence after a result decided on evidence (push reports give no such count).
/// </param>
/// <param name="ResumeSeconds">From a fault's start to the next open of each session the faulted node hosted.</param>
public sealed record SoakReport(
    int Seed,
    double Minutes,
    DateTime StartedUtc,
    double WallSeconds,
    int Sessions,
    int PushRounds,
    int ProbeRounds,
    long FramesSent,
    long FramesCommitted,
    long FramesLost,
    long FramesRejected,
    int WindowsExpected,
    int WindowsFused,
    int WindowsMissing,
    long ResultsDelivered,
    long DuplicateResultsDelivered,
    long DuplicateResultsDropped,
    long OutrankedResultsDropped,
    long SessionReopens,
    Percentiles ResumeSeconds,
    int NodeRestarts,
    int NodesForcedToRestart,
    int RestartsThatFormedOwnCluster,
    int QuarantinedNodesThatKeptRunning,
    int FaultsInjected,
    Dictionary<string, int> FaultsByKind,
    int FaultSlotsSkipped,
    bool Passed,
    string[] Failures,
    FaultRecord[] Faults,
    ResumeSample[] Resumes,
    PushRound[] Rounds,
    string[] Notes)
{
    public static SoakReport Build(SoakRunner.Options o, DateTime started, TimeSpan wall, IReadOnlyList<PushRound> rounds, IReadOnlyList<FaultRecord> faults,
        ResumeSample[] resumes, int restarts, int forced, int islands, int zombies, int skipped, IReadOnlyList<string> notes)
    {
        var sent = rounds.Sum(r => r.FramesSent);
        var committed = rounds.Sum(r => r.FramesCommitted);
        var expected = rounds.Sum(r => r.WindowsExpected);
        var fused = rounds.Sum(r => r.WindowsFused);
        // Counted by the application that reads the results: the probe (a push report does not say).
        var duplicatesDelivered = rounds.Sum(r => r.DuplicateResultsDelivered ?? 0);
        var failures = new List<string>();
        if (sent - committed > 0) failures.Add($"{sent - committed} frames were never committed");
        foreach (var r in rounds.Where(r => r.FramesSent != r.FramesCommitted))
            failures.Add($"{r.SessionId}: {r.FramesSent - r.FramesCommitted} frames lost");
        foreach (var r in rounds.Where(r => r.WindowsFused < r.WindowsExpected))
            failures.Add($"{r.SessionId}: {r.WindowsExpected - r.WindowsFused} of {r.WindowsExpected} windows missing");
        // A session that could not open (the cluster did not answer within the client's request timeout) sent nothing:
        // a note, and its lane tries again. Any other problem is a failure.
        foreach (var r in rounds.Where(r => r.Problem is not null && !r.Problem.StartsWith("did not open", StringComparison.Ordinal)))
            failures.Add($"{r.SessionId}: {r.Problem}");
        var allNotes = notes.Concat(rounds.Where(r => r.Problem?.StartsWith("did not open", StringComparison.Ordinal) == true)
            .Select(r => $"{r.SessionId}: {r.Problem}")).ToArray();
        if (duplicatesDelivered > 0) failures.Add($"{duplicatesDelivered} results delivered twice");
        if (islands > 0) failures.Add($"{islands} restarted nodes formed a cluster of their own");
        if (zombies > 0) failures.Add($"{zombies} quarantined nodes kept running");
        if (faults.Count == 0) failures.Add("no fault was injected");
        if (rounds.Count == 0) failures.Add("no push round ran");
        var seconds = resumes.Select(r => r.Seconds).Order().ToArray();
        return new SoakReport(o.Seed, o.Minutes, started, Math.Round(wall.TotalSeconds, 1), o.Sessions, rounds.Count(r => r.DuplicateResultsDelivered is null), rounds.Count(r => r.DuplicateResultsDelivered is not null), sent, committed, sent - committed,
            rounds.Sum(r => r.FramesRejected), expected, fused, expected - fused, rounds.Sum(r => r.Results), duplicatesDelivered, rounds.Sum(r => r.DuplicateResultsDropped), rounds.Sum(r => r.OutrankedResultsDropped ?? 0),
            rounds.Sum(r => r.Resumes), Percentiles.Of(seconds), restarts, forced, islands, zombies, faults.Count,
            faults.GroupBy(f => f.Kind).OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count()), skipped,
            failures.Count == 0, [.. failures], [.. faults], resumes, [.. rounds.OrderBy(r => r.Lane).ThenBy(r => r.SessionId, StringComparer.Ordinal)], allNotes);
    }

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };
}

public sealed record Percentiles(int Count, double P50, double P99, double Max)
{
    public static Percentiles Of(double[] sorted) => sorted.Length == 0
        ? new Percentiles(0, double.NaN, double.NaN, double.NaN)
        : new Percentiles(sorted.Length, At(sorted, 0.50), At(sorted, 0.99), sorted[^1]);

    /// <summary>Nearest rank.</summary>
    private static double At(double[] sorted, double q) => sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1)];
}
