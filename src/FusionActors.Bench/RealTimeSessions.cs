using System.Diagnostics;
using System.Diagnostics.Metrics;
using Akka.Actor;
using FusionActors.Core.Streams;
using FusionActors.Inference;
using FusionActors.Inference.Data;
using FusionActors.Protocol;
using FusionActors.Protocol.Specs;
using FusionActors.Runtime.Hosting;
using FusionActors.Runtime.Metrics;

namespace FusionActors.Bench;

/// <summary>
/// (e) Many real-time AV-Digits sessions through the real ONNX encoders, with the node's batcher on and off: each
/// session streams 16 kHz audio in 20 ms frames (1 s encoder inputs) and an 8×8 camera at 10 fps, paced by the
/// wall clock, sessions starting evenly spread over one second (as sensors opened at different times), frames to
/// each session's endpoint. After a
/// warm-up, it measures the process's CPU per encoded input against what raw OnnxRuntime costs for the same inputs at
/// batch 32 (2 threads, measured here too), the mean model call, how long inputs waited in the batcher's queue, and
/// how long after a window's end its fused result came (the same fixed watermark wait in both modes, so the difference
/// is what batching adds or saves). Each mode runs on a node of its own, one after the other.
/// </summary>
public static class RealTimeSessions
{
    private const long TickUs = 20_000; // one audio frame
    private const int FramesPerAudioInput = 50;

    /// <summary>OS names of the threads that run the models: the batcher's, and the encoder dispatcher's (batching off).</summary>
    private static readonly string[] EncoderThreadPrefixes = ["fusion-batcher", "fusion.encoder"];

    public sealed record RawCost(string Model, double CpuUsPerInputAt32, double PerSecAt32, double CpuUsPerInputAt1, double PerSecAt1, int CallSize, double CpuUsPerInputAtCallSize);

    public sealed record Run(bool Batching, int Sessions, double Seconds, long FramesSent, double FramesPerSec, double OfferedInputsPerSec,
        long AudioInputs, long ImageInputs, double InputsPerSec, double CpuSeconds, double CpuUsPerInput, double RawCpuUsPerInputAt32,
        double CpuToRawAt32, double MeanBatch, long ModelCalls, double QueueWaitP50Ms, double QueueWaitP99Ms, double ResultLatencyP50Ms,
        double ResultLatencyP99Ms, long Windows, long IncompleteWindows, long Shed, long Rejected, double ProcessCpuOfMachine, GcStats Gc,
        double EncoderThreadCpuSeconds, double EncoderThreadCpuUsPerInput, double EncoderThreadCpuToRawAt32);

    public sealed record Result(IReadOnlyList<RawCost> Raw, IReadOnlyList<Run> Runs);

    public static async Task<Result> RunAsync(FusionOptions options, IReadOnlyList<int> sessionCounts, TimeSpan warmUp, TimeSpan measure,
        int rawThreads, TimeSpan rawDuration, CancellationToken cancel)
    {
        var sample = AvDigitsDataset.LoadSample().Items;
        var threadNames = string.Join(", ", ThreadCpu.Names().Where(n => EncoderThreadPrefixes.Any(p => n.StartsWith(p, StringComparison.Ordinal))).Distinct());
        Console.WriteLine($"    encoder threads of the bench's own node, by OS name: {(threadNames.Length == 0 ? "none found" : threadNames)}");
        var raw = new List<RawCost>();
        var runs = new List<Run>();
        foreach (var sessions in sessionCounts)
            foreach (var batching in new[] { false, true })
            {
                var nodeOptions = options with
                {
                    Port = 0,
                    Batching = options.Batching with { Enabled = batching },
                    OperatorConsole = options.OperatorConsole with { Enabled = false },
                };
                await using var node = await FusionNode.StartAsync(nodeOptions, cancel: cancel);
                if (raw.Count == 0) raw.AddRange(RawCosts(sample, rawThreads, rawDuration, options.Batching));
                var run = await RunOnceAsync(node, batching, sessions, sample, warmUp, measure, raw, cancel);
                runs.Add(run);
                Console.WriteLine($"    {sessions,5} sessions, batching {(batching ? "on " : "off")}: {run.InputsPerSec:N0} inputs/s of {run.OfferedInputsPerSec:N0} offered, " +
                                  $"{run.CpuUsPerInput:0.0} us CPU/input = {run.CpuToRawAt32:0.00}x raw ORT at batch 32 (encoder threads {run.EncoderThreadCpuUsPerInput:0.0} us = {run.EncoderThreadCpuToRawAt32:0.00}x), mean call {run.MeanBatch:0.0}, " +
                                  $"queue wait p50 {run.QueueWaitP50Ms:0.00} / p99 {run.QueueWaitP99Ms:0.00} ms, result p50 {run.ResultLatencyP50Ms:0.0} / p99 {run.ResultLatencyP99Ms:0.0} ms after window end, " +
                                  $"shed {run.Shed}, rejected {run.Rejected}, incomplete windows {run.IncompleteWindows}/{run.Windows}");
            }
        return new Result(raw, runs);
    }

