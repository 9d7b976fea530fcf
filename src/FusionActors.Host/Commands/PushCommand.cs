using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using FusionActors.Client;
using FusionActors.Host.Playback;
using FusionActors.Host.Remote;
using FusionActors.Inference.Data;

namespace FusionActors.Host.Commands;

/// <summary>
/// A sensor client for real use and for load: plays a data set (the committed AV-Digits sample by default)
/// as live audio and camera streams into one or more sessions on a remote cluster, through the client
/// library (ClusterClient control, SinkRef frames, commit and replay), then prints what came back.
/// </summary>
public static class PushCommand
{
    public const string Usage =
        "push --to HOST:PORT[,HOST:PORT...] [--session ID] [--sessions N] [--dataset DIR] [--seconds N] [--rate X] " +
        "[--faults none|demo|outage,noise,jitter,bad] [--token T] [--hostname H] [--tls-cert PFX --tls-password P (--tls-ca PEM | --tls-insecure)] [--report PATH] [--quiet]";

    public static async Task<int> RunAsync(Args args, CancellationToken cancel)
    {
        args.AllowOnly("to", "session", "sessions", "dataset", "seconds", "rate", "faults", "token", "hostname", "tls-cert", "tls-password", "tls-ca", "tls-insecure", "report", "quiet");
        var to = args.String("to") ?? throw new UsageException("--to HOST:PORT is required (a node's remoting address)");
        var contacts = to.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var dataset = args.String("dataset") is { } dir ? AvDigitsDataset.Load(dir) : AvDigitsDataset.LoadSample();
        var seconds = args.Int("seconds", Math.Min(30, dataset.Items.Count), 1, dataset.Items.Count);
        var count = args.Int("sessions", 1, 1, 10_000);
        var rate = Rate(args.String("rate"));
        var plan = Faults(args.String("faults") ?? "none", seconds);
        var baseId = args.String("session") ?? $"push-{Environment.MachineName.ToLowerInvariant()}-{Environment.ProcessId}";
        var quiet = args.Flag("quiet");
        if (args.String("tls-cert") is not null && args.String("tls-ca") is null && !args.Flag("tls-insecure"))
            throw new UsageException("--tls-cert needs --tls-ca PEM, the cluster's CA (or --tls-insecure, for development only)");
        var items = dataset.Items.Take(seconds).ToArray();

        var options = new FusionClientOptions
        {
            Contacts = contacts,
            Token = args.String("token") ?? Environment.GetEnvironmentVariable("FUSION_SESSION_TOKEN"),
            // The address nodes send results to: loopback unless the client runs on another machine or container.
            Hostname = args.String("hostname") ?? Environment.GetEnvironmentVariable("FUSION_CLIENT_HOSTNAME") ?? "127.0.0.1",
            Tls = args.String("tls-cert") is { } cert ? new ClientTls(cert, args.String("tls-password"), args.String("tls-ca"), args.Flag("tls-insecure")) : null,
        };
        System.Console.WriteLine($"pushing {seconds} s of AV-Digits ({dataset.Directory}) into {count} session(s) on {to} at {rate:0.##}x real time; faults: {args.String("faults") ?? "none"}");
        await using var client = await FusionClient.ConnectAsync(options);

        var ids = count == 1 ? [baseId] : Enumerable.Range(0, count).Select(i => $"{baseId}-{i}").ToArray();
        var runs = new List<(string Id, FusionSession Session, ResultTally Tally, SessionPlayer Player, Task Reading)>();
        using var stopReading = new CancellationTokenSource();
        var clock = Stopwatch.StartNew();
        try
        {
            foreach (var id in ids)
            {
                var spec = AvDigitsSession.Spec(id);
                // Faster than real time stamps frames ahead of the session clock: allow it instead of rejecting them.
                if (rate > 1) spec = spec with { Streams = spec.Streams.Select(s => s with { MaxFutureSkewUs = 3_600_000_000 }).ToArray() };
                var session = await client.OpenSessionAsync(spec, cancel);
                var tally = new ResultTally(items);
                runs.Add((id, session, tally, new SessionPlayer(session, rate), tally.RunAsync(session, stopReading.Token)));
                if (!quiet && count <= 10) System.Console.WriteLine($"session {id} opened on {session.Node}");
            }
            var playing = runs.Select(r => r.Player.PlayAsync(Timeline.Build(r.Id, items, plan), cancel, quiet ? null : second =>
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
            var report = new PushReport(to, count, seconds, rate, args.String("faults") ?? "none",
                sessions.Sum(s => s.FramesSent), sessions.Sum(s => s.FramesCommitted), sessions.Sum(s => s.WindowsFused),
                sessions.Sum(s => s.WindowsExpected), sessions.Average(s => s.Accuracy),
                Math.Round(sessions.Sum(s => s.FramesSent) / played.TotalSeconds, 1), Math.Round(elapsed.TotalSeconds, 2),
                sessions.Sum(s => s.Resumes), count <= 50 ? sessions : []);
            Print(report, sessions);
            if (args.String("report") is { } path)
            {
                Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
                await File.WriteAllTextAsync(path, JsonSerializer.Serialize(report, FailoverScenario.Json), cancel);
                System.Console.WriteLine($"report written to {path}");
            }
            return report.FramesCommitted == report.FramesSent ? 0 : 1;
        }
        finally
        {
            foreach (var r in runs) await r.Session.DisposeAsync();
        }
    }

    private static double Rate(string? text)
    {
        if (text is null) return 1.0;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var r) || r is <= 0 or > 1000)
            throw new UsageException($"--rate must be a number in (0, 1000], got '{text}'");
        return r;
    }

