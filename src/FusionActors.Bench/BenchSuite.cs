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
/// actor path against a plain-actor ceiling, (b) encoders against raw OnnxRuntime, (c) latency at half of (a)'s
/// throughput and (d) memory per open session, prints them against their targets and writes a JSON report.
/// <paramref name="only"/> runs a subset, letters of abcd (for profiling one measurement; (c) needs (a) and runs it too).
/// Exit code 0 when every measurement ran without an error, else 1.
/// </summary>
public static class BenchSuite
{
    /// <param name="batching">The node's batcher on or off for (a)-(d); null: as configured (on by default). (e) runs both.</param>
    /// <param name="recordTo">Record every session into this folder (docs/recording.md), to measure what recording costs; null = none.</param>
    public static async Task<int> RunAsync(bool quick, string only, string? reportPath, CancellationToken cancel, bool? batching = null, string? recordTo = null)
    {
        var scale = quick ? BenchScale.Quick : BenchScale.Full;
        if (only.Length == 0 || only.Any(c => c is not ('a' or 'b' or 'c' or 'd' or 'e'))) throw new UsageException("--only takes letters of abcde");
        bool Runs(char m) => only.Contains(m) || (m == 'a' && only.Contains('c'));

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
            // (d)'s first part measures idle sessions awake; its density part runs nodes of its own on which they hibernate.
            HibernateAfter = null,
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
            Console.WriteLine("(c) latency at half of (a) ...");
            if (report.PipelineFramesPerSec <= 0) throw new InvalidOperationException("(a) measured no throughput to take half of");
            var latency = await LatencyProbe.RunAsync(node, scale, report.PipelineFramesPerSec / 2, cancel);
            Console.WriteLine($"    p50 {latency.P50Ms:0.00} ms, p99 {latency.P99Ms:0.00} ms");
            // Information only: the same probe at lower loads, to show where the tail comes from.
            var sweep = new List<LatencyProbe.Result>();
            foreach (var fraction in new[] { 0.25, 0.1 })
            {
                var r = await LatencyProbe.RunAsync(node, scale, report.PipelineFramesPerSec * fraction, cancel);
                Console.WriteLine($"    at {fraction:P0} of (a): p50 {r.P50Ms:0.00} ms, p99 {r.P99Ms:0.00} ms");
                sweep.Add(r);
            }
            report = report with
            {
                LatencyP50Ms = latency.P50Ms, LatencyP99Ms = latency.P99Ms, LatencyLoadFramesPerSec = latency.OfferedFramesPerSec,
                MaxOutOfOrdernessUs = 0, AllowedLatenessUs = 0, Latency = latency, LatencyAtLowerLoads = sweep,
            };
        });

        if (Runs('b')) await Section("(b)", async () =>
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
}
