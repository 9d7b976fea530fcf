using System.Diagnostics;
using System.Diagnostics.Metrics;
using Akka.Actor;
using FusionActors.Inference.Data;
using FusionActors.Protocol;
using FusionActors.Protocol.Specs;
using FusionActors.Runtime.Hosting;
using FusionActors.Runtime.Metrics;

namespace FusionActors.Bench;

/// <summary>
/// (f) Overload: sessions of two per-frame camera streams on the real image-digits encoder, a high-priority one
/// (<c>hi</c>, priority 1) and a low-priority one (<c>lo</c>, priority 0), windows of 100 ms, out-of-orderness and
/// allowed lateness 0, frames stamped with the session clock and sent to each session's endpoint by one paced sender
/// (open loop: a frame due is sent with its due time, however late the sender is). First the node's capacity for this
/// very pattern: the offered rate doubles every few seconds until the frames encoded per second fall behind what is
/// offered; that rate is the capacity. Then 150 % of it for the measured time, once with <c>lossless</c> and once with
/// <c>latency-constrained</c> delivery, each on a fresh node. For each it reports the latency of the windows fused
/// (window end on the session clock to its first result, which is when the frame closing it was due to the result), the
/// GC heap and working set every 5 s, what was shed or refused per stream priority, and the CPU per frame.
/// </summary>
public static class Overload
{
    public const int Sessions = 8;
    public const long WindowUs = 100_000;
    public const double LoadFactor = 1.5;
    public const double LatencyP99TargetMs = 50;
    private const int FrameLength = 64;

    public sealed record CapacityStep(double OfferedFramesPerSec, double SentFramesPerSec, double EncodedFramesPerSec);

    public sealed record MemorySample(double AtSeconds, long GcHeapBytes, long WorkingSetBytes);

    /// <summary>What happened to one priority's frames (both streams of that priority, every session).</summary>
    public sealed record PriorityCounts(string Stream, int Priority, long FramesIn, long InputsEncoded, long FramesShedOverBudget,
        long InputsShedOverBudget, long InputsShedOverflow, long Rejected);

    /// <param name="SendLagP50Ms">How late the sender sent frames after they were due (time outside the node, counted in their age).</param>
    /// <param name="BatchP50Ms">How long the encoder took for a batch, the batcher's queue included (fusion.encoder.duration): time no policy sheds.</param>
    public sealed record Run(string Delivery, long LatencyBudgetUs, double OfferedFramesPerSec, double Seconds, long FramesSent, double SentFramesPerSec,
        double SendLagP50Ms, double SendLagP99Ms, string? LoadAverage, double BatchP50Ms, double BatchP99Ms,
        long Windows, long FusedWindows, long WindowsMissingLo, long WindowsMissingHi, long NoEvidenceWindows, long WindowsNotFusedInTime,
        double P50Ms, double P99Ms, double MaxMs, IReadOnlyList<MemorySample> Memory, IReadOnlyList<PriorityCounts> ByPriority,
        double CpuSeconds, double CpuUsPerFrameSent, double CpuUsPerInputEncoded, GcStats Gc);

    public sealed record Result(double CapacityFramesPerSec, IReadOnlyList<CapacityStep> Steps, IReadOnlyList<Run> Runs);

    public static SessionSpec Spec(string id, DeliveryPolicy delivery, long budgetUs) => new()
    {
        SessionId = id,
        Labels = BenchSessions.Labels,
        Window = WindowSpec.Tumbling(WindowUs),
        AllowedLatenessUs = 0,
        Delivery = delivery,
        LatencyBudgetUs = budgetUs,
        Streams =
        [
            new StreamSpec { StreamId = "hi", Modality = "image", Model = "image-digits", FrameLength = FrameLength, MaxOutOfOrdernessUs = 0, Priority = 1, MaxFutureSkewUs = 3_600_000_000 },
            new StreamSpec { StreamId = "lo", Modality = "thermal", Model = "image-digits", FrameLength = FrameLength, MaxOutOfOrdernessUs = 0, Priority = 0, MaxFutureSkewUs = 3_600_000_000 },
        ],
    };

