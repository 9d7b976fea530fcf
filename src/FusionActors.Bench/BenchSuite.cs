using FusionActors.Scenarios.Sessions;
using System.Text.Json;
using FusionActors.Scenarios;
using FusionActors.Inference;
using FusionActors.Runtime.Alignment;
using FusionActors.Runtime.Encoders;
using FusionActors.Runtime.Fusion;
using FusionActors.Runtime.Gateway;
using FusionActors.Runtime.Hosting;
using FusionActors.Runtime.Sessions;
using FusionActors.Runtime.Streams;

namespace FusionActors.Bench;

/// <summary>
/// A program that prints numbers: one one-node server (the same FusionNode the server runs) measures (a) the
/// actor path against a plain-actor ceiling, (b) encoders against raw OnnxRuntime, (c) latency at 50 % and 80 % of
/// what its own pattern sustains and (d) memory per open session, prints them against their targets and writes a JSON report.
/// <paramref name="only"/> runs a subset, letters of abcd (for profiling one measurement).
/// Exit code 0 when every measurement ran without an error, else 1.
/// </summary>
public static class BenchSuite
{
    /// <summary>The latency budget of (f)'s latency-constrained run: 40 ms, leaving 10 ms of the 50 ms target for alignment, fusion and delivery.</summary>
    public const long OverloadBudgetUs = 40_000;

