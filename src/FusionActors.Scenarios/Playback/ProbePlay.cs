using FusionActors.Client;
using FusionActors.Protocol;

namespace FusionActors.Scenarios.Playback;

/// <summary>
/// A sensor application's run of one session: plays a timeline in real time while reading every result the client
/// library hands over, waits until every frame is committed, then lets the last results (which travel just ahead of
/// the final commit) arrive before it stops reading. The soaks' probes are this, with their own tallies.
/// </summary>
public static class ProbePlay
{
    /// <param name="onResult">Called for each result delivered, on the reading task (not concurrently with itself).</param>
    /// <param name="drained">Polled after the final commit: true once the tally has every result it waits for.</param>
    /// <returns>The session's statistics after the final commit.</returns>
    public static async Task<SessionStats> RunAsync(FusionSession session, IReadOnlyList<TimelineEvent> timeline, Action<FusedResult> onResult,
        Func<SessionStats, bool> drained, CancellationToken cancel)
    {
        using var stopReading = new CancellationTokenSource();
        var reading = Task.Run(async () =>
        {
            try
            {
                await foreach (var r in session.Results.WithCancellation(stopReading.Token)) onResult(r);
            }
            catch (OperationCanceledException)
            {
            }
        }, CancellationToken.None);
        await new SessionPlayer(session).PlayAsync(timeline, cancel);
        await session.WaitCommittedAsync(long.MaxValue, TimeSpan.FromSeconds(120), cancel);
        var stats = session.Stats;
        var drainUntil = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (DateTime.UtcNow < drainUntil && !drained(stats)) await Task.Delay(20, cancel);
        await stopReading.CancelAsync();
        await reading;
        return stats;
    }
}