    public static async Task<Result> RunAsync(FusionOptions options, TimeSpan measure, long budgetUs, CancellationToken cancel)
    {
        var images = AvDigitsDataset.LoadSample().Items.Select(i => i.Image).ToArray();
        var nodeOptions = options with { Port = 0, OperatorConsole = options.OperatorConsole with { Enabled = false } };

        // Capacity of this pattern, on a node of its own, lossless (today's behaviour): the offered rate doubles until
        // the frames encoded per second fall under 90 % of those offered (or sent, when the sender could not keep up).
        var steps = new List<CapacityStep>();
        double capacity;
        await using (var node = await FusionNode.StartAsync(nodeOptions, cancel: cancel))
        {
            var rate = 4_000.0;
            var step = 0;
            while (true)
            {
                var s = await OfferAsync(node, $"cap{step++}", DeliveryPolicy.Lossless, budgetUs, rate, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(3), images, sampleMemory: false, cancel);
                steps.Add(new CapacityStep(rate, s.SentFramesPerSec, s.EncodedPerSec));
                Console.WriteLine($"    capacity step: offered {rate:N0} frames/s, sent {s.SentFramesPerSec:N0}, encoded {s.EncodedPerSec:N0}/s");
                if (s.EncodedPerSec < 0.9 * Math.Min(rate, s.SentFramesPerSec) || rate >= 1_024_000)
                {
                    capacity = s.EncodedPerSec;
                    break;
                }
                rate *= 2;
            }
        }
        var offered = capacity * LoadFactor;
        Console.WriteLine($"    capacity {capacity:N0} frames/s; offering {LoadFactor:P0} = {offered:N0} frames/s for {measure.TotalSeconds:0} s per policy");

        var runs = new List<Run>();
        foreach (var delivery in new[] { DeliveryPolicy.Lossless, DeliveryPolicy.LatencyConstrained })
        {
            await using var node = await FusionNode.StartAsync(nodeOptions, cancel: cancel);
            var s = await OfferAsync(node, DeliveryPolicies.Name(delivery), delivery, budgetUs, offered, TimeSpan.FromSeconds(2), measure, images, sampleMemory: true, cancel);
            runs.Add(s.Run!);
            var r = s.Run!;
            Console.WriteLine($"    {r.Delivery}: windows fused {r.FusedWindows:N0} of {r.Windows:N0} (missing lo {r.WindowsMissingLo:N0}, missing hi {r.WindowsMissingHi:N0}, no evidence {r.NoEvidenceWindows:N0}, " +
                              $"not fused 10 s after the end {r.WindowsNotFusedInTime:N0}), latency p50 {r.P50Ms:0.0} / p99 {r.P99Ms:0.0} / max {r.MaxMs:0.0} ms; " +
                              $"CPU {r.CpuUsPerFrameSent:0.0} us/frame sent, {r.CpuUsPerInputEncoded:0.0} us/input encoded, {r.Gc.ProcessCpuOfMachine:P0} of the cores; " +
                              $"sent {r.SentFramesPerSec:N0} frames/s, sender late by p50 {r.SendLagP50Ms:0.0} / p99 {r.SendLagP99Ms:0.0} ms; " +
                              $"encoder time per batch (batcher queue included) p50 {r.BatchP50Ms:0.0} / p99 {r.BatchP99Ms:0.0} ms; load average {r.LoadAverage}");
            Console.WriteLine($"      memory every 5 s (GC heap / working set, MiB): {string.Join(", ", r.Memory.Select(m => $"{m.AtSeconds:0}s {m.GcHeapBytes / 1048576.0:0} / {m.WorkingSetBytes / 1048576.0:0}"))}");
            foreach (var p in r.ByPriority)
                Console.WriteLine($"      {p.Stream} (priority {p.Priority}): in {p.FramesIn:N0}, encoded {p.InputsEncoded:N0}, shed over budget {p.FramesShedOverBudget:N0} frames + {p.InputsShedOverBudget:N0} inputs, " +
                                  $"shed by overflow {p.InputsShedOverflow:N0}, refused {p.Rejected:N0}");
        }
        return new Result(capacity, steps, runs);
    }

    private sealed record Offered(double SentFramesPerSec, double EncodedPerSec, Run? Run);