    /// <param name="batching">The node's batcher on or off for (a)-(d); null: as configured (on by default). (e) runs both.</param>
    /// <param name="recordTo">Record every session into this folder (docs/recording.md), to measure what recording costs; null = none.</param>
    /// <param name="session">(b) measures the encoders of this session file's streams, on the node of its models file, instead of the built-in list.</param>
    public static async Task<int> RunAsync(bool quick, string only, string? reportPath, CancellationToken cancel, bool? batching = null, string? recordTo = null,
        SessionDescription? session = null)
    {
        var scale = quick ? BenchScale.Quick : BenchScale.Full;
        if (only.Length == 0 || only.Any(c => c is not ('a' or 'b' or 'c' or 'd' or 'e' or 'f' or 'g'))) throw new UsageException("--only takes letters of abcdefg");
        bool Runs(char m) => only.Contains(m);

        // The server's defaults, with Akka's log level at WARNING: at INFO every session open/close is printed,
        // which would bury the table under 10,000 lines in (d). No log statement on the frame path is affected.
        var defaults = FusionOptions.Load(null);
        // Bench sessions advance event time 1 µs per frame, so their windows are a few µs long: below the node's
        // default smallest window hop, which is there for clients' specs, not for this measurement.
        var options = defaults with
        {
            Hocon = defaults.Hocon + "\nakka.loglevel = WARNING\n",
            Limits = defaults.Limits with { MinWindowHopUs = 1 },
            Batching = defaults.Batching with { Enabled = batching ?? defaults.Batching.Enabled },
            Recording = recordTo is null ? defaults.Recording : defaults.Recording with { Directory = recordTo, Sessions = ["*"] },
            ModelsPath = session?.Models ?? defaults.ModelsPath,
            // (d)'s first part measures idle sessions awake; its density part runs nodes of its own on which they hibernate.
            HibernateAfter = null,
            // (a)-(f) measure the encoding path, and their sample cameras show each digit for several frames in a row: the
            // repeat cache would serve those instead of the model. Off, so they measure what they did; (g) measures the cache.
            RepeatCache = RepeatCacheOptions.Off,
        };
        IEncoderProvider? encoders = null;
        await using var node = await FusionNode.StartAsync(options, wrapEncoders: p => encoders = p, cancel: cancel);
        var encoderThreads = FusionConfig.Parse(options.Hocon).GetInt("fusion.encoder-dispatcher.dedicated-thread-pool.thread-count", 2);
        Console.WriteLine($"FusionActors bench ({scale.Name}): one-node cluster up, {Environment.ProcessorCount} cores, " +
                          $"encoder dispatcher {encoderThreads} threads, batcher {(options.Batching.Enabled ? $"on (max batch {options.Batching.MaxBatch}, queue delay {options.Batching.MaxQueueDelay.TotalMilliseconds:0.#} ms, {options.Batching.Threads} threads)" : "off")}, " +
                          $"median of {scale.Repeats} run(s) for (a), {scale.EncoderRepeats} for (b)" +
                          (recordTo is null ? "" : $", recording every session to {Path.GetFullPath(recordTo)}"));

        var report = new BenchReport { Scale = scale.Name, Machine = MachineInfo.Current(), Timestamp = DateTimeOffset.UtcNow, Batching = options.Batching.Enabled };
        var errors = new List<string>();

        // A measurement that fails is reported as failed; the others still run.
        async Task Section(string name, Func<Task> body)
        {
            try { await body(); }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                errors.Add($"{name}: {e.GetType().Name}: {e.Message}");
                Console.WriteLine($"    {name} FAILED: {e.GetType().Name}: {e.Message}");
            }
        }

        if (Runs('a')) await Section("(a)", async () =>
        {
            Console.WriteLine("(a) pipeline throughput ...");
            var pipelineWarmUp = await PipelineThroughput.WarmUpAsync(node, scale, cancel);
            var ceilingWarmUp = await CeilingChain.WarmUpAsync(node.System, scale, cancel);
            Console.WriteLine($"    warm-up until the CPU cost is steady: pipeline {string.Join(", ", pipelineWarmUp.Select(c => c.ToString("0.00")))} us/frame, " +
                              $"ceiling {string.Join(", ", ceilingWarmUp.Select(c => c.ToString("0.00")))} us/message");
            // Pipeline and ceiling runs alternate, so load from other processes on a shared machine hits both alike.
            var pipelineRuns = new List<PipelineThroughput.Result>();
            var ceilingRuns = new List<CeilingChain.Result>();
            for (var i = 0; i < scale.Repeats; i++)
            {
                pipelineRuns.Add(await PipelineThroughput.MeasureAsync(node, scale, i, cancel));
                ceilingRuns.Add(await CeilingChain.MeasureAsync(node.System, scale, cancel));
                Console.WriteLine($"    run {i + 1}: pipeline {pipelineRuns[^1].FramesPerSec:N0} fused frames/s, ceiling {ceilingRuns[^1].MessagesPerSec:N0} messages/s");
            }
            var pipeline = Repeat.MedianOf(pipelineRuns, r => r.FramesPerSec);
            var ceiling = Repeat.MedianOf(ceilingRuns, r => r.MessagesPerSec);

            // Breakdown (information, not the measurement of (a)): the same sessions with one FrameBatch per window,
            // and per-frame messages sent straight to unsharded session actors (no region, no shard hop).
            Console.WriteLine("(a) breakdown: FrameBatch per window, and direct to unsharded session actors ...");
            var run = scale.Repeats;
            var (batched, _) = await Repeat.MedianAsync(1,
                () => PipelineThroughput.MeasureAsync(node, scale, run++, cancel, PipelineThroughput.Variant.FrameBatch), r => r.FramesPerSec);
            var (direct, _) = await Repeat.MedianAsync(1,
                () => PipelineThroughput.MeasureAsync(node, scale, run++, cancel, PipelineThroughput.Variant.DirectToSession,
                    id => SessionActor.Props(id, encoders!, options.Backoff, sharded: false, limits: options.Limits)), r => r.FramesPerSec);
            // (a) on the design's data path (frames to the session's endpoint, not through the region), next to a
            // ceiling of the same hop count; alternating like the runs above.
            var endpointRuns = new List<PipelineThroughput.Result>();
            var endpointCeilingRuns = new List<CeilingChain.Result>();
            for (var i = 0; i < scale.Repeats; i++)
            {
                endpointRuns.Add(await PipelineThroughput.MeasureAsync(node, scale, run++, cancel, PipelineThroughput.Variant.SessionEndpoint));
                endpointCeilingRuns.Add(await CeilingChain.MeasureAsync(node.System, scale, cancel, PipelineThroughput.EndpointHops));
                Console.WriteLine($"    endpoint run {i + 1}: {endpointRuns[^1].FramesPerSec:N0} fused frames/s, {PipelineThroughput.EndpointHops}-hop ceiling {endpointCeilingRuns[^1].MessagesPerSec:N0} messages/s");
            }
            var endpoint = Repeat.MedianOf(endpointRuns, r => r.FramesPerSec);
            var endpointCeiling = Repeat.MedianOf(endpointCeilingRuns, r => r.MessagesPerSec);
            var rules = RuleCost.Measure(scale);
            Console.WriteLine($"    FrameBatch {batched.FramesPerSec:N0}, direct {direct.FramesPerSec:N0} fused frames/s; rules alone {rules.CpuUsPerFrame:0.00} us CPU/frame");
            report = report with
            {
                PipelineFramesPerSec = pipeline.FramesPerSec, CeilingFramesPerSec = ceiling.MessagesPerSec,
                PipelineToCeiling = pipeline.FramesPerSec / ceiling.MessagesPerSec, Pipeline = pipeline, Ceiling = ceiling,
                PipelineRunsFramesPerSec = pipelineRuns.Select(r => r.FramesPerSec).ToArray(),
                CeilingRunsFramesPerSec = ceilingRuns.Select(r => r.MessagesPerSec).ToArray(),
                PipelineFrameBatch = batched, PipelineDirectToSession = direct, Rules = rules,
                PipelineCpuUsPerFrame = pipeline.CpuUsPerFrame, CeilingCpuUsPerMessage = ceiling.CpuUsPerMessage,
                PipelineToCeilingByCpu = ceiling.CpuUsPerMessage / pipeline.CpuUsPerFrame,
                Endpoint = endpoint, EndpointCeiling = endpointCeiling, EndpointFramesPerSec = endpoint.FramesPerSec,
                EndpointCeilingFramesPerSec = endpointCeiling.MessagesPerSec, EndpointToCeiling = endpoint.FramesPerSec / endpointCeiling.MessagesPerSec,
                EndpointToCeilingByCpu = endpointCeiling.CpuUsPerMessage / endpoint.CpuUsPerFrame,
            };
        });

        if (Runs('c')) await Section("(c)", async () =>
        {
            // The load is a fraction of what the probe's own pattern sustains (frames one by one from one sender
            // thread through the region), measured just before each load point: not (a)'s closed loop of many drivers.
            Console.WriteLine("(c) latency at 50 % and 80 % of the capacity of its own pattern, each measured just before ...");
            async Task<LatencyProbe.Result> At(double fraction)
            {
                var capacity = await LatencyProbe.CapacityAsync(node, scale, cancel);
                var r = await LatencyProbe.RunAsync(node, scale, capacity.FramesPerSec * fraction, cancel, fraction) with { Of = capacity };
                Console.WriteLine($"    capacity {capacity.FramesPerSec:N0} frames/s ({capacity.CpuUsPerFrame:0.00} us CPU, {capacity.AllocatedBytesPerFrame:N0} B/frame); " +
                                  $"at {fraction:P0} ({r.OfferedFramesPerSec:N0} frames/s): p50 {r.P50Ms:0.00} ms, p99 {r.P99Ms:0.00} ms, max {r.MaxMs:0.00} ms; " +
                                  $"GC {r.Gc.Gen0}/{r.Gc.Gen1}/{r.Gc.Gen2}, pauses {r.Gc.PauseMs:0} ms");
                return r;
            }
            var half = await At(0.5);
            var high = await At(0.8);
            // Information only: the same probe at a lower load, to show where the tail comes from.
            var low = await At(0.25);
            report = report with
            {
                LatencyP50Ms = half.P50Ms, LatencyP99Ms = half.P99Ms, LatencyLoadFramesPerSec = half.OfferedFramesPerSec,
                LatencyP99At80Ms = high.P99Ms, LatencyAt80 = high, LatencyCapacity = half.Of,
                MaxOutOfOrdernessUs = 0, AllowedLatenessUs = 0, Latency = half, LatencyAtLowerLoads = [low],
            };
        });

        if (Runs('b') && session is not null) await Section("(b)", async () =>
        {
            var (costs, results) = await SessionEncodersAsync(session, node, encoders!, scale, encoderThreads, cancel);
            report = report with { Session = RepositoryRelative(session.File), SessionStreams = costs, PretrainedEncoders = results };
        });
        else if (Runs('b')) await Section("(b)", async () =>
        {
            Console.WriteLine("(b) image-digits encoder ...");
            var image = await EncoderThroughput.RunAsync(node, encoders!, "image-digits", "image", 64, 0f, 1f,
                scale.EncoderSessions, scale.ImageFrames, scale.RawOnnxDuration, encoderThreads, scale.EncoderRepeats, cancel);
            Console.WriteLine($"    {image.PipelinePerSec:N0} inputs/s via actors, raw {image.RawPerSec:N0}/s");
            Console.WriteLine("(b) audio-digits encoder ...");
            var audio = await EncoderThroughput.RunAsync(node, encoders!, "audio-digits", "audio", 16_000, -0.5f, 0.5f,
                scale.EncoderSessions, scale.AudioFrames, scale.RawOnnxDuration, encoderThreads, scale.EncoderRepeats, cancel);
            Console.WriteLine($"    {audio.PipelinePerSec:N0} inputs/s via actors, raw {audio.RawPerSec:N0}/s");
            report = report with
            {
                EncoderPerSec = image.PipelinePerSec, RawOnnxPerSec = image.RawPerSec, EncoderToRaw = image.PipelinePerSec / image.RawPerSec,
                MeanBatchSize = image.MeanBatchSize, ImageEncoder = image,
                EncoderCpuUsPerInput = image.CpuUsPerInput, RawOnnxCpuUsPerInput = image.RawCpuUsPerInput,
                EncoderToRawByCpu = image.RawCpuUsPerInput / image.CpuUsPerInput,
                AudioEncoderPerSec = audio.PipelinePerSec, AudioRawOnnxPerSec = audio.RawPerSec,
                AudioEncoderToRaw = audio.PipelinePerSec / audio.RawPerSec, AudioMeanBatchSize = audio.MeanBatchSize, AudioEncoder = audio,
            };
            // The pretrained models, when the node's models.json declares them (FUSION_MODELS=models/pretrained/four-modalities.json).
            var pretrained = new List<EncoderThroughput.Result>();
            foreach (var (model, modality, length, lo, hi, frames) in new[]
                     {
                         ("paddle-ocr-digits", "ocr", 64, 0f, 1f, scale.AudioFrames),
                         ("silero-vad", "voice", 576, -0.5f, 0.5f, scale.ImageFrames / 4),
                     })
            {
                try { encoders!.Resolve(BenchSessions.PerFrame("s", modality, model, length), BenchSessions.Labels); }
                catch (UnknownModelException e)
                {
                    Console.WriteLine($"(b) {model}: not measured ({e.Message})");
                    continue;
                }
                Console.WriteLine($"(b) {model} encoder ...");
                var r = await EncoderThroughput.RunAsync(node, encoders!, model, modality, length, lo, hi,
                    scale.EncoderSessions, frames, scale.RawOnnxDuration, encoderThreads, scale.EncoderRepeats, cancel);
                Console.WriteLine($"    {r.PipelinePerSec:N0} inputs/s via actors, raw {r.RawPerSec:N0}/s");
                pretrained.Add(r);
            }
            report = report with { PretrainedEncoders = pretrained };
        });

        if (Runs('d')) await Section("(d)", async () =>
        {
            Console.WriteLine($"(d) memory of {scale.MemorySessions:N0} open sessions ...");
            var memory = await SessionMemory.RunAsync(node, scale.MemorySessions, scale.IdleSteadyAfter, cancel);
            report = report with
            {
                BytesPerSession = memory.BytesPerSession, WorkingSetBytesPerSession = memory.WorkingSetBytesPerSession,
                SessionsOpened = memory.SessionsOpened, Memory = memory,
            };
            Console.WriteLine($"(d) density: {string.Join(", ", scale.DensitySessions.Select(n => n.ToString("N0")))} sessions, each count on a fresh node whose idle sessions hibernate ...");
            var density = await SessionDensity.RunAsync(options with { HibernateAfter = defaults.HibernateAfter }, scale.DensitySessions, scale.ModalitySessions, cancel);
            report = report with { Density = density };
        });

        if (Runs('e')) await Section("(e)", async () =>
        {
            Console.WriteLine($"(e) {string.Join(" and ", scale.RealTimeSessions.Select(n => n.ToString("N0")))} real-time AV-Digits sessions, batching off then on, a node each ...");
            var realTime = await RealTimeSessions.RunAsync(options, scale.RealTimeSessions, scale.RealTimeWarmUp, scale.RealTimeMeasure,
                encoderThreads, scale.RawOnnxDuration, cancel);
            report = report with { RealTime = realTime };
        });

        if (Runs('f')) await Section("(f)", async () =>
        {
            Console.WriteLine($"(f) overload: {Overload.Sessions} sessions x 2 image-digits streams (priority 1 and 0), capacity, then {Overload.LoadFactor:P0} of it, lossless then latency-constrained, a node each ...");
            var overload = await Overload.RunAsync(options, quick ? TimeSpan.FromSeconds(10) : TimeSpan.FromSeconds(30), OverloadBudgetUs, cancel);
            report = report with { Overload = overload };
        });

        if (Runs('g')) await Section("(g)", async () =>
        {
            Console.WriteLine("(g) repeat cache: CPU per input of a frozen camera stream (one image-digits stream, the same frame), cache off vs on ...");
            var cost = await RepeatCacheCost.MeasureAsync(node.System, encoders!, quick ? 2_000 : 50_000, quick ? 1 : 5, cancel);
            report = report with { RepeatCache = cost };
        });

        report = report with { Errors = errors, Timestamp = DateTimeOffset.UtcNow, Machine = report.Machine with { LoadAverageAtEnd = MachineInfo.LoadAverage() } };
        report.Print();
        if (reportPath is { } path)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            await File.WriteAllTextAsync(path, JsonSerializer.Serialize(report, BenchReport.Json), cancel);
            Console.WriteLine($"report written to {path}");
        }
        return errors.Count == 0 ? 0 : 1;
    }

