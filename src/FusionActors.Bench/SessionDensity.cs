using System.Collections.Concurrent;
using System.Diagnostics;
using Akka.Actor;
using FusionActors.Fusionctl;
using FusionActors.OperatorConsole.Protocol;
using FusionActors.Inference.Data;
using FusionActors.Protocol;
using FusionActors.Protocol.Specs;
using FusionActors.Runtime.Hosting;
using FusionActors.Runtime.Sessions;
using FusionActors.Scenarios;

namespace FusionActors.Bench;

/// <summary>
/// (d) density: how many open sessions one node holds once idle sessions hibernate (docs/design.md, session
/// lifecycle). For each count, a fresh node (hibernate-after 5 s, console on a loopback port) opens that many sessions
/// of the demo spec (2 streams: windowed audio on audio-digits, camera on image-digits) through the region and prints:
/// - the time to open them all;
/// - managed bytes per session once every one sleeps (the heap after a full GC, less the heap before, over the count;
///   sessions not asleep by the timer yet are asked to sleep);
/// - the latency of real console commands over loopback through fusionctl's own client (<c>cluster status</c>,
///   <c>sessions show</c>, <c>sessions list</c>) while they are open;
/// - a light load over the open sessions (frames stamped at each session's clock, one window per session every
///   500 ms, to 20 sessions spread over the node, which wakes them): process CPU per frame and frame → result latency
///   (from the heartbeat after a window's last frame to its fused result).
/// Then per-session memory with 2, 4 and 8 streams (one modality each), awake and asleep.
/// </summary>
public static class SessionDensity
{
    public sealed record Point(int Sessions, double OpenSeconds, double OpenCpuUsPerSession, double BytesPerHibernatedSession, int SleptByTimer, int SleptOnRequest, int Refused,
        IReadOnlyDictionary<string, double> ConsoleMs, int LoadSessions, long LoadFrames, double CpuUsPerFrame, double ResultP50Ms, double ResultP99Ms,
        int ResultsMissing, long FramesRejected);

    public sealed record Modalities(int Streams, int Sessions, double AwakeBytesPerSession, double HibernatedBytesPerSession);

    public sealed record Result(IReadOnlyList<Point> Curve, IReadOnlyList<Modalities> PerModalities);

    private static readonly TimeSpan HibernateAfter = TimeSpan.FromSeconds(5);

    /// <summary>Sessions of the light load: 20 audio inputs per round (the audio model costs ~0.5 ms of CPU each).</summary>
    private const int LoadSessions = 20;

