using System.Diagnostics;
using System.Text.Json;
using FusionActors.Client;
using FusionActors.Scenarios.Faults;
using FusionActors.Scenarios.Playback;
using FusionActors.Scenarios.Remote;
using FusionActors.Scenarios.Sessions;
using FusionActors.Inference.Data;

namespace FusionActors.Scenarios.Push;

/// <summary>What the push client plays, into how many sessions on which cluster, and where its report goes.</summary>
public sealed record PushOptions
{
    /// <summary>The contact points, as given (HOST:PORT[,HOST:PORT...]); reported as such.</summary>
    public required string To { get; init; }

    /// <summary>How the client connects: contacts, token, its own address, TLS.</summary>
    public required FusionClientOptions Client { get; init; }

    public required AvDigitsDataset Dataset { get; init; }

    /// <summary>Items played, one 1 s window each.</summary>
    public required int Seconds { get; init; }

    /// <summary>Sessions, each fed the same frames; more than one are named SESSION-0, SESSION-1, ...</summary>
    public int Sessions { get; init; } = 1;

    /// <summary>The session id (or the prefix of the ids of several).</summary>
    public required string SessionId { get; init; }

    /// <summary>Times real time.</summary>
    public double Rate { get; init; } = 1.0;

    /// <summary>The faults by name, as <see cref="SensorFaults.Parse"/> takes them.</summary>
    public string Faults { get; init; } = "none";

    /// <summary>Where the JSON report is written; none when null.</summary>
    public string? Report { get; init; }

    public bool Quiet { get; init; }

    /// <summary>The sessions' streams; null = the built-in audio + image session (config/sessions/av-digits.json).</summary>
    public SessionDescription? Session { get; init; }
}

/// <summary>
/// A sensor client for real use and for load: plays a data set (the committed AV-Digits sample by default)
/// as live audio and camera streams into one or more sessions on a remote cluster, through the client
/// library (ClusterClient control, SinkRef frames, commit and replay), then prints what came back.
/// Exit code 0 when every frame sent was committed, else 1.
/// </summary>
public static class PushScenario
{
    public static async Task<int> RunAsync(PushOptions o, CancellationToken cancel)
    {
        var to = o.To;
        var dataset = o.Dataset;
        var seconds = o.Seconds;
        var count = o.Sessions;
        var rate = o.Rate;
        var plan = SensorFaults.Parse(o.Faults, seconds);
        var baseId = o.SessionId;
        var quiet = o.Quiet;
        var items = dataset.Items.Take(seconds).ToArray();
        var options = o.Client;
        var description = o.Session ?? SessionDescription.LoadDefault();
        Console.WriteLine($"pushing {seconds} s of AV-Digits ({dataset.Directory}) into {count} session(s) on {to} at {rate:0.##}x real time; faults: {o.Faults}");
        Console.WriteLine($"streams: {description.Describe()}");
        await using var client = await FusionClient.ConnectAsync(options);

        var ids = count == 1 ? [baseId] : Enumerable.Range(0, count).Select(i => $"{baseId}-{i}").ToArray();
        var runs = new List<(string Id, FusionSession Session, ResultTally Tally, SessionPlayer Player, Task Reading)>();
        using var stopReading = new CancellationTokenSource();
        var clock = Stopwatch.StartNew();
        try
        {
            foreach (var id in ids)
            {
                var spec = description.Spec(id);
                // Faster than real time stamps frames ahead of the session clock: allow it instead of rejecting them.
                if (rate > 1) spec = spec with { Streams = spec.Streams.Select(s => s with { MaxFutureSkewUs = 3_600_000_000 }).ToArray() };
                var session = await client.OpenSessionAsync(spec, cancel);
                var tally = new ResultTally(items);
                runs.Add((id, session, tally, new SessionPlayer(session, rate), tally.RunAsync(session, stopReading.Token)));
                if (!quiet && count <= 10) Console.WriteLine($"session {id} opened on {session.Node}");
            }
            var playing = runs.Select(r => r.Player.PlayAsync(Timeline.Build(r.Id, items, plan, description), cancel, quiet ? null : second =>
            {
                if (second % 5 == 0) Progress(second, runs.Select(x => x.Session.Stats).ToArray());
                return Task.CompletedTask;
            })).ToArray();
            await Task.WhenAll(playing);
            var played = clock.Elapsed;
            foreach (var r in runs) await r.Session.WaitCommittedAsync(long.MaxValue, TimeSpan.FromSeconds(60), cancel);
            var elapsed = clock.Elapsed;
            await Task.Delay(200, cancel); // the last results travel just ahead of the final commit
            await stopReading.CancelAsync();
            await Task.WhenAll(runs.Select(r => r.Reading));

            var sessions = runs.Select(r => SessionReport.Of(r.Id, r.Session.Stats, r.Tally.Summarize())).ToArray();
            var report = new PushReport(to, count, seconds, rate, o.Faults,
                sessions.Sum(s => s.FramesSent), sessions.Sum(s => s.FramesCommitted), sessions.Sum(s => s.WindowsFused),
                sessions.Sum(s => s.WindowsExpected), sessions.Average(s => s.Accuracy),
                Math.Round(sessions.Sum(s => s.FramesSent) / played.TotalSeconds, 1), Math.Round(elapsed.TotalSeconds, 2),
                sessions.Sum(s => s.Resumes), count <= 50 ? sessions : []);
            Print(report, sessions);
            if (o.Report is { } path)
            {
                Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
                await File.WriteAllTextAsync(path, JsonSerializer.Serialize(report, FailoverScenario.Json), cancel);
                Console.WriteLine($"report written to {path}");
            }
            return report.FramesCommitted == report.FramesSent ? 0 : 1;
        }
        finally
        {
            foreach (var r in runs) await r.Session.DisposeAsync();
        }
    }