    /// <summary>Raw OnnxRuntime on the node's own encoders: CPU per input at batch 32 and at batch 1, on <paramref name="threads"/> threads.</summary>
    private static IEnumerable<RawCost> RawCosts(IReadOnlyList<AvDigitsItem> sample, int threads, TimeSpan duration, Runtime.Encoders.Batching.BatchingOptions batching)
    {
        var registry = ModelRegistry.FromDefaultCatalog();
        foreach (var model in new[] { "audio-digits", "image-digits" })
        {
            var encoder = registry.GetEncoder(model);
            var inputs = Enumerable.Range(0, 32).Select(i => (ReadOnlyMemory<float>)(model == "audio-digits" ? sample[i % sample.Count].Pcm : sample[i % sample.Count].Image)).ToArray();
            var at32 = EncoderThroughput.Raw(encoder, inputs, threads, duration);
            var at1 = EncoderThroughput.Raw(encoder, inputs[..1], threads, duration);
            var callSize = batching.CallSize(encoder.InputLength);
            var atCall = callSize is 1 or 32 ? (callSize == 1 ? at1 : at32) : EncoderThroughput.Raw(encoder, inputs[..callSize], threads, duration);
            Console.WriteLine($"    raw ORT {model}: batch 32 {at32.CpuUsPerInput:0.0} us CPU/input ({at32.PerSec:N0}/s), batch 1 {at1.CpuUsPerInput:0.0} us ({at1.PerSec:N0}/s), " +
                              $"batch {callSize} (the batcher's call) {atCall.CpuUsPerInput:0.0} us, {threads} threads");
            yield return new RawCost(model, at32.CpuUsPerInput, at32.PerSec, at1.CpuUsPerInput, at1.PerSec, callSize, atCall.CpuUsPerInput);
        }
        registry.Dispose();
    }

    private static SessionSpec Spec(string id) => new()
    {
        SessionId = id,
        Labels = BenchSessions.Labels,
        Window = WindowSpec.Tumbling(1_000_000),
        Streams =
        [
            new StreamSpec
            {
                StreamId = "audio", Modality = "audio", Model = "audio-digits", FrameLength = 320, SampleRateHz = 16_000,
                Framing = Framing.Windowed(1_000_000, 1_000_000), MaxFutureSkewUs = 3_600_000_000, Priority = 1,
            },
            new StreamSpec { StreamId = "camera", Modality = "image", Model = "image-digits", FrameLength = 64, MaxFutureSkewUs = 3_600_000_000 },
        ],
    };

