using System.Diagnostics;
using Akka.Actor;
using FusionActors.Core.Streams;
using FusionActors.Protocol;
using FusionActors.Runtime.Hosting;

namespace FusionActors.Bench;

/// <summary>
/// (c) Latency at a fixed offered load (open loop): the same two-stream no-op sessions as (a), maxOutOfOrderness 0
/// and allowed lateness 0, so a window closes on the frame that moves the watermark past its end and no lateness
/// wait is part of the measurement. Latency = that frame's send (timestamp taken just before the Tell to the region)
/// to its window's fused result being received by the session's subscriber. One sender thread sends frames one by
/// one through the region (round robin over sessions), paced evenly (~1 ms sleep granularity); the first second is a
/// warm-up and not counted. The load is a fraction of <see cref="CapacityAsync"/>: the same sender and pattern at
/// full speed, measured in the same run just before (on a shared machine what this process gets of the cores moves
/// within minutes, so each load point has its own).
/// </summary>
public static class LatencyProbe
{
    /// <param name="WindowsOverTargetSpanningGc">Of the windows over the 5 ms target, those during which at least one GC ran.</param>
    /// <param name="MaxThreadPoolQueue">The most work items seen queued on the .NET thread pool (sampled by the sender between bursts).</param>
    public sealed record Result(double P50Ms, double P99Ms, double P999Ms, double MaxMs, double MeanMs, long Windows, double OverTargetFraction,
        double OfferedFramesPerSec, double AchievedFramesPerSec, int Sessions, long Incomplete, GcStats Gc,
        double FractionOfCapacity = 0, long WindowsOverTarget = 0, long WindowsOverTargetSpanningGc = 0, long WindowsSpanningGc = 0,
        long MaxThreadPoolQueue = 0, int ThreadPoolThreads = 0)
    {
        /// <summary>The capacity the load is a fraction of (<see cref="CapacityAsync"/>, measured just before).</summary>
        public Capacity? Of { get; init; }
    }

    /// <summary>
    /// What the probe's own pattern sustains: the same sessions and the same one sender thread sending frames one by
    /// one through the region as fast as it can, with at most 4 windows per session sent and not yet fused (so
    /// mailboxes do not grow without bound), from the first send to the last fused result.
    /// </summary>
    public sealed record Capacity(double FramesPerSec, long Frames, double Seconds, int Sessions, GcStats Gc, double CpuUsPerFrame, double AllocatedBytesPerFrame)
    {
        /// <summary>The rates of the rounds it is the median of.</summary>
        public IReadOnlyList<double> RoundsFramesPerSec { get; init; } = [];
    }

    public const int CapacityInFlightWindows = 4;

    /// <summary>
    /// Capacity of the probe's pattern: warm-up rounds of a fifth, then the median of three rounds of half of (a)'s
    /// frames each (one round on a shared machine can catch a moment when the others leave this process more of the cores).
    /// </summary>
    public static async Task<Capacity> CapacityAsync(FusionNode node, BenchScale scale, CancellationToken cancel)
    {
        var frames = Math.Max(200_000, scale.PipelineFrames / 2);
        // Warm-up (tiered JIT, dynamic PGO): rounds of a fifth until two in a row cost the same CPU per frame within
        // 10 % (at most 8), so a (c) run without (a) before it does not measure a cold capacity.
        var costs = new List<double>();
        for (var round = 0; round < 8; round++)
        {
            var warm = await RunCoreAsync(node, scale, "cap-warm", null, frames / 5, cancel);
            costs.Add(warm.Gc.CpuUsPer(warm.Frames));
            if (costs.Count >= 2 && Math.Abs(costs[^1] - costs[^2]) <= 0.1 * costs[^2]) break;
        }
        var rounds = new List<Capacity>();
        for (var i = 0; i < 3; i++)
        {
            var run = await RunCoreAsync(node, scale, "cap", null, frames, cancel);
            var seconds = run.ResultSeconds;
            rounds.Add(new Capacity(run.Frames / seconds, run.Frames, seconds, scale.Sessions, run.Gc, run.Gc.CpuUsPer(run.Frames), run.Gc.AllocatedPer(run.Frames)));
        }
        var median = Repeat.MedianOf(rounds, r => r.FramesPerSec);
        return median with { RoundsFramesPerSec = [.. rounds.Select(r => r.FramesPerSec)] };
    }