    /// <summary>Offers <paramref name="framesPerSec"/> (both streams of every session) for warm-up + measure, then reads what happened.</summary>
    private static async Task<Offered> OfferAsync(FusionNode node, string prefix, DeliveryPolicy delivery, long budgetUs, double framesPerSec,
        TimeSpan warmUp, TimeSpan measure, float[][] images, bool sampleMemory, CancellationToken cancel)
    {
        var clock = Stopwatch.StartNew(); // the bench's clock, which every session's clock is set to at open
        long NowUs() => (long)(clock.Elapsed.Ticks / 10);
        var ids = Enumerable.Range(0, Sessions).Select(i => $"ov-{prefix}-{i}").ToArray();
        var endpoints = new IActorRef[Sessions];
        var log = new WindowLog();
        var sinks = new IActorRef[Sessions];
        for (var s = 0; s < Sessions; s++)
        {
            var opened = await node.Sessions.Ask<object>(new OpenSession(Spec(ids[s], delivery, budgetUs), NowUs()), TimeSpan.FromSeconds(30), cancel);
            endpoints[s] = (opened as SessionOpened ?? throw new InvalidOperationException($"session {ids[s]} did not open: {opened}")).Frames
                           ?? throw new InvalidOperationException("no frame endpoint");
            sinks[s] = node.System.ActorOf(Props.Create(() => new WindowSink(clock, log)));
            await node.Sessions.Ask<Subscribed>(new Subscribe(ids[s], sinks[s]), TimeSpan.FromSeconds(30), cancel);
        }

        using var encoded = new EncodedCounter();
        var perStream = framesPerSec / (2.0 * Sessions);
        var periodUs = 1e6 / perStream;
        var startUs = NowUs() + 20_000;
        var warmEndUs = startUs + (long)(warmUp.TotalMilliseconds * 1000);
        var endUs = warmEndUs + (long)(measure.TotalMilliseconds * 1000);
        long sent = 0, sentAtWarmEnd = 0, encodedAtWarmEnd = 0;
        var batchesAtWarmEnd = 0;
        GcWatch? gc = null;
        var memory = new List<MemorySample>();
        var lags = new List<double>(); // per sender pass: how late its oldest frame went out, ms
        var sender = new Thread(() =>
        {
            // Frame k of session s's streams is due at start + (k + s / Sessions) · period: the sessions' frames interleave.
            var next = new long[Sessions];
            var measuring = false;
            var nextSampleUs = warmEndUs;
            while (!cancel.IsCancellationRequested)
            {
                var now = NowUs();
                if (now >= endUs) break;
                if (!measuring && now >= warmEndUs)
                {
                    measuring = true;
                    sentAtWarmEnd = sent;
                    encodedAtWarmEnd = encoded.Total;
                    batchesAtWarmEnd = encoded.Batches;
                    gc = GcStats.Start();
                }
                if (sampleMemory && now >= nextSampleUs)
                {
                    memory.Add(new MemorySample((now - warmEndUs) / 1e6, GC.GetTotalMemory(false), Environment.WorkingSet));
                    nextSampleUs += 5_000_000;
                }
                var oldest = long.MaxValue;
                for (var s = 0; s < Sessions; s++)
                    while (true)
                    {
                        var due = startUs + (long)((next[s] + (double)s / Sessions) * periodUs);
                        if (due > now) break;
                        oldest = Math.Min(oldest, due);
                        var k = next[s]++;
                        var image = images[(int)((k + s) % images.Length)];
                        endpoints[s].Tell(new Frame(ids[s], "hi", k, due, image), ActorRefs.NoSender);
                        endpoints[s].Tell(new Frame(ids[s], "lo", k, due, image), ActorRefs.NoSender);
                        sent += 2;
                    }
                if (measuring && oldest != long.MaxValue) lags.Add((NowUs() - oldest) / 1000.0);
                Thread.Sleep(1);
            }
        }) { IsBackground = true, Name = "overload-sender" };
        sender.Start();
        await Task.Run(sender.Join, cancel);
        var gcStats = gc!.Stop();
        var seconds = (NowUs() - warmEndUs) / 1e6;
        var sentMeasured = sent - sentAtWarmEnd;
        var encodedMeasured = encoded.Total - encodedAtWarmEnd;
        if (sampleMemory) memory.Add(new MemorySample(seconds, GC.GetTotalMemory(false), Environment.WorkingSet));
        if (!sampleMemory)
        {
            await CloseAsync(node, ids, cancel);
            foreach (var sink in sinks) sink.Tell(PoisonPill.Instance);
            return new Offered(sentMeasured / seconds, encodedMeasured / seconds, null);
        }

        // Windows that end in the measured time: their first results, waited for up to 10 s after the sender stopped.
        var firstWindow = (warmEndUs + WindowUs - 1) / WindowUs;
        var lastWindow = endUs / WindowUs - 1;
        var expected = (lastWindow - firstWindow + 1) * Sessions;
        var waitUntil = Stopwatch.GetTimestamp() + 10 * Stopwatch.Frequency;
        while (log.CountBetween(firstWindow * WindowUs, (lastWindow + 1) * WindowUs) < expected && Stopwatch.GetTimestamp() < waitUntil)
            await Task.Delay(100, cancel);
        var windows = log.Between(firstWindow * WindowUs, (lastWindow + 1) * WindowUs);
        var fusedLatencies = windows.Where(w => w.Status == FusedStatus.Fused).Select(w => w.LatencyMs).Order().ToArray();

        var statuses = new List<SessionStatus>();
        foreach (var id in ids)
        {
            try { statuses.Add(await node.Sessions.Ask<SessionStatus>(new GetSessionStatus(id), TimeSpan.FromSeconds(30), cancel)); }
            catch (AskTimeoutException) { Console.WriteLine($"    {id}: no status within 30 s"); }
        }
        var byPriority = new[] { ("hi", 1), ("lo", 0) }.Select(p =>
        {
            var c = statuses.SelectMany(s => s.Streams).Where(t => t.StreamId == p.Item1).Select(t => t.Counters).ToArray();
            return new PriorityCounts(p.Item1, p.Item2, c.Sum(x => x.FramesIn), c.Sum(x => x.InputsEncoded), c.Sum(x => x.FramesShedOverBudget),
                c.Sum(x => x.InputsShedOverBudget), c.Sum(x => x.InputsShed), c.Sum(x => x.RejectedTotal));
        }).ToArray();
        try { await CloseAsync(node, ids, cancel); }
        catch (AskTimeoutException) { Console.WriteLine("    (sessions still busy at close; the node is stopped anyway)"); }
        foreach (var sink in sinks) sink.Tell(PoisonPill.Instance);

        var lagsSorted = lags.Order().ToArray();
        var batchMs = encoded.BatchMillis(fromIndex: batchesAtWarmEnd).Order().ToArray();
        var run = new Run(DeliveryPolicies.Name(delivery), budgetUs, framesPerSec, seconds, sentMeasured, sentMeasured / seconds,
            Percentile(lagsSorted, 0.50), Percentile(lagsSorted, 0.99), MachineInfo.LoadAverage(),
            Percentile(batchMs, 0.50), Percentile(batchMs, 0.99),
            windows.Count, fusedLatencies.Length, windows.Count(w => w.Status == FusedStatus.Fused && w.Missing.Contains("thermal")),
            windows.Count(w => w.Status == FusedStatus.Fused && w.Missing.Contains("image")), windows.Count(w => w.Status == FusedStatus.NoEvidence),
            expected - windows.Count, Percentile(fusedLatencies, 0.50), Percentile(fusedLatencies, 0.99),
            fusedLatencies.Length == 0 ? double.NaN : fusedLatencies[^1], memory, byPriority, gcStats.CpuSeconds, gcStats.CpuUsPer(sentMeasured),
            gcStats.CpuUsPer(encodedMeasured), gcStats);
        return new Offered(sentMeasured / seconds, encodedMeasured / seconds, run);
    }