    private static async Task<Run> RunOnceAsync(FusionNode node, bool batching, int sessions, IReadOnlyList<AvDigitsItem> sample, TimeSpan warmUp,
        TimeSpan measure, IReadOnlyList<RawCost> raw, CancellationToken cancel)
    {
        var prefix = $"rt-{(batching ? "on" : "off")}-{sessions}";
        var ids = Enumerable.Range(0, sessions).Select(i => $"{prefix}-{i}").ToArray();
        var specs = ids.Select(Spec).ToArray();
        var endpoints = new IActorRef[sessions];
        var latencies = new LatencyLog();
        var freq = (double)Stopwatch.Frequency;
        // Sessions start evenly over one second, as sensors opened at different times would: their windows (and the
        // audio inputs that end with them) close spread over the second, not all at once.
        var phaseTicks = Enumerable.Range(0, sessions).Select(s => (long)(freq * s / sessions)).ToArray();
        var t0 = new long[1];
        var sinks = new IActorRef[sessions];
        for (var start = 0; start < sessions; start += 50)
        {
            var chunk = Enumerable.Range(start, Math.Min(50, sessions - start)).Select(async s =>
            {
                endpoints[s] = (await DrivenRun.OpenAsync(node.Sessions, specs[s], cancel)).Frames ?? throw new InvalidOperationException("no frame endpoint");
                var phase = phaseTicks[s];
                sinks[s] = node.System.ActorOf(Props.Create(() => new ResultSink(t0, phase, latencies)));
                await node.Sessions.Ask<Subscribed>(new Subscribe(ids[s], sinks[s]), TimeSpan.FromSeconds(30), cancel);
            });
            await Task.WhenAll(chunk);
        }

        // Audio chunks of 20 ms of each sample item, and its image: frames reuse them (the framer copies what it keeps).
        var chunks = sample.Select(item => Enumerable.Range(0, FramesPerAudioInput).Select(j => item.Pcm.AsSpan(j * 320, 320).ToArray()).ToArray()).ToArray();
        using var counts = new Counts();
        var totalTicks = (long)((warmUp + measure).TotalSeconds * 1e6 / TickUs);
        long framesSent = 0, framesAtStart = 0;
        var measuring = new ManualResetEventSlim(false);
        GcWatch? gc = null;
        var batcher = node.Encoding.Batcher;
        long measureStartTicks = 0;
        Dictionary<int, long> encoderCpuBefore = [];
        var sender = new Thread(() =>
        {
            var tickTicks = (long)(TickUs * 1e-6 * freq);
            var warmTicks = (long)(warmUp.TotalSeconds * freq);
            Volatile.Write(ref t0[0], Stopwatch.GetTimestamp());
            var origin = t0[0];
            // Frames in the order they are due, each session's next frame in a queue by due time; whatever is due goes,
            // then the thread sleeps about a millisecond: no spinning, so the sender costs the CPU its frames cost.
            var next = new PriorityQueue<(int Session, long Tick), long>();
            for (var s = 0; s < sessions; s++) next.Enqueue((s, 0), origin + phaseTicks[s]);
            while (next.Count > 0 && !cancel.IsCancellationRequested)
            {
                var now = Stopwatch.GetTimestamp();
                if (!measuring.IsSet && now - origin >= warmTicks)
                {
                    encoderCpuBefore = ThreadCpu.Sample(EncoderThreadPrefixes);
                    counts.Reset();
                    batcher?.ResetStats();
                    gc = GcStats.Start();
                    framesAtStart = framesSent;
                    measureStartTicks = now;
                    measuring.Set();
                }
                while (next.TryPeek(out var due, out var dueAt) && dueAt <= now)
                {
                    next.Dequeue();
                    var (s, k) = due;
                    var item = (int)((k / FramesPerAudioInput + s) % sample.Count);
                    endpoints[s].Tell(new Frame(ids[s], "audio", k, k * TickUs, chunks[item][k % FramesPerAudioInput]), ActorRefs.NoSender);
                    framesSent++;
                    if ((k + s) % 5 == 0)
                    {
                        endpoints[s].Tell(new Frame(ids[s], "camera", k / 5, k * TickUs, sample[item].Image), ActorRefs.NoSender);
                        framesSent++;
                    }
                    if (k + 1 < totalTicks) next.Enqueue((s, k + 1), origin + phaseTicks[s] + (k + 1) * tickTicks);
                }
                Thread.Sleep(1);
            }
        }) { IsBackground = true, Name = "realtime-sender" };
        sender.Start();
        await Task.Run(sender.Join, cancel);
        var gcStats = gc!.Stop();
        var encoderCpu = ThreadCpu.SecondsBetween(encoderCpuBefore, ThreadCpu.Sample(EncoderThreadPrefixes));
        var seconds = Stopwatch.GetElapsedTime(measureStartTicks).TotalSeconds;
        var (audio, image, batches, shed, rejected) = counts.Read();
        var stats = batcher?.Stats();
        var waits = batcher?.QueueWaitsUs() ?? [];
        var measuredFrom = measureStartTicks;
        var results = latencies.Since(measuredFrom);

        foreach (var spec in specs) await DrivenRun.CloseAsync(node.Sessions, spec, cancel);
        foreach (var sink in sinks) sink.Tell(PoisonPill.Instance);

        var inputs = audio + image;
        var rawAudio = raw.First(r => r.Model == "audio-digits").CpuUsPerInputAt32;
        var rawImage = raw.First(r => r.Model == "image-digits").CpuUsPerInputAt32;
        var rawCpuUs = audio * rawAudio + image * rawImage;
        var offered = sessions * (1.0 + 10.0); // one audio input and ten camera inputs per session per second
        return new Run(batching, sessions, seconds, framesSent - framesAtStart, (framesSent - framesAtStart) / seconds, offered,
            audio, image, inputs / seconds, gcStats.CpuSeconds, gcStats.CpuUsPer(inputs), inputs == 0 ? 0 : rawCpuUs / inputs,
            rawCpuUs == 0 ? 0 : gcStats.CpuSeconds * 1e6 / rawCpuUs,
            stats is { Calls: > 0 } ? stats.MeanBatch : batches == 0 ? 0 : (double)inputs / batches, stats?.Calls ?? batches,
            Percentile(waits, 0.50) / 1000, Percentile(waits, 0.99) / 1000, Percentile(results.Millis, 0.50), Percentile(results.Millis, 0.99),
            results.Millis.Length, results.Incomplete, shed, rejected, gcStats.ProcessCpuOfMachine, gcStats,
            encoderCpu, inputs == 0 ? 0 : encoderCpu * 1e6 / inputs, rawCpuUs == 0 ? 0 : encoderCpu * 1e6 / rawCpuUs);
    }