    /// <summary>
    /// none, demo (the demo's schedule but the encoder crash), or a comma list of outage, noise, jitter, bad. A client
    /// cannot crash an encoder: chaos commands are the operator's (<c>fusionctl chaos crash-encoder</c>).
    /// </summary>
    public static FaultPlan Faults(string spec, int seconds)
    {
        if (spec == "none") return new FaultPlan();
        var demo = FaultPlan.Demo(seconds) with { CrashCameraEncoderAt = null };
        if (spec == "demo") return demo;
        var plan = new FaultPlan();
        foreach (var f in spec.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            plan = f switch
            {
                "outage" => plan with { CameraOutage = demo.CameraOutage },
                "noise" => plan with { AudioNoise = demo.AudioNoise },
                "jitter" => plan with { Jitter = true },
                "crash" => throw new UsageException("a client cannot crash an encoder: chaos drills are the operator's (fusionctl chaos crash-encoder)"),
                "bad" => plan with { BadInputAt = demo.BadInputAt },
                _ => throw new UsageException($"unknown fault '{f}' (none, demo, or a list of outage, noise, jitter, bad)"),
            };
        return plan;
    }

    private static void Progress(double second, SessionStats[] stats) =>
        System.Console.WriteLine($"[{second,4:0}s] pushed {stats.Sum(s => s.FramesPushed)}, committed {stats.Sum(s => s.FramesCommitted)}, " +
                          $"held {stats.Sum(s => s.Uncommitted)}, results {stats.Sum(s => s.Results)}, reopened {stats.Sum(s => s.Resumes.Count)}");

    private static void Print(PushReport r, SessionReport[] sessions)
    {
        System.Console.WriteLine();
        System.Console.WriteLine($"sessions {r.Sessions}: frames sent {r.FramesSent}, committed {r.FramesCommitted}; windows fused {r.WindowsFused}/{r.WindowsExpected}; " +
                          $"accuracy {r.Accuracy:P1}; {r.FramesPerSec} frames/s while playing; all committed after {r.Seconds} s; reopened {r.Resumes}x");
        foreach (var s in sessions.Take(10))
            System.Console.WriteLine($"  {s.SessionId}: {s.FramesCommitted}/{s.FramesSent} committed, {s.WindowsFused}/{s.WindowsExpected} windows, accuracy {s.Accuracy:P1}, " +
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
