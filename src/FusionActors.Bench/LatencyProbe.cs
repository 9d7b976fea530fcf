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
/// to its window's fused result being received by the session's subscriber. One sender thread paces frames
/// evenly (round robin over sessions, ~1 ms sleep granularity); the first second is a warm-up and not counted.
/// </summary>
public static class LatencyProbe
{
    public sealed record Result(double P50Ms, double P99Ms, double P999Ms, double MaxMs, double MeanMs, long Windows, double OverTargetFraction,
        double OfferedFramesPerSec, double AchievedFramesPerSec, int Sessions, long Incomplete, GcStats Gc);

    public static async Task<Result> RunAsync(FusionNode node, BenchScale scale, double framesPerSec, CancellationToken cancel)
    {
        var sessions = scale.Sessions;
        var f = scale.FramesPerWindow;
        var perWindow = 2 * f;
        var totalFrames = (long)(framesPerSec * scale.LatencyDuration.TotalSeconds);
        var windowsPerSession = (int)Math.Max(2, totalFrames / ((long)sessions * perWindow));
        totalFrames = (long)windowsPerSession * perWindow * sessions;
        var sendTicks = new long[sessions][];
        var received = new long[1];
        var allDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var expected = (long)windowsPerSession * sessions;
        var region = node.Sessions;

        var specs = new List<FusionActors.Protocol.Specs.SessionSpec>();
        var subscribers = new List<(IActorRef Actor, LatencySubscriber.Log Log)>();
        for (var s = 0; s < sessions; s++)
        {
            var spec = BenchSessions.Noop($"lat-{s}", f);
            specs.Add(spec);
            await DrivenRun.OpenAsync(region, spec, cancel);
            sendTicks[s] = new long[windowsPerSession];
            var log = new LatencySubscriber.Log(windowsPerSession);
            var ticks = sendTicks[s];
            var actor = node.System.ActorOf(Akka.Actor.Props.Create(() => new LatencySubscriber(f, ticks, log, received, expected, allDone)));
            await region.Ask<Subscribed>(new Subscribe(spec.SessionId, actor), TimeSpan.FromSeconds(10), cancel);
            subscribers.Add((actor, log));
        }

        var payloads = Enumerable.Range(0, sessions).Select(i => BenchSessions.Payload(4, i)).ToArray();
        var ids = specs.Select(s => s.SessionId).ToArray();
        var gc = GcStats.Start();
        var started = Stopwatch.GetTimestamp();
        var sender = new Thread(() =>
        {
            var freq = (double)Stopwatch.Frequency;
            long g = 0;
            while (g < totalFrames && !cancel.IsCancellationRequested)
            {
                var due = (long)((Stopwatch.GetTimestamp() - started) / freq * framesPerSec);
                if (due > totalFrames) due = totalFrames;
                if (g >= due) { Thread.Sleep(1); continue; }
                for (; g < due; g++)
                {
                    var s = (int)(g % sessions);
                    var i = g / sessions;
                    var k = i / perWindow;
                    var j = (int)(i % perWindow);
                    var t = i / 2;
                    if (j == perWindow - 1) Volatile.Write(ref sendTicks[s][k], Stopwatch.GetTimestamp());
                    region.Tell(new Frame(ids[s], j % 2 == 0 ? "a" : "b", t, t, payloads[s]), ActorRefs.NoSender);
                }
            }
        }) { IsBackground = true, Name = "latency-sender" };
        sender.Start();
        await Task.Run(sender.Join, cancel);
        var sentSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var finished = await Task.WhenAny(allDone.Task, Task.Delay(TimeSpan.FromSeconds(60), cancel));
        if (finished != allDone.Task) throw new TimeoutException($"latency: only {Interlocked.Read(ref received[0])} of {expected} windows fused");
        var gcStats = gc.Stop();

        var warmUpEnd = started + Stopwatch.Frequency; // results of windows completed in the first second are not counted
        var latencies = new List<double>();
        long incomplete = 0;
        for (var s = 0; s < sessions; s++)
        {
            var log = subscribers[s].Log;
            incomplete += log.Incomplete;
            for (var k = 0; k < windowsPerSession; k++)
                if (sendTicks[s][k] >= warmUpEnd) latencies.Add(log.Millis[k]);
        }
        foreach (var spec in specs) await DrivenRun.CloseAsync(region, spec, cancel);
        foreach (var (a, _) in subscribers) a.Tell(PoisonPill.Instance);
        latencies.Sort();
        var over = latencies.Count == 0 ? 0 : latencies.Count(l => l > BenchReport.LatencyP99TargetMs) / (double)latencies.Count;
        return new Result(Percentile(latencies, 0.50), Percentile(latencies, 0.99), Percentile(latencies, 0.999),
            latencies.Count > 0 ? latencies[^1] : double.NaN, latencies.Count > 0 ? latencies.Average() : double.NaN, latencies.Count, over,
            framesPerSec, totalFrames / sentSeconds, sessions, incomplete, gcStats);
    }

    private static double Percentile(List<double> sorted, double p)
    {
        if (sorted.Count == 0) return double.NaN;
        var i = (int)Math.Ceiling(p * sorted.Count) - 1;
        return sorted[Math.Clamp(i, 0, sorted.Count - 1)];
    }

    /// <summary>Subscriber of one session: the latency of each window's first fused result.</summary>
    private sealed class LatencySubscriber : ReceiveActor
    {
        public LatencySubscriber(int framesPerWindow, long[] sendTicks, Log log, long[] received, long expected, TaskCompletionSource allDone)
        {
            Receive<FusedResult>(r =>
            {
                var now = Stopwatch.GetTimestamp();
                if (r.Revision != 0) return;
                var k = (int)(r.WindowStartUs / framesPerWindow);
                if (k < 0 || k >= log.Millis.Length) return;
                log.Millis[k] = Stopwatch.GetElapsedTime(Volatile.Read(ref sendTicks[k]), now).TotalMilliseconds;
                if (r.Status != FusedStatus.Fused || r.Missing.Count > 0) log.Incomplete++;
                if (Interlocked.Increment(ref received[0]) == expected) allDone.TrySetResult();
            });
            ReceiveAny(_ => { });
        }

        public sealed class Log(int windows)
        {
            public double[] Millis { get; } = new double[windows];
            public long Incomplete { get; set; }
        }
    }
}