    private static async Task CloseAsync(FusionNode node, string[] ids, CancellationToken cancel)
    {
        foreach (var id in ids)
        {
            node.Sessions.Tell(new CloseStream(id, "hi"), ActorRefs.NoSender);
            node.Sessions.Tell(new CloseStream(id, "lo"), ActorRefs.NoSender);
        }
        await Task.WhenAll(ids.Select(id => node.Sessions.Ask<SessionClosed>(new CloseSession(id), TimeSpan.FromSeconds(30), cancel)));
    }

    private static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];

    /// <summary>The node's count of encoder inputs encoded, and each batch's encoder time, from its metrics.</summary>
    private sealed class EncodedCounter : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly List<double> _batchMs = [];
        private long _total;

        public EncodedCounter()
        {
            _listener.InstrumentPublished = (i, l) =>
            {
                if (i.Meter.Name == FusionMetrics.MeterName && i.Name is "fusion.inputs.encoded" or "fusion.encoder.duration") l.EnableMeasurementEvents(i);
            };
            _listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref _total, value));
            _listener.SetMeasurementEventCallback<double>((_, ms, _, _) =>
            {
                lock (_batchMs) _batchMs.Add(ms);
            });
            _listener.Start();
        }

        public long Total => Interlocked.Read(ref _total);

        public int Batches
        {
            get { lock (_batchMs) return _batchMs.Count; }
        }

        public double[] BatchMillis(int fromIndex)
        {
            lock (_batchMs) return _batchMs.Skip(fromIndex).ToArray();
        }

        public void Dispose() => _listener.Dispose();
    }

    private sealed record WindowEntry(long WindowEndUs, double LatencyMs, FusedStatus Status, IReadOnlyList<string> Missing);

    private sealed class WindowLog
    {
        private readonly List<WindowEntry> _entries = [];

        public void Add(WindowEntry e)
        {
            lock (_entries) _entries.Add(e);
        }

        public int CountBetween(long fromUs, long toUs)
        {
            lock (_entries) return _entries.Count(e => e.WindowEndUs > fromUs && e.WindowEndUs <= toUs);
        }

        public List<WindowEntry> Between(long fromUs, long toUs)
        {
            lock (_entries) return _entries.Where(e => e.WindowEndUs > fromUs && e.WindowEndUs <= toUs).ToList();
        }
    }

    /// <summary>A session's first result per window, with how long after the window's end (on the bench's clock) it came.</summary>
    private sealed class WindowSink : ReceiveActor
    {
        public WindowSink(Stopwatch clock, WindowLog log)
        {
            Receive<FusedResult>(r =>
            {
                if (r.Revision != 0) return;
                var nowUs = clock.Elapsed.Ticks / 10;
                log.Add(new WindowEntry(r.WindowEndUs, (nowUs - r.WindowEndUs) / 1000.0, r.Status, r.Missing));
            });
            ReceiveAny(_ => { });
        }
    }
}