    private static double Percentile(double[] sorted, double p)
    {
        if (sorted.Length == 0) return double.NaN;
        return sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
    }

    /// <summary>The node's counters of encoded inputs (by modality), encoder batches, shed inputs and rejected frames, from when it was last reset.</summary>
    private sealed class Counts : IDisposable
    {
        private readonly MeterListener _listener = new();
        private long _audio, _image, _batches, _shed, _rejected;

        public Counts()
        {
            _listener.InstrumentPublished = (i, l) =>
            {
                if (i.Meter.Name == FusionMetrics.MeterName && i.Name is "fusion.inputs.encoded" or "fusion.encoder.duration" or "fusion.inputs.shed" or "fusion.frames.rejected")
                    l.EnableMeasurementEvents(i);
            };
            _listener.SetMeasurementEventCallback<long>((i, value, tags, _) =>
            {
                switch (i.Name)
                {
                    case "fusion.inputs.encoded":
                        foreach (var t in tags)
                            if (t.Key == "modality") Interlocked.Add(ref (string?)t.Value == "audio" ? ref _audio : ref _image, value);
                        break;
                    case "fusion.inputs.shed": Interlocked.Add(ref _shed, value); break;
                    case "fusion.frames.rejected": Interlocked.Add(ref _rejected, value); break;
                }
            });
            _listener.SetMeasurementEventCallback<double>((i, _, _, _) =>
            {
                if (i.Name == "fusion.encoder.duration") Interlocked.Increment(ref _batches);
            });
            _listener.Start();
        }

        public void Reset() => _audio = _image = _batches = _shed = _rejected = 0;

        public (long Audio, long Image, long Batches, long Shed, long Rejected) Read() =>
            (Interlocked.Read(ref _audio), Interlocked.Read(ref _image), Interlocked.Read(ref _batches), Interlocked.Read(ref _shed), Interlocked.Read(ref _rejected));

        public void Dispose() => _listener.Dispose();
    }

    /// <summary>How long after its window's end (on the wall clock of the session's sender) each first result came.</summary>
    private sealed class LatencyLog
    {
        private readonly List<(long DueTicks, double Ms, bool Complete)> _entries = [];

        public void Add(long dueTicks, double ms, bool complete)
        {
            lock (_entries) _entries.Add((dueTicks, ms, complete));
        }

        public (double[] Millis, long Incomplete) Since(long ticks)
        {
            lock (_entries)
            {
                var measured = _entries.Where(e => e.DueTicks >= ticks).ToList();
                var ms = measured.Select(e => e.Ms).ToArray();
                Array.Sort(ms);
                return (ms, measured.Count(e => !e.Complete));
            }
        }
    }

    private sealed class ResultSink : ReceiveActor
    {
        public ResultSink(long[] t0, long phaseTicks, LatencyLog log)
        {
            Receive<FusedResult>(r =>
            {
                if (r.Revision != 0) return;
                var now = Stopwatch.GetTimestamp();
                var due = Volatile.Read(ref t0[0]) + (long)(r.WindowEndUs * 1e-6 * Stopwatch.Frequency) + phaseTicks;
                log.Add(due, (now - due) * 1000.0 / Stopwatch.Frequency, r.Status == FusedStatus.Fused && r.Missing.Count == 0);
            });
            ReceiveAny(_ => { });
        }
    }
}
