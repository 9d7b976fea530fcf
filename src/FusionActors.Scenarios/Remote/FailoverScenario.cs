using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using FusionActors.Client;
using FusionActors.Scenarios;
using FusionActors.Scenarios.Faults;
using FusionActors.Scenarios.Playback;
using FusionActors.Inference.Data;

namespace FusionActors.Scenarios.Remote;

/// <summary>
/// No loss across a node failure, end to end: three nodes in separate processes on loopback, a
/// client pushing a long AV-Digits session through the client library in real time, and a SIGKILL of the
/// node hosting the session. The session must come back on another node, every frame must be committed
/// (processed at least once), and every window must get a fused result.
/// </summary>
public static class FailoverScenario
{
    public sealed record Options
    {
        /// <summary>Items played (one 1 s window each).</summary>
        public int Seconds { get; init; } = 30;

        /// <summary>When the node hosting the session is killed, in session seconds.</summary>
        public double KillAtSeconds { get; init; } = 10;

        /// <summary>The session must answer again within this long after the kill.</summary>
        public TimeSpan ResumeLimit { get; init; } = TimeSpan.FromSeconds(10);

        public string? Dataset { get; init; }

        /// <summary>Network jitter with reordering, late and too-late frames (<see cref="LiveJitter"/>), on top of the kill.</summary>
        public bool Jitter { get; init; }

        /// <summary>Where node configs and logs go.</summary>
        public string LogDir { get; init; } = Path.Combine(Path.GetTempPath(), "fusion-failover");

        public Action<string>? Progress { get; init; }
    }

