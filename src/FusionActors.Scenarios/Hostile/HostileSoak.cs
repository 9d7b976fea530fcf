using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using FusionActors.Client;
using FusionActors.Inference.Data;
using FusionActors.Protocol;
using FusionActors.Scenarios.Faults;
using FusionActors.Scenarios.Playback;
using FusionActors.Scenarios.Remote;

namespace FusionActors.Scenarios.Hostile;

/// <summary>
/// A node process under a stream of bad input from a <see cref="RawPeer"/> for a while, next to a probe: an honest sensor
/// app that plays AV-Digits sessions in real time through the client library. Measures from outside what the bad input
/// costs the node (managed heap and working set over time, and their slopes) and the honest session (decision latency,
/// windows fused), and what the peer got back (typed rejections by reason).
/// </summary>
public static class HostileSoak
{
    public sealed record Options
    {
        /// <summary>How long the attack and the probe run.</summary>
        public double Minutes { get; init; } = 10;

        /// <summary>Bad frames the peer sends per second through its own session's sink (spread over every kind); 0 = no attack, a baseline.</summary>
        public int BadFramesPerSecond { get; init; } = 2_000;

        /// <summary>Raw TCP connections of random bytes per second at the remoting port.</summary>
        public int GarbageConnectionsPerSecond { get; init; } = 5;

        /// <summary>The peer opens a fresh session of its own this often, so sessions come and go too.</summary>
        public TimeSpan PeerSessionLifetime { get; init; } = TimeSpan.FromSeconds(60);

        /// <summary>Memory is sampled this often; the slopes leave out the first minute (start-up, JIT, first sessions).</summary>
        public TimeSpan SampleEvery { get; init; } = TimeSpan.FromSeconds(5);

        public int Seed { get; init; } = 1;

        public string LogDir { get; init; } = Path.Combine(NodeProcess.RepoRoot(), "artifacts", "hostile-soak");

        public Action<string> Progress { get; init; } = _ => { };
    }

    public sealed record Summary(
        double Minutes,
        int BadFramesPerSecondAsked,
        IReadOnlyDictionary<string, long> Sent,
        IReadOnlyDictionary<string, long> Answers,
        long BadFramesSent,
        long TypedRejections,
        bool NodeAlive,
        double HeapStartMb,
        double HeapEndMb,
        double HeapMaxMb,
        double HeapSlopeMbPerMinute,
        double WorkingSetStartMb,
        double WorkingSetEndMb,
        double WorkingSetSlopeMbPerMinute,
        int MemorySamples,
        double NodeCpuSeconds,
        int ProbeSessions,
        int ProbeWindowsExpected,
        int ProbeWindowsFused,
        long ProbeFramesPushed,
        long ProbeFramesCommitted,
        double ProbeLatencyP50Ms,
        double ProbeLatencyP99Ms,
        double ProbeLatencyMaxMs,
        IReadOnlyList<NodeMemory.Sample> Samples)
    {
        /// <summary>The attack ran and was answered with typed rejections; the node lived; every probe frame was committed and every probe window fused.</summary>
        public bool Passed => (BadFramesPerSecondAsked == 0 || (BadFramesSent > 0 && TypedRejections > 0)) && NodeAlive && ProbeFramesCommitted == ProbeFramesPushed && ProbeWindowsFused == ProbeWindowsExpected;

        public string ToJson() => JsonSerializer.Serialize(this, Json);
    }

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    private const string Token = "hostile-soak-token";

