using System.Text.Json;

namespace FusionActors.Soak;

/// <summary>
/// One round of a lane: a push process's session, its exit and what its report (<c>push --report</c>) says; or a round of
/// the in-process probe, which also counts what reached the application twice (<see cref="DuplicateResultsDelivered"/>;
/// the push report has no such count).
/// </summary>
public sealed record PushRound(
    string SessionId,
    int Lane,
    int Seconds,
    int? ExitCode,
    bool Reported,
    long FramesSent,
    long FramesCommitted,
    int WindowsExpected,
    int WindowsFused,
    long Results,
    long DuplicateResultsDropped,
    int Resumes,
    long FramesRejected,
    string? Problem,
    long? DuplicateResultsDelivered = null,
    WindowMiss[]? MissingWindows = null,
    double? StartedAtSeconds = null,
    long? OutrankedResultsDropped = null)
{
    /// <summary>Reads the push report (camelCase JSON: totals, and perSession for up to 50 sessions).</summary>
    public static PushRound FromReport(string sessionId, int lane, int seconds, int? exitCode, string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var root = doc.RootElement;
        long results = 0, dropped = 0, rejected = 0;
        if (root.TryGetProperty("perSession", out var sessions))
            foreach (var s in sessions.EnumerateArray())
            {
                results += s.GetProperty("results").GetInt64();
                dropped += s.GetProperty("duplicateResultsDropped").GetInt64();
                if (s.TryGetProperty("framesRejected", out var r))
                    foreach (var kv in r.EnumerateObject()) rejected += kv.Value.GetInt64();
            }
        return new PushRound(sessionId, lane, seconds, exitCode, true,
            root.GetProperty("framesSent").GetInt64(), root.GetProperty("framesCommitted").GetInt64(),
            root.GetProperty("windowsExpected").GetInt32(), root.GetProperty("windowsFused").GetInt32(),
            results, dropped, root.GetProperty("resumes").GetInt32(), rejected,
            exitCode == 0 ? null : $"push exited with code {exitCode}");
    }
}

/// <param name="Window">The window's index in the session (its second of the data set).</param>
/// <param name="ClosedAtSeconds">When the application got the window's last result, in seconds since the lanes started.</param>
/// <param name="Status">The last result's status (NoEvidence), or null when none came.</param>
public sealed record WindowMiss(int Window, double? ClosedAtSeconds, string? Status);