    public static async Task<FailoverReport> RunAsync(Options o, CancellationToken cancel)
    {
        var say = o.Progress ?? (_ => { });
        var dataset = o.Dataset is null ? AvDigitsDataset.LoadSample() : AvDigitsDataset.Load(o.Dataset);
        var items = dataset.Items.Take(o.Seconds).ToArray();
        if (items.Length < o.Seconds) throw new InvalidDataException($"the data set has {items.Length} items; {o.Seconds} are needed");
        var ports = new[] { NodeProcess.FreePort(), NodeProcess.FreePort(), NodeProcess.FreePort() };
        var nodes = new List<NodeProcess>();
        try
        {
            foreach (var p in ports) nodes.Add(NodeProcess.Start(p, [ports[0]], o.LogDir));
            say($"starting nodes on 127.0.0.1:{string.Join(", ", ports)} (logs in {o.LogDir})");
            foreach (var n in nodes) await n.WaitUpAsync(TimeSpan.FromSeconds(90));

            await using var client = await FusionClient.ConnectAsync(new FusionClientOptions { Contacts = ports.Select(p => $"127.0.0.1:{p}").ToArray() });
            await WaitForMembers(client, 3, TimeSpan.FromSeconds(60), cancel);
            say("3 nodes up");

            var sessionId = $"failover-{Guid.NewGuid():N}"[..17];
            var spec = AvDigitsSession.Spec(sessionId);
            await using var session = await client.OpenSessionAsync(spec, cancel);
            var tally = new ResultTally(items);
            using var stopReading = new CancellationTokenSource();
            var reading = tally.RunAsync(session, stopReading.Token);
            say($"session {sessionId} opened on {session.Node}");

            var plan = new SensorFaults { Network = o.Jitter ? new LiveJitter() : null, CameraNoiseSigma = SensorFaults.CleanCameraNoise };
            var killed = "";
            var killUtc = DateTime.MinValue;
            var player = new SessionPlayer(session);
            await player.PlayAsync(Timeline.Build(sessionId, items, plan), cancel, second =>
            {
                if (second == Math.Ceiling(o.KillAtSeconds) && killed == "")
                {
                    killed = session.Node ?? "";
                    var victim = nodes.Single(n => killed.EndsWith($":{n.Port}", StringComparison.Ordinal));
                    killUtc = DateTime.UtcNow;
                    victim.Kill();
                    say($"[{second,3:0}s] killed the node hosting the session: {killed} (pid {victim.Pid})");
                }
                return Task.CompletedTask;
            });
            say($"played {player.FramesPushed} frames; waiting for every frame to be committed");
            await session.WaitCommittedAsync(long.MaxValue, TimeSpan.FromSeconds(60), cancel);

            var stats = session.Stats;
            var drain = Stopwatch.StartNew();
            while (tally.Summarize().ResultsReceived < stats.Results && drain.Elapsed < TimeSpan.FromSeconds(5)) await Task.Delay(20, cancel);
            await stopReading.CancelAsync();
            await reading;
            var summary = tally.Summarize();

            var resume = stats.Resumes.FirstOrDefault();
            var resumeSeconds = resume is null ? double.NaN : (resume.AtUtc - killUtc).TotalSeconds;
            var failures = new List<string>();
            if (killed == "") failures.Add("no node was killed");
            if (resume is null) failures.Add("the session never resumed");
            else if (resume.Node == killed) failures.Add($"the session resumed on the killed node {killed}");
            if (!(resumeSeconds <= o.ResumeLimit.TotalSeconds)) failures.Add($"resume took {resumeSeconds:0.0} s (limit {o.ResumeLimit.TotalSeconds} s)");
            if (stats.FramesCommitted != stats.FramesPushed || stats.Uncommitted != 0)
                failures.Add($"{stats.FramesPushed - stats.FramesCommitted} frames were never committed");
            if (summary.WindowsWithResult != summary.WindowsExpected)
                failures.Add($"windows without a result: {string.Join(",", summary.MissingWindows)}");
            if (summary.WindowsFused != summary.WindowsExpected)
                failures.Add($"{summary.WindowsExpected - summary.WindowsFused} windows got no evidence (NoEvidence results)");

            return new FailoverReport(
                FramesSent: stats.FramesPushed,
                FramesCommitted: stats.FramesCommitted,
                WindowsExpected: summary.WindowsExpected,
                WindowsFused: summary.WindowsFused,
                ResumeSeconds: Math.Round(resumeSeconds, 2),
                WindowsWithResult: summary.WindowsWithResult,
                WindowsWithMissingModality: summary.WindowsWithMissingModality,
                Accuracy: Math.Round(summary.Accuracy, 4),
                KilledNode: killed,
                ResumedNode: resume?.Node ?? "",
                EntriesReplayed: stats.EntriesReplayed,
                DuplicateResultsDropped: stats.DuplicateResultsDropped,
                FramesRejected: stats.Rejected.ToDictionary(kv => kv.Key.ToString(), kv => kv.Value),
                MissingWindows: summary.MissingWindows,
                Passed: failures.Count == 0,
                Failures: [.. failures]);
        }
        finally
        {
            await Task.WhenAll(nodes.Select(n => n.StopAsync(TimeSpan.FromSeconds(15))));
            foreach (var n in nodes) n.Dispose();
        }
    }

    private static async Task WaitForMembers(FusionClient client, int count, TimeSpan timeout, CancellationToken cancel)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                var members = await client.MembersAsync(cancel);
                if (members.Up.Length >= count) return;
            }
            catch (FusionSessionException) when (DateTime.UtcNow < deadline)
            {
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the cluster did not reach {count} members within {timeout}");
            await Task.Delay(250, cancel);
        }
    }

    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };
}

/// <param name="ResumeSeconds">From the SIGKILL to the session answering again on another node.</param>
/// <param name="WindowsFused">Windows of the played items with a result decided on evidence (not NoEvidence).</param>
public sealed record FailoverReport(
    long FramesSent,
    long FramesCommitted,
    int WindowsExpected,
    int WindowsFused,
    double ResumeSeconds,
    int WindowsWithResult,
    int WindowsWithMissingModality,
    double Accuracy,
    string KilledNode,
    string ResumedNode,
    long EntriesReplayed,
    long DuplicateResultsDropped,
    Dictionary<string, long> FramesRejected,
    int[] MissingWindows,
    bool Passed,
    string[] Failures);