    /// <summary>
    /// (b) for a session file: each distinct model of its streams through the actors and raw (<see cref="EncoderThroughput"/>),
    /// on inputs of the length the stream gives it (a window's samples, or a frame), then each stream's CPU per 1 s window:
    /// its inputs per window (frames per second, or windows per second of a windowed stream) times the model's CPU per input.
    /// How many inputs a model is measured on follows a short raw probe: about 4 s of its encoding per run.
    /// </summary>
    private static async Task<(IReadOnlyList<BenchReport.SessionStreamCost>, IReadOnlyList<EncoderThroughput.Result>)> SessionEncodersAsync(
        SessionDescription session, FusionNode node, IEncoderProvider encoders, BenchScale scale, int encoderThreads, CancellationToken cancel)
    {
        var results = new Dictionary<string, EncoderThroughput.Result>(StringComparer.Ordinal);
        var costs = new List<BenchReport.SessionStreamCost>();
        foreach (var s in session.Streams)
        {
            var length = s.Window is { } w ? (int)(w.LengthUs * (long)s.SampleRateHz / 1_000_000) : s.FrameLength;
            var (lo, hi) = s.Source == StreamSource.Audio ? (-0.5f, 0.5f) : (0f, 1f);
            var perWindow = s.Source == StreamSource.Image ? s.Fps
                : s.Window is { } win ? 1_000_000.0 / win.HopUs
                : s.SampleRateHz / s.FrameLength;
            if (!results.TryGetValue(s.Model, out var r))
            {
                var spec = BenchSessions.PerFrame("s", s.Modality, s.Model, length);
                var encoder = encoders.Resolve(spec, BenchSessions.Labels).Encoder;
                var probe = Enumerable.Range(0, spec.MaxBatch).Select(i => (ReadOnlyMemory<float>)BenchSessions.Payload(length, 100 + i, lo, hi)).ToArray();
                EncoderThroughput.Raw(encoder, probe, encoderThreads, TimeSpan.FromMilliseconds(100)); // the first calls are slow (ONNX Runtime warms up)
                var (perSec, _) = EncoderThroughput.Raw(encoder, probe, encoderThreads, TimeSpan.FromMilliseconds(300));
                var frames = (long)Math.Clamp(perSec * 4, scale.EncoderSessions * spec.MaxBatch, scale.ImageFrames);
                Console.WriteLine($"(b) {s.Model} encoder ({s.Modality}, inputs of {length}, {frames:N0} inputs per run) ...");
                r = await EncoderThroughput.RunAsync(node, encoders, s.Model, s.Modality, length, lo, hi,
                    scale.EncoderSessions, frames, scale.RawOnnxDuration, encoderThreads, scale.EncoderRepeats, cancel);
                Console.WriteLine($"    {r.PipelinePerSec:N0} inputs/s via actors ({r.CpuUsPerInput:0.0} us CPU/input), raw {r.RawPerSec:N0}/s ({r.RawCpuUsPerInput:0.0} us CPU/input)");
                results[s.Model] = r;
            }
            costs.Add(new BenchReport.SessionStreamCost(s.Id, s.Modality, s.Model, length, Math.Round(perWindow, 2), Math.Round(r.CpuUsPerInput, 1),
                Math.Round(r.RawCpuUsPerInput, 1), Math.Round(perWindow * r.CpuUsPerInput / 1000, 3), Math.Round(perWindow * r.RawCpuUsPerInput / 1000, 3)));
        }
        return (costs, results.Values.ToList());
    }

    /// <summary>A path relative to the repository (the directory holding FusionActors.sln above the working directory) when inside it.</summary>
    private static string RepositoryRelative(string path)
    {
        for (var d = new DirectoryInfo(Directory.GetCurrentDirectory()); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "FusionActors.sln")))
            {
                var relative = Path.GetRelativePath(d.FullName, Path.GetFullPath(path));
                return relative.StartsWith("..", StringComparison.Ordinal) ? path : relative.Replace(Path.DirectorySeparatorChar, '/');
            }
        return path;
    }
}