    /// <param name="counts">Session counts of the cost curve; the environment's FUSION_BENCH_DENSITY (e.g. "20000,100000") overrides them.</param>
    public static async Task<Result> RunAsync(FusionOptions options, IReadOnlyList<int> counts, int modalitySessions, CancellationToken cancel)
    {
        if (Environment.GetEnvironmentVariable("FUSION_BENCH_DENSITY") is { Length: > 0 } chosen)
            counts = chosen.Split(',').Select(c => int.Parse(c, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        var curve = new List<Point>();
        foreach (var n in counts)
        {
            var point = await PointAsync(options, n, cancel);
            curve.Add(point);
            Console.WriteLine($"    {n,7:N0} sessions: opened in {point.OpenSeconds:0.0} s ({point.OpenCpuUsPerSession:0} us CPU each), {point.BytesPerHibernatedSession:N0} managed B per hibernated session " +
                              $"(asleep by the timer {point.SleptByTimer:N0}, on request {point.SleptOnRequest:N0}, refused {point.Refused}); console " +
                              string.Join(", ", point.ConsoleMs.Select(kv => $"'{kv.Key}' {kv.Value:0} ms")) +
                              $"; light load on {point.LoadSessions} sessions: {point.LoadFrames:N0} frames, {point.CpuUsPerFrame:0.0} us CPU/frame, " +
                              $"result p50 {point.ResultP50Ms:0.0} / p99 {point.ResultP99Ms:0.0} ms, missing {point.ResultsMissing}, rejected {point.FramesRejected}");
        }
        var perModalities = new List<Modalities>();
        if (Environment.GetEnvironmentVariable("FUSION_BENCH_MODALITY_SESSIONS") is { Length: > 0 } modal)
            modalitySessions = int.Parse(modal, System.Globalization.CultureInfo.InvariantCulture);
        foreach (var streams in modalitySessions > 0 ? new[] { 2, 4, 8 } : [])
        {
            var m = await ModalitiesAsync(options, streams, modalitySessions, cancel);
            perModalities.Add(m);
            Console.WriteLine($"    {streams} streams (one modality each), {m.Sessions:N0} sessions: {m.AwakeBytesPerSession:N0} B awake, {m.HibernatedBytesPerSession:N0} B hibernated per session");
        }
        return new Result(curve, perModalities);
    }

    private static FusionOptions NodeOptions(FusionOptions options, int sessions, TimeSpan? hibernateAfter, bool console) => options with
    {
        Port = 0,
        HibernateAfter = hibernateAfter,
        Limits = options.Limits with { MaxSessions = Math.Max(options.Limits.MaxSessions, sessions + 1_000) },
        OperatorConsole = options.OperatorConsole with { Enabled = console, Hostname = "127.0.0.1", Port = 0, Token = null },
    };

    private static async Task<Point> PointAsync(FusionOptions options, int n, CancellationToken cancel)
    {
        // The node first: its own memory (actor system, cluster, models) is not the sessions'.
        await using var node = await FusionNode.StartAsync(NodeOptions(options, n, HibernateAfter, console: true), cancel: cancel);
        await Heap.QuietAsync(cancel);
        var before = Heap.Settle();
        var region = node.Sessions;
        var offsets = new long[n];
        var started = Stopwatch.GetTimestamp();
        var cpuAtOpen = Process.GetCurrentProcess().TotalProcessorTime;
        await ForEachAsync(n, async i => offsets[i] = (await DrivenRun.OpenAsync(region, AvDigitsSession.Spec(Id(i)), cancel)).ClockOffsetUs, cancel);
        var openSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var openCpuUs = (Process.GetCurrentProcess().TotalProcessorTime - cpuAtOpen).TotalMicroseconds / n;

        // Every session asleep: those the timer has not put to sleep yet are asked.
        int byTimer = 0, onRequest = 0, refused = 0;
        await ForEachAsync(n, async i =>
        {
            var r = await region.Ask<HibernateResult>(new HibernateSession(Id(i)), TimeSpan.FromSeconds(60), cancel);
            if (!r.Hibernated) Interlocked.Increment(ref refused);
            else if (r.Reason is not null) Interlocked.Increment(ref byTimer);
            else Interlocked.Increment(ref onRequest);
        }, cancel);
        var asleep = Heap.Settle();
        var bytes = (asleep - before) / (double)n;
        Console.WriteLine($"    {n,7:N0} sessions opened in {openSeconds:0.0} s ({openCpuUs:0} us CPU per open, load average {MachineInfo.LoadAverage()}); asleep {byTimer + onRequest:N0} ({byTimer:N0} by the timer), refused {refused}: " +
                          $"{bytes:N0} managed B per session");

        var console = await ConsoleLatencyAsync(node.Console!.Endpoint.Port, Id(n / 2), cancel);
        var load = await LightLoadAsync(region, node.System, n, offsets, cancel);
        // The sessions of the load go to sleep again once their last window's evidence is past the allowed lateness
        // (the clock moves it on once their streams go idle, 2 s). (What they keep then is not measured here: 20
        // sessions' worth is below what the heap of the node varies by.)
        var awake = new List<int>(load.Chosen);
        string? why = null;
        for (var attempt = 0; attempt < 40 && awake.Count > 0; attempt++)
        {
            if (attempt > 0) await Task.Delay(500, cancel);
            foreach (var i in awake.ToArray())
            {
                var r = await region.Ask<HibernateResult>(new HibernateSession(Id(i)), TimeSpan.FromSeconds(60), cancel);
                if (r.Hibernated) awake.Remove(i);
                else why = r.Reason;
            }
        }
        Console.WriteLine($"    the {load.Chosen.Length} sessions of the load asleep again within 20 s: {load.Chosen.Length - awake.Count}" +
                          (awake.Count == 0 ? "" : $" (last refusal: {why})"));
        // For scale, last (they passivate 5 s later): a session entity that was never opened (a status query makes it).
        var unopened = Math.Min(n, 5_000);
        var baseline = Heap.Settle();
        await ForEachAsync(unopened, i => region.Ask<SessionStatus>(new GetSessionStatus($"unopened-{i}"), TimeSpan.FromSeconds(60), cancel), cancel);
        var entityBytes = (Heap.Settle() - baseline) / (double)unopened;
        Console.WriteLine($"    for scale: a session entity never opened costs {entityBytes:N0} B (sharding, the session actor and its mailbox)");

        return new Point(n, openSeconds, openCpuUs, bytes, byTimer, onRequest, refused, console, load.Sessions, load.Frames, load.CpuUsPerFrame,
            load.P50Ms, load.P99Ms, load.Missing, load.Rejected);
    }

    private static string Id(int i) => $"dense-{i}";

    /// <summary>Real console commands through fusionctl's client over loopback: the median of 3 of each, in ms.</summary>
    private static async Task<IReadOnlyDictionary<string, double>> ConsoleLatencyAsync(int port, string someSession, CancellationToken cancel)
    {
        await using var connection = await ConsoleConnection.ConnectAsync("127.0.0.1", port, null, null, TimeSpan.FromSeconds(10), cancel);
        var result = new Dictionary<string, double>();
        foreach (var command in new[] { "cluster show", $"sessions show {someSession}", $"streams show {someSession}", "sessions list" })
        {
            var words = command.Split(' ');
            var times = new List<double>();
            for (var i = 0; i < 3; i++)
            {
                var t = Stopwatch.GetTimestamp();
                var response = await connection.InvokeAsync(words, _ => { }, cancel);
                times.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
                if (response.Error != ResponseError.None) throw new InvalidOperationException($"console '{command}' failed: {response.Text}");
            }
            times.Sort();
            result[command] = times[times.Count / 2];
        }
        return result;
    }

    private sealed record Load(int[] Chosen, int Sessions, long Frames, double CpuUsPerFrame, double P50Ms, double P99Ms, int Missing, long Rejected);

    /// <summary>
    /// One window of frames per session every 500 ms for 4 rounds, on up to 100 sessions spread over the open ones, each
    /// stamped at the session's own clock and closed by a heartbeat; the latency is from that heartbeat to the result.
    /// </summary>
    private static async Task<Load> LightLoadAsync(IActorRef region, ActorSystem system, int n, long[] offsets, CancellationToken cancel)
    {
        var sample = AvDigitsDataset.LoadSample().Items;
        var k = Math.Min(LoadSessions, n);
        var chosen = Enumerable.Range(0, k).Select(j => (int)((long)j * n / k)).ToArray();
        var arrivals = new ConcurrentDictionary<(string, long), long>();
        long rejected = 0;
        var collector = system.ActorOf(Props.Create(() => new Collector(arrivals, () => Interlocked.Increment(ref rejected))));
        foreach (var i in chosen) await region.Ask<Subscribed>(new Subscribe(Id(i), collector), TimeSpan.FromSeconds(30), cancel);
        var seqs = new long[chosen.Length, 2];
        var nextWindow = new long[chosen.Length];
        var sent = new List<(string Session, long WindowUs, long At)>();
        const int rounds = 4;
        long frames = 0;
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var wall = Stopwatch.GetTimestamp();
        for (var round = 0; round < rounds; round++)
        {
            var roundStart = Stopwatch.GetTimestamp();
            for (var j = 0; j < chosen.Length; j++)
            {
                var id = Id(chosen[j]);
                var item = sample[(chosen[j] + round) % sample.Count];
                // The next whole window of the session's clock that the clock has not closed yet.
                var sessionNowUs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000 - offsets[chosen[j]];
                var windowUs = Math.Max(nextWindow[j], (sessionNowUs / 1_000_000 + 1) * 1_000_000);
                nextWindow[j] = windowUs + 1_000_000;
                for (var f = 0; f < 50; f++)
                {
                    var pcm = new float[AvDigitsSession.AudioFrameSamples];
                    Array.Copy(item.Pcm, f * pcm.Length, pcm, 0, pcm.Length);
                    region.Tell(new Frame(id, AvDigitsSession.AudioStream, seqs[j, 0]++, windowUs + f * 20_000L, pcm), collector);
                }
                for (var f = 0; f < 10; f++)
                    region.Tell(new Frame(id, AvDigitsSession.CameraStream, seqs[j, 1]++, windowUs + f * 100_000L, item.Image), collector);
                frames += 60;
                region.Tell(new StreamHeartbeat(id, AvDigitsSession.AudioStream, windowUs + 1_100_000), collector);
                region.Tell(new StreamHeartbeat(id, AvDigitsSession.CameraStream, windowUs + 1_100_000), collector);
                sent.Add((id, windowUs, Stopwatch.GetTimestamp()));
            }
            var left = TimeSpan.FromMilliseconds(500) - Stopwatch.GetElapsedTime(roundStart);
            if (left > TimeSpan.Zero) await Task.Delay(left, cancel);
        }
        // Every result in, or 10 s after the last window.
        var deadline = Stopwatch.GetTimestamp() + Stopwatch.Frequency * 10;
        while (sent.Any(s => !arrivals.ContainsKey((s.Session, s.WindowUs))) && Stopwatch.GetTimestamp() < deadline) await Task.Delay(50, cancel);
        var cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalMicroseconds;
        _ = wall;
        var latencies = sent.Where(s => arrivals.ContainsKey((s.Session, s.WindowUs)))
            .Select(s => (arrivals[(s.Session, s.WindowUs)] - s.At) * 1000.0 / Stopwatch.Frequency).OrderBy(x => x).ToArray();
        system.Stop(collector);
        return new Load(chosen, k, frames, cpu / Math.Max(1, frames), Percentile(latencies, 0.5), Percentile(latencies, 0.99),
            sent.Count - latencies.Length, Interlocked.Read(ref rejected));
    }

    private static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];

    private sealed class Collector(ConcurrentDictionary<(string, long), long> arrivals, Action onRejected) : UntypedActor
    {
        protected override void OnReceive(object message)
        {
            switch (message)
            {
                case FusedResult r: arrivals.TryAdd((r.SessionId, r.WindowStartUs), Stopwatch.GetTimestamp()); break;
                case FrameRejected: onRejected(); break;
            }
        }
    }

    /// <summary>Sessions of <paramref name="streams"/> per-frame camera-like streams, each its own modality: bytes per session awake, then asleep.</summary>
    private static async Task<Modalities> ModalitiesAsync(FusionOptions options, int streams, int n, CancellationToken cancel)
    {
        await using var node = await FusionNode.StartAsync(NodeOptions(options, n, null, console: false), cancel: cancel);
        await Heap.QuietAsync(cancel);
        var before = Heap.Settle();
        var region = node.Sessions;
        await ForEachAsync(n, i => DrivenRun.OpenAsync(region, Spec($"mod{streams}-{i}", streams), cancel), cancel);
        var awake = Heap.Settle();
        await ForEachAsync(n, async i =>
        {
            var r = await region.Ask<HibernateResult>(new HibernateSession($"mod{streams}-{i}"), TimeSpan.FromSeconds(60), cancel);
            if (!r.Hibernated) throw new InvalidOperationException($"session mod{streams}-{i} did not hibernate: {r.Reason}");
        }, cancel);
        var asleep = Heap.Settle();
        return new Modalities(streams, n, (awake - before) / (double)n, (asleep - before) / (double)n);
    }

    private static SessionSpec Spec(string id, int streams) => new()
    {
        SessionId = id,
        Labels = AvDigitsSession.Labels,
        Window = WindowSpec.Tumbling(1_000_000),
        AllowedLatenessUs = 150_000,
        Streams = Enumerable.Range(0, streams).Select(s => new StreamSpec
        {
            StreamId = $"s{s}", Modality = $"m{s}", Model = "image-digits", FrameLength = AvDigitsSession.ImagePixels,
        }).ToArray(),
    };

    private static Task ForEachAsync(int count, Func<int, Task> body, CancellationToken cancel)
    {
        var next = -1;
        return Task.WhenAll(Enumerable.Range(0, 64).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count) await body(i);
        }, cancel)));
    }
}