    public static async Task<Summary> RunAsync(Options o, CancellationToken cancel)
    {
        Directory.CreateDirectory(o.LogDir);
        var port = NodeProcess.FreePort();
        var metricsPort = NodeProcess.FreePort();
        using var node = NodeProcess.Start(port, [port], o.LogDir, $$"""
            fusion.security.session-tokens = ["{{Token}}"]
            fusion.metrics.prometheus { enabled = on, hostname = "127.0.0.1", port = {{metricsPort}} }
            """);
        await node.WaitUpAsync(TimeSpan.FromSeconds(90));
        o.Progress($"node up on 127.0.0.1:{port} (pid {node.Pid}), metrics on :{metricsPort}");
        var cpuAtStart = CpuSeconds(node.Pid);

        using var memory = new NodeMemory(metricsPort);
        var samples = new List<NodeMemory.Sample>();
        var clock = Stopwatch.StartNew();
        var duration = TimeSpan.FromMinutes(o.Minutes);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        stop.CancelAfter(duration);

        await using var peer = RawPeer.Start(port, o.Seed);
        var sampling = SampleAsync(memory, samples, clock, o.SampleEvery, stop.Token);
        var attacking = AttackAsync(peer, o, clock, stop.Token);
        var garbage = GarbageAsync(peer, o.GarbageConnectionsPerSecond, stop.Token);
        var probe = await ProbeAsync(port, o, duration, cancel);
        await stop.CancelAsync();
        await Task.WhenAll(sampling, attacking, garbage).ContinueWith(_ => { }, TaskScheduler.Default);
        if (await memory.ReadAsync(clock.Elapsed.TotalSeconds, CancellationToken.None) is { } last) lock (samples) samples.Add(last);

        var alive = !node.Exited;
        var cpu = CpuSeconds(node.Pid) - cpuAtStart;
        NodeMemory.Sample[] all;
        lock (samples) all = [.. samples];
        var steady = all.Where(s => s.Seconds >= 60).ToArray();
        if (steady.Length < 2) steady = all;
        static double Mb(double bytes) => Math.Round(bytes / (1 << 20), 2);
        var sent = new SortedDictionary<string, long>(peer.Sent.ToDictionary(), StringComparer.Ordinal);
        var answers = new SortedDictionary<string, long>(peer.Answers.ToDictionary(), StringComparer.Ordinal);
        var summary = new Summary(
            Math.Round(clock.Elapsed.TotalMinutes, 2), o.BadFramesPerSecond, sent, answers,
            RawPeer.SinkKinds.Sum(k => sent.GetValueOrDefault(k)),
            answers.Where(a => a.Key.StartsWith("FrameRejected:", StringComparison.Ordinal)).Sum(a => a.Value),
            alive,
            all.Length > 0 ? Mb(all[0].HeapBytes) : double.NaN, all.Length > 0 ? Mb(all[^1].HeapBytes) : double.NaN,
            all.Length > 0 ? Mb(all.Max(s => s.HeapBytes)) : double.NaN,
            Math.Round(NodeMemory.SlopePerMinute(steady, s => s.HeapBytes) / (1 << 20), 3),
            all.Length > 0 ? Mb(all[0].WorkingSetBytes) : double.NaN, all.Length > 0 ? Mb(all[^1].WorkingSetBytes) : double.NaN,
            Math.Round(NodeMemory.SlopePerMinute(steady, s => s.WorkingSetBytes) / (1 << 20), 3),
            all.Length, Math.Round(cpu, 1),
            probe.Sessions, probe.WindowsExpected, probe.WindowsFused, probe.FramesPushed, probe.FramesCommitted,
            Percentile(probe.LatenciesMs, 0.50), Percentile(probe.LatenciesMs, 0.99), probe.LatenciesMs.Count > 0 ? Math.Round(probe.LatenciesMs.Max(), 1) : double.NaN,
            all);
        await node.StopAsync(TimeSpan.FromSeconds(20));
        return summary;
    }