    public static async Task<Result> RunAsync(FusionNode node, BenchScale scale, double framesPerSec, CancellationToken cancel, double fractionOfCapacity = 0)
    {
        var run = await RunCoreAsync(node, scale, "lat", framesPerSec, (long)(framesPerSec * scale.LatencyDuration.TotalSeconds), cancel);
        var warmUpEnd = run.Started + Stopwatch.Frequency; // results of windows completed in the first second are not counted
        var latencies = new List<double>();
        long incomplete = 0, spanningGc = 0, over = 0, overSpanningGc = 0;
        for (var s = 0; s < run.Sessions; s++)
        {
            var log = run.Logs[s];
            incomplete += log.Incomplete;
            for (var k = 0; k < log.Millis.Length; k++)
            {
                if (run.SendTicks[s][k] < warmUpEnd) continue;
                var ms = log.Millis[k];
                latencies.Add(ms);
                var gc = log.GcDuring[k];
                if (gc) spanningGc++;
                if (ms > BenchReport.LatencyP99TargetMs)
                {
                    over++;
                    if (gc) overSpanningGc++;
                }
            }
        }
        latencies.Sort();
        return new Result(Percentile(latencies, 0.50), Percentile(latencies, 0.99), Percentile(latencies, 0.999),
            latencies.Count > 0 ? latencies[^1] : double.NaN, latencies.Count > 0 ? latencies.Average() : double.NaN, latencies.Count,
            latencies.Count == 0 ? 0 : over / (double)latencies.Count,
            framesPerSec, run.Frames / run.SendSeconds, run.Sessions, incomplete, run.Gc, fractionOfCapacity, over, overSpanningGc, spanningGc,
            run.MaxThreadPoolQueue, run.ThreadPoolThreads);
    }

    private sealed record Run(int Sessions, long Frames, long Started, double SendSeconds, double ResultSeconds, long[][] SendTicks,
        LatencySubscriber.Log[] Logs, GcStats Gc, long MaxThreadPoolQueue, int ThreadPoolThreads);

