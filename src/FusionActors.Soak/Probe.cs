using FusionActors.Client;
using FusionActors.Protocol;
using FusionActors.Scenarios;
using FusionActors.Scenarios.Faults;
using FusionActors.Scenarios.Playback;
using FusionActors.Inference.Data;

namespace FusionActors.Soak;

/// <summary>
/// A sensor application inside the soak's process, next to the push processes: the same AV-Digits session, played in real
/// time through the client library over the same proxies. Being the application, it sees every result the library hands
/// over, so it counts a window and revision delivered twice, which a push report cannot show.
/// </summary>
public static class Probe
{
    public static async Task<PushRound> RunAsync(FusionClient client, string id, int lane, int seconds, Func<double> now, CancellationToken cancel)
    {
        var items = AvDigitsDataset.LoadSample().Items.Take(seconds).ToArray();
        var seen = new HashSet<(long Start, long End, int Revision)>();
        var latest = new Dictionary<long, FusedStatus>();
        var latestRevision = new Dictionary<long, int>();
        var latestAt = new Dictionary<long, double>();
        long delivered = 0, duplicates = 0;
        FusionSession? session = null;
        try
        {
            // The timeline is built before the open: the session clock starts at the open, and a gap longer than the streams'
            // idle timeout (2 s) before the first frame would close the first windows on processing time.
            var timeline = Timeline.Build(id, items, new SensorFaults());
            session = await client.OpenSessionAsync(AvDigitsSession.Spec(id), cancel);
            var stats = await ProbePlay.RunAsync(session, timeline, r =>
            {
                lock (seen)
                {
                    delivered++;
                    if (!seen.Add((r.WindowStartUs, r.WindowEndUs, r.Revision))) duplicates++;
                    if (!latestRevision.TryGetValue(r.WindowStartUs, out var rev) || rev < r.Revision)
                    {
                        latestRevision[r.WindowStartUs] = r.Revision;
                        latest[r.WindowStartUs] = r.Status;
                        latestAt[r.WindowStartUs] = Math.Round(now(), 1);
                    }
                }
            }, s =>
            {
                lock (seen) return delivered >= s.Results;
            }, cancel);
            WindowMiss[] missing;
            lock (seen)
                missing = Enumerable.Range(0, items.Length)
                    .Where(i => !latest.TryGetValue(i * 1_000_000L, out var s) || s == FusedStatus.NoEvidence)
                    .Select(i => new WindowMiss(i, latestAt.TryGetValue(i * 1_000_000L, out var t) ? t : null,
                        latest.TryGetValue(i * 1_000_000L, out var s) ? s.ToString() : null))
                    .ToArray();
            return new PushRound(id, lane, seconds, 0, true, stats.FramesPushed, stats.FramesCommitted, items.Length, items.Length - missing.Length, delivered,
                stats.DuplicateResultsDropped, stats.Resumes.Count, stats.Rejected.Values.Sum(), null, duplicates, missing,
                OutrankedResultsDropped: stats.OutrankedResultsDropped);
        }
        catch (Exception e) when (e is FusionSessionException or TimeoutException or InvalidOperationException)
        {
            // What the session still held when the probe gave up is lost to it, as to a sensor that gives up.
            var stats = session?.Stats;
            lock (seen)
                return new PushRound(id, lane, seconds, null, false, stats?.FramesPushed ?? 0, stats?.FramesCommitted ?? 0, items.Length, 0, delivered,
                    stats?.DuplicateResultsDropped ?? 0, stats?.Resumes.Count ?? 0, stats?.Rejected.Values.Sum() ?? 0, $"probe: {e.GetType().Name}: {e.Message}", duplicates);
        }
        finally
        {
            if (session is not null) await session.DisposeAsync();
        }
    }
}