    private static void Progress(double second, SessionStats[] stats) =>
        Console.WriteLine($"[{second,4:0}s] pushed {stats.Sum(s => s.FramesPushed)}, committed {stats.Sum(s => s.FramesCommitted)}, " +
                          $"held {stats.Sum(s => s.Uncommitted)}, results {stats.Sum(s => s.Results)}, reopened {stats.Sum(s => s.Resumes.Count)}");

    private static void Print(PushReport r, SessionReport[] sessions)
    {
        Console.WriteLine();
        Console.WriteLine($"sessions {r.Sessions}: frames sent {r.FramesSent}, committed {r.FramesCommitted}; windows fused {r.WindowsFused}/{r.WindowsExpected}; " +
                          $"accuracy {r.Accuracy:P1}; {r.FramesPerSec} frames/s while playing; all committed after {r.Seconds} s; reopened {r.Resumes}x");
        foreach (var s in sessions.Take(10))
            Console.WriteLine($"  {s.SessionId}: {s.FramesCommitted}/{s.FramesSent} committed, {s.WindowsFused}/{s.WindowsExpected} windows, accuracy {s.Accuracy:P1}, " +
                              $"rejected {s.FramesRejected.Values.Sum()} ({string.Join(", ", s.FramesRejected.Select(kv => $"{kv.Key} {kv.Value}"))}), node {s.Node}");
    }
}

public sealed record SessionReport(string SessionId, long FramesSent, long FramesCommitted, int WindowsExpected, int WindowsFused, int WindowsWithMissingModality,
    double Accuracy, long Results, long DuplicateResultsDropped, Dictionary<string, long> FramesRejected, int Resumes, string? Node)
{
    public static SessionReport Of(string id, SessionStats s, ResultTally.Summary t) => new(id, s.FramesPushed, s.FramesCommitted, t.WindowsExpected,
        t.WindowsFused, t.WindowsWithMissingModality, Math.Round(t.Accuracy, 4), s.Results, s.DuplicateResultsDropped,
        s.Rejected.ToDictionary(kv => kv.Key.ToString(), kv => kv.Value), s.Resumes.Count, s.Node);
}

public sealed record PushReport(string To, int Sessions, int SecondsPlayed, double Rate, string Faults, long FramesSent, long FramesCommitted,
    int WindowsFused, int WindowsExpected, double Accuracy, double FramesPerSec, double Seconds, int Resumes, SessionReport[] PerSession);