    /// <param name="framesPerSec">The pace; null = as fast as the sender goes, bounded by <see cref="CapacityInFlightWindows"/> per session.</param>
    private static async Task<Run> RunCoreAsync(FusionNode node, BenchScale scale, string prefix, double? framesPerSec, long frames, CancellationToken cancel)
    {
        var run = Interlocked.Increment(ref _runs); // fresh sessions for every run: each starts at seq 0
        var sessions = scale.Sessions;
        var f = scale.FramesPerWindow;
        var perWindow = 2 * f;
        var windowsPerSession = (int)Math.Max(2, frames / ((long)sessions * perWindow));
        var totalFrames = (long)windowsPerSession * perWindow * sessions;
        var sendTicks = new long[sessions][];
        var sendGc = new int[sessions][];
        var received = new long[2]; // [0] windows fused, [1] ticks of the last
        var allDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var expected = (long)windowsPerSession * sessions;
        var region = node.Sessions;
        using var slots = framesPerSec is null ? new SemaphoreSlim(CapacityInFlightWindows * sessions) : null;

        var specs = new List<FusionActors.Protocol.Specs.SessionSpec>();
        var subscribers = new List<(IActorRef Actor, LatencySubscriber.Log Log)>();
        for (var s = 0; s < sessions; s++)
        {
            var spec = BenchSessions.Noop($"{prefix}{run}-{s}", f);
            specs.Add(spec);
            await DrivenRun.OpenAsync(region, spec, cancel);
            sendTicks[s] = new long[windowsPerSession];
            sendGc[s] = new int[windowsPerSession];
            var log = new LatencySubscriber.Log(windowsPerSession);
            var (ticks, gcs) = (sendTicks[s], sendGc[s]);
            var actor = node.System.ActorOf(Akka.Actor.Props.Create(() => new LatencySubscriber(f, ticks, gcs, log, received, expected, allDone, slots)));
            await region.Ask<Subscribed>(new Subscribe(spec.SessionId, actor), TimeSpan.FromSeconds(10), cancel);
            subscribers.Add((actor, log));
        }

        var payloads = Enumerable.Range(0, sessions).Select(i => BenchSessions.Payload(4, i)).ToArray();
        var ids = specs.Select(s => s.SessionId).ToArray();
        long maxQueue = 0;
        var threads = 0;
        AllocationSampler.Instance?.Begin();
        var gc = GcStats.Start();
        var started = Stopwatch.GetTimestamp();
        var sent = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var sender = new Thread(() =>
        {
            var freq = (double)Stopwatch.Frequency;
            long g = 0;
            while (g < totalFrames && !cancel.IsCancellationRequested)
            {
                long due;
                if (framesPerSec is { } rate)
                {
                    due = Math.Min(totalFrames, (long)((Stopwatch.GetTimestamp() - started) / freq * rate));
                    if (g >= due)
                    {
                        maxQueue = Math.Max(maxQueue, ThreadPool.PendingWorkItemCount);
                        threads = Math.Max(threads, ThreadPool.ThreadCount);
                        Thread.Sleep(1);
                        continue;
                    }
                }
                else
                {
                    // Full speed, but a round (a window of every session) only once it fits under the bound of windows
                    // sent and not fused: the sender blocks meanwhile (a spin would count as the pipeline's CPU).
                    for (var w = 0; w < sessions; w++) slots!.Wait(cancel);
                    due = Math.Min(totalFrames, g + sessions * (long)perWindow);
                }
                for (; g < due; g++)
                {
                    var s = (int)(g % sessions);
                    var i = g / sessions;
                    var k = i / perWindow;
                    var j = (int)(i % perWindow);
                    var t = i / 2;
                    if (j == perWindow - 1)
                    {
                        sendGc[s][k] = GC.CollectionCount(0);
                        Volatile.Write(ref sendTicks[s][k], Stopwatch.GetTimestamp());
                    }
                    region.Tell(new Frame(ids[s], j % 2 == 0 ? "a" : "b", t, t, payloads[s]), ActorRefs.NoSender);
                }
            }
            sent.TrySetResult();
        }) { IsBackground = true, Name = "latency-sender" };
        sender.Start();
        await sent.Task.WaitAsync(cancel); // not a pool thread blocked in Join for the whole run
        var sentSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var finished = await Task.WhenAny(allDone.Task, Task.Delay(TimeSpan.FromSeconds(60), cancel));
        if (finished != allDone.Task) throw new TimeoutException($"latency: only {Interlocked.Read(ref received[0])} of {expected} windows fused");
        var gcStats = gc.Stop();
        var resultSeconds = Stopwatch.GetElapsedTime(started, Interlocked.Read(ref received[1])).TotalSeconds;
        AllocationSampler.Instance?.End($"{prefix} at {(framesPerSec is { } r ? $"{r:N0} frames/s" : "full speed")} (per frame)", totalFrames);

        foreach (var spec in specs) await DrivenRun.CloseAsync(region, spec, cancel);
        foreach (var (a, _) in subscribers) a.Tell(PoisonPill.Instance);
        return new Run(sessions, totalFrames, started, sentSeconds, resultSeconds, sendTicks, subscribers.Select(x => x.Log).ToArray(), gcStats, maxQueue, threads);
    }

    private static int _runs;

    private static double Percentile(List<double> sorted, double p)
    {
        if (sorted.Count == 0) return double.NaN;
        var i = (int)Math.Ceiling(p * sorted.Count) - 1;
        return sorted[Math.Clamp(i, 0, sorted.Count - 1)];
    }

    /// <summary>Subscriber of one session: the latency of each window's first fused result, and whether a GC ran meanwhile.</summary>
    private sealed class LatencySubscriber : ReceiveActor
    {
        public LatencySubscriber(int framesPerWindow, long[] sendTicks, int[] sendGc, Log log, long[] received, long expected, TaskCompletionSource allDone,
            SemaphoreSlim? slots)
        {
            Receive<FusedResult>(r =>
            {
                var now = Stopwatch.GetTimestamp();
                if (r.Revision != 0) return;
                var k = (int)(r.WindowStartUs / framesPerWindow);
                if (k < 0 || k >= log.Millis.Length) return;
                log.Millis[k] = Stopwatch.GetElapsedTime(Volatile.Read(ref sendTicks[k]), now).TotalMilliseconds;
                log.GcDuring[k] = GC.CollectionCount(0) != sendGc[k];
                if (r.Status != FusedStatus.Fused || r.Missing.Count > 0) log.Incomplete++;
                slots?.Release();
                if (Interlocked.Increment(ref received[0]) == expected)
                {
                    Interlocked.Exchange(ref received[1], now);
                    allDone.TrySetResult();
                }
            });
            ReceiveAny(_ => { });
        }

        public sealed class Log(int windows)
        {
            public double[] Millis { get; } = new double[windows];
            public bool[] GcDuring { get; } = new bool[windows];
            public long Incomplete { get; set; }
        }
    }
}