    private static async Task SampleAsync(NodeMemory memory, List<NodeMemory.Sample> samples, Stopwatch clock, TimeSpan every, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(every);
        try
        {
            do
            {
                if (await memory.ReadAsync(clock.Elapsed.TotalSeconds, stop) is { } s) lock (samples) samples.Add(s);
            }
            while (await timer.WaitForNextTickAsync(stop));
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Ten rounds a second, each one batch through the peer's own sink; a fresh peer session every lifetime.</summary>
    private static async Task AttackAsync(RawPeer peer, Options o, Stopwatch clock, CancellationToken stop)
    {
        if (o.BadFramesPerSecond <= 0) return;
        var perKind = Math.Max(1, o.BadFramesPerSecond / 10 / RawPeer.SinkKinds.Length);
        var generation = 0;
        var openedAt = TimeSpan.Zero;
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        try
        {
            await peer.OpenAsync($"raw-peer-{generation}", Token, TimeSpan.FromSeconds(30));
            while (await timer.WaitForNextTickAsync(stop))
            {
                if (clock.Elapsed - openedAt >= o.PeerSessionLifetime)
                {
                    generation++;
                    openedAt = clock.Elapsed;
                    await peer.OpenAsync($"raw-peer-{generation}", Token, TimeSpan.FromSeconds(30));
                }
                await peer.SendBadBatchAsync(perKind).WaitAsync(stop);
                peer.SendUnauthorized("probe-0", (long)clock.Elapsed.TotalMicroseconds);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception e)
        {
            o.Progress($"attack stopped: {e.GetType().Name}: {e.Message}");
            throw;
        }
    }

    private static async Task GarbageAsync(RawPeer peer, int perSecond, CancellationToken stop)
    {
        if (perSecond <= 0) return;
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1.0 / perSecond));
        try
        {
            while (await timer.WaitForNextTickAsync(stop)) await peer.SendGarbageConnectionAsync(stop);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private sealed record ProbeResult(int Sessions, int WindowsExpected, int WindowsFused, long FramesPushed, long FramesCommitted, List<double> LatenciesMs);

    /// <summary>
    /// Back-to-back sessions of the AV-Digits sample in real time until <paramref name="duration"/> is used up. The latency
    /// of a window is when its first result arrived minus its end, on the player's clock: it includes the allowed lateness
    /// (150 ms) that every window waits for by design.
    /// </summary>
    private static async Task<ProbeResult> ProbeAsync(int port, Options o, TimeSpan duration, CancellationToken cancel)
    {
        var sample = AvDigitsDataset.LoadSample().Items;
        var latencies = new List<double>();
        int sessions = 0, expected = 0, fused = 0;
        long pushed = 0, committed = 0;
        await using var client = await FusionClient.ConnectAsync(new FusionClientOptions
        {
            Contacts = [$"127.0.0.1:{port}"], Token = Token, RequestTimeout = TimeSpan.FromSeconds(60),
        });
        var started = Stopwatch.StartNew();
        while (started.Elapsed < duration - TimeSpan.FromSeconds(15))
        {
            var seconds = (int)Math.Min(sample.Count, (duration - started.Elapsed).TotalSeconds - 10);
            if (seconds < 5) break;
            var id = $"probe-{sessions++}";
            var items = sample.Take(seconds).ToArray();
            var timeline = Timeline.Build(id, items, new SensorFaults());
            await using var session = await client.OpenSessionAsync(AvDigitsSession.Spec(id), cancel);
            var first = new Dictionary<long, double>();
            var status = new Dictionary<long, FusedStatus>();
            var play = Stopwatch.StartNew();
            var stats = await ProbePlay.RunAsync(session, timeline, r =>
            {
                lock (first)
                {
                    first.TryAdd(r.WindowStartUs, play.Elapsed.TotalMilliseconds - r.WindowEndUs / 1000.0);
                    status[r.WindowStartUs] = r.Status;
                }
            }, _ =>
            {
                lock (first) return first.Count >= items.Length;
            }, cancel);
            lock (first)
            {
                expected += items.Length;
                fused += Enumerable.Range(0, items.Length).Count(i => status.TryGetValue(i * 1_000_000L, out var s) && s != FusedStatus.NoEvidence);
                latencies.AddRange(first.Values);
            }
            pushed += stats.FramesPushed;
            committed += stats.FramesCommitted;
            o.Progress($"probe {id}: {items.Length} windows, {fused}/{expected} fused so far, p99 {Percentile(latencies, 0.99)} ms");
            await session.CloseAsync(cancel);
        }
        return new ProbeResult(sessions, expected, fused, pushed, committed, latencies);
    }

    private static double Percentile(List<double> values, double q)
    {
        if (values.Count == 0) return double.NaN;
        var sorted = values.Order().ToArray();
        return Math.Round(sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1)], 1);
    }

    /// <summary>User plus system CPU of a process from /proc (Linux), in seconds; NaN elsewhere.</summary>
    private static double CpuSeconds(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (long.Parse(fields[11]) + long.Parse(fields[12])) / 100.0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return double.NaN;
        }
    }
}
