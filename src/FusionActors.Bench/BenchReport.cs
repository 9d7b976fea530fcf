using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace FusionActors.Bench;

/// <summary>The bench's numbers, the targets they are held to, and how they are printed and written.</summary>
public sealed record BenchReport
{
    public const double PipelineTarget = 0.30;
    public const double EncoderTarget = 0.80;
    public const double LatencyP99TargetMs = 5.0;
    /// <summary>(c) at 80 % of the probe pattern's capacity.</summary>
    public const double LatencyP99At80TargetMs = 20.0;
    public const double PipelineByCpuTarget = 0.60;
    public const double BytesPerSessionTarget = 20 * 1024;
    public const double AllocatedBytesPerFrameTarget = 150;
    public const double HibernatedBytesTarget = 10 * 1024;
    public const double OpenSecondsTarget = 30;
    public const double ConsoleMsTarget = 1000;

    public required string Scale { get; init; }
    public required MachineInfo Machine { get; init; }
    /// <summary>(g): a frozen camera's CPU per input with the repeat cache off and on (run only when asked: --only g).</summary>
    public IReadOnlyList<RepeatCacheCost.Result> RepeatCache { get; init; } = [];
    public required DateTimeOffset Timestamp { get; init; }
    /// <summary>Measurements that failed (their fields stay 0).</summary>
    public IReadOnlyList<string> Errors { get; init; } = [];

    // (a)
    public double PipelineFramesPerSec { get; init; }
    public double CeilingFramesPerSec { get; init; }
    public double PipelineToCeiling { get; init; }
    public int Hops { get; init; } = PipelineThroughput.Hops;
    /// <summary>
    /// CPU time of this process per fused frame and per ceiling message, and their ratio (ceiling cost / pipeline cost):
    /// the same comparison as <see cref="PipelineToCeiling"/> by cost instead of wall time, which outside load barely moves.
    /// </summary>
    public double PipelineCpuUsPerFrame { get; init; }
    public double CeilingCpuUsPerMessage { get; init; }
    public double PipelineToCeilingByCpu { get; init; }
    public PipelineThroughput.Result? Pipeline { get; init; }
    public CeilingChain.Result? Ceiling { get; init; }
    public IReadOnlyList<double> PipelineRunsFramesPerSec { get; init; } = [];
    public IReadOnlyList<double> CeilingRunsFramesPerSec { get; init; } = [];
    /// <summary>Breakdown of (a), not the measurement: one FrameBatch message per window instead of one message per frame.</summary>
    public PipelineThroughput.Result? PipelineFrameBatch { get; init; }
    /// <summary>Breakdown of (a), not the measurement: per-frame messages straight to unsharded session actors (7 hops).</summary>
    public PipelineThroughput.Result? PipelineDirectToSession { get; init; }
    /// <summary>Breakdown of (a): the same rules without actors, one thread.</summary>
    public RuleCost.Result? Rules { get; init; }

    /// <summary>
    /// (a) on the design's data path: frames sent to the session's own frame endpoint (SessionOpened.Frames),
    /// not routed one by one through region and shard; next to a ceiling of the same 7 hops, runs alternating.
    /// </summary>
    public double EndpointFramesPerSec { get; init; }
    public double EndpointCeilingFramesPerSec { get; init; }
    public double EndpointToCeiling { get; init; }
    public double EndpointToCeilingByCpu { get; init; }
    public int EndpointHops { get; init; } = PipelineThroughput.EndpointHops;
    public PipelineThroughput.Result? Endpoint { get; init; }
    public CeilingChain.Result? EndpointCeiling { get; init; }
    public bool EndpointMet => EndpointToCeiling >= PipelineTarget;

    // (b)
    public double EncoderPerSec { get; init; }
    public double RawOnnxPerSec { get; init; }
    public double EncoderToRaw { get; init; }
    public double MeanBatchSize { get; init; }
    /// <summary>Process CPU µs per image input through the actors and raw, and raw / actors (the by-cost counterpart of <see cref="EncoderToRaw"/>).</summary>
    public double EncoderCpuUsPerInput { get; init; }
    public double RawOnnxCpuUsPerInput { get; init; }
    public double EncoderToRawByCpu { get; init; }
    public double? AudioEncoderPerSec { get; init; }
    public double? AudioRawOnnxPerSec { get; init; }
    public double? AudioEncoderToRaw { get; init; }
    public double? AudioMeanBatchSize { get; init; }
    public EncoderThroughput.Result? ImageEncoder { get; init; }
    public EncoderThroughput.Result? AudioEncoder { get; init; }
    /// <summary>The pretrained models of the node's models.json (when it declares them: FUSION_MODELS=models/pretrained/four-modalities.json).</summary>
    public IReadOnlyList<EncoderThroughput.Result> PretrainedEncoders { get; init; } = [];

    /// <summary>With <c>--session FILE</c>: the session file whose models (b) measured instead (repository-relative when inside it).</summary>
    public string? Session { get; init; }

    /// <summary>With <c>--session FILE</c>: each stream of the session, its model's measured CPU cost per input and per 1 s window.</summary>
    public IReadOnlyList<SessionStreamCost> SessionStreams { get; init; } = [];

    /// <summary>A stream of a session file: how many encoder inputs one 1 s window gives it, and what they cost its model (median CPU of (b)).</summary>
    public sealed record SessionStreamCost(string Stream, string Modality, string Model, int InputLength, double InputsPerWindow,
        double CpuUsPerInput, double RawCpuUsPerInput, double CpuMsPerWindow, double RawCpuMsPerWindow);

    // (c)
    /// <summary>At 50 % of <see cref="LatencyCapacity"/>.</summary>
    public double LatencyP50Ms { get; init; }
    public double LatencyP99Ms { get; init; }
    public double LatencyLoadFramesPerSec { get; init; }
    /// <summary>At 80 % of <see cref="LatencyCapacity"/>.</summary>
    public double LatencyP99At80Ms { get; init; }
    public LatencyProbe.Result? LatencyAt80 { get; init; }
    /// <summary>What the probe's own pattern (one sender, frames one by one through the region) sustains, measured just before the 50 % point (each point's: <see cref="LatencyProbe.Result.Of"/>).</summary>
    public LatencyProbe.Capacity? LatencyCapacity { get; init; }
    public long MaxOutOfOrdernessUs { get; init; }
    public long AllowedLatenessUs { get; init; }
    public LatencyProbe.Result? Latency { get; init; }
    /// <summary>Information only: the latency probe at 25 % of the capacity.</summary>
    public IReadOnlyList<LatencyProbe.Result> LatencyAtLowerLoads { get; init; } = [];

    // (d)
    public double BytesPerSession { get; init; }
    public double WorkingSetBytesPerSession { get; init; }
    public int SessionsOpened { get; init; }
    public SessionMemory.Result? Memory { get; init; }
    public SessionDensity.Result? Density { get; init; }

    // (e)
    public const double RealTimeCpuTarget = 1.25;
    /// <summary>Whether the node's batcher was on for (a)-(d) (Fusion:Batching:Enabled or --batching).</summary>
    public bool Batching { get; init; }
    public RealTimeSessions.Result? RealTime { get; init; }

    // (f)
    public Overload.Result? Overload { get; init; }

    public bool PipelineMet => PipelineToCeiling >= PipelineTarget;
    public bool EncoderMet => EncoderToRaw >= EncoderTarget;
    public bool LatencyMet => LatencyP99Ms <= LatencyP99TargetMs;
    public bool LatencyAt80Met => LatencyP99At80Ms <= LatencyP99At80TargetMs;
    public bool MemoryMet => BytesPerSession <= BytesPerSessionTarget;

    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter() },
    };

    public void Print()
    {
        static string Met(bool ok) => ok ? "met" : "MISSED";
        System.Console.WriteLine();
        System.Console.WriteLine($"FusionActors bench ({Scale}) on {Machine.Cores} cores, {Machine.Os}, .NET {Machine.Dotnet}, {Timestamp:u}; " +
                          $"load average {Machine.LoadAverageAtStart} at start, {Machine.LoadAverageAtEnd} at end");
        System.Console.WriteLine($"{"measurement",-44} {"value",16} {"reference",16} {"ratio",8} {"target",-14} {"result",-6}");
        System.Console.WriteLine(new string('-', 110));
        if (Pipeline is not null)
            System.Console.WriteLine($"{"(a) fused frames/s, noop, full actor path",-44} {PipelineFramesPerSec,16:N0} {CeilingFramesPerSec,16:N0} {PipelineToCeiling,8:P1} {">= 30 % ceil",-14} {Met(PipelineMet),-6}");
        if (Endpoint is not null)
            System.Console.WriteLine($"{"(a) same, frames to the session endpoint",-44} {EndpointFramesPerSec,16:N0} {EndpointCeilingFramesPerSec,16:N0} {EndpointToCeiling,8:P1} {">= 30 % ceil",-14} {Met(EndpointMet),-6}");
        if (Pipeline is { } pa)
        {
            System.Console.WriteLine($"{"(a) CPU us per frame / ceiling us per message",-44} {PipelineCpuUsPerFrame,16:0.00} {CeilingCpuUsPerMessage,16:0.00} {PipelineToCeilingByCpu,8:P1} {">= 60 % by CPU",-14} {Met(PipelineToCeilingByCpu >= PipelineByCpuTarget),-6}");
            System.Console.WriteLine($"{"(a) bytes allocated per frame",-44} {pa.AllocatedBytesPerFrame,16:N0} {"",16} {"",8} {"<= 150 B",-14} {Met(pa.AllocatedBytesPerFrame <= AllocatedBytesPerFrameTarget),-6}");
        }
        if (ImageEncoder is not null)
            System.Console.WriteLine($"{"(b) image-digits inputs/s via actors",-44} {EncoderPerSec,16:N0} {RawOnnxPerSec,16:N0} {EncoderToRaw,8:P1} {">= 80 % raw",-14} {Met(EncoderMet),-6}");
        if (ImageEncoder is not null)
            System.Console.WriteLine($"{"    image-digits CPU us per input, raw / actors",-44} {RawOnnxCpuUsPerInput,16:0.0} {EncoderCpuUsPerInput,16:0.0} {EncoderToRawByCpu,8:P1} {">= 95 % by CPU",-14} {Met(EncoderToRawByCpu >= 0.95),-6}");
        if (AudioEncoderPerSec is { } ae)
            System.Console.WriteLine($"{"    audio-digits inputs/s via actors",-44} {ae,16:N0} {AudioRawOnnxPerSec,16:N0} {AudioEncoderToRaw,8:P1} {"(info)",-14} {(AudioEncoderToRaw >= EncoderTarget ? "met" : "MISSED"),-6}");
        if (Latency is not null)
            System.Console.WriteLine($"{"(c) latency p50 / p99 ms at 50 % capacity",-44} {$"{LatencyP50Ms:0.00} / {LatencyP99Ms:0.00}",16} {LatencyLoadFramesPerSec,16:N0} {"",8} {"p99 <= 5 ms",-14} {Met(LatencyMet),-6}");
        if (LatencyAt80 is { } l80)
            System.Console.WriteLine($"{"(c) latency p50 / p99 ms at 80 % capacity",-44} {$"{l80.P50Ms:0.00} / {l80.P99Ms:0.00}",16} {l80.OfferedFramesPerSec,16:N0} {"",8} {"p99 <= 20 ms",-14} {Met(LatencyAt80Met),-6}");
        if (Memory is not null)
        {
            System.Console.WriteLine($"{"(d) managed bytes per open session",-44} {BytesPerSession,16:N0} {SessionsOpened,16:N0} {"",8} {"<= 20 KB",-14} {Met(MemoryMet),-6}");
            System.Console.WriteLine($"{"    working-set bytes per open session",-44} {WorkingSetBytesPerSession,16:N0} {"",16} {"",8} {"(info)",-14}");
        }
        if (Density is { } dn)
            foreach (var pt in dn.Curve)
            {
                System.Console.WriteLine($"{$"(d) {pt.Sessions:N0} sessions asleep, B per session",-44} {pt.BytesPerHibernatedSession,16:N0} {"",16} {"",8} {"<= 10 KB",-14} {Met(pt.BytesPerHibernatedSession <= HibernatedBytesTarget),-6}");
                var slowest = pt.ConsoleMs.Count == 0 ? double.NaN : pt.ConsoleMs.Values.Max();
                System.Console.WriteLine($"{$"    opened in s / slowest console command ms",-44} {$"{pt.OpenSeconds:0.0} / {slowest:0}",16} {"",16} {"",8} {"<= 30 s / 1 s",-14} {Met(pt.OpenSeconds <= OpenSecondsTarget && slowest <= ConsoleMsTarget),-6}");
            }
        if (RealTime is { } rt)
            foreach (var r in rt.Runs)
            {
                System.Console.WriteLine($"{$"(e) {r.Sessions} real-time sessions, batching {(r.Batching ? "on" : "off")}",-44} {$"{r.CpuUsPerInput:0.0} us CPU",16} {$"{r.RawCpuUsPerInputAt32:0.0} us raw32",16} {r.CpuToRawAt32,7:0.00}x " +
                                         $"{(r.Batching ? "<= 1.25x raw" : "(info)"),-14} {(r.Batching ? Met(r.CpuToRawAt32 <= RealTimeCpuTarget) : ""),-6}");
                System.Console.WriteLine($"{"    the same, threads running the models",-44} {$"{r.EncoderThreadCpuUsPerInput:0.0} us CPU",16} {$"{r.RawCpuUsPerInputAt32:0.0} us raw32",16} {r.EncoderThreadCpuToRawAt32,7:0.00}x {"(info)",-14}");
            }
        if (Overload is { } ov)
            foreach (var r in ov.Runs)
            {
                var constrained = r.Delivery == "latency-constrained";
                System.Console.WriteLine($"{$"(f) {r.Delivery} at {r.OfferedFramesPerSec / ov.CapacityFramesPerSec:P0} capacity, p50/p99 ms",-44} {$"{r.P50Ms:0.0} / {r.P99Ms:0.0}",16} {ov.CapacityFramesPerSec,16:N0} {"",8} " +
                                         $"{(constrained ? "p99 <= 50 ms" : "(info)"),-14} {(constrained ? Met(r.P99Ms <= FusionActors.Bench.Overload.LatencyP99TargetMs) : ""),-6}");
            }
        System.Console.WriteLine(new string('-', 110));
        if (RealTime is { } rts)
        {
            foreach (var raw in rts.Raw)
                System.Console.WriteLine($"(e) raw ORT {raw.Model}: batch 32 {raw.CpuUsPerInputAt32:0.0} us CPU/input ({raw.PerSecAt32:N0}/s), batch 1 {raw.CpuUsPerInputAt1:0.0} us ({raw.PerSecAt1:N0}/s), " +
                                         $"batch {raw.CallSize} (the batcher's call) {raw.CpuUsPerInputAtCallSize:0.0} us");
            foreach (var r in rts.Runs)
                System.Console.WriteLine($"(e) {r.Sessions} sessions, batching {(r.Batching ? "on " : "off")}: {r.Seconds:0.0} s, {r.FramesPerSec:N0} frames/s, {r.InputsPerSec:N0} inputs/s " +
                                         $"({r.AudioInputs:N0} audio + {r.ImageInputs:N0} image) of {r.OfferedInputsPerSec:N0} offered; CPU {r.CpuSeconds:0.0} s = {r.ProcessCpuOfMachine:P0} of the cores, " +
                                         $"{r.CpuUsPerInput:0.0} us/input vs raw ORT batch 32 {r.RawCpuUsPerInputAt32:0.0} = {r.CpuToRawAt32:0.00}x; " +
                                         $"threads running the models {r.EncoderThreadCpuSeconds:0.0} s = {r.EncoderThreadCpuUsPerInput:0.0} us/input = {r.EncoderThreadCpuToRawAt32:0.00}x raw; mean call {r.MeanBatch:0.0} ({r.ModelCalls:N0} calls); " +
                                         $"queue wait p50 {r.QueueWaitP50Ms:0.00} / p99 {r.QueueWaitP99Ms:0.00} ms; result after window end p50 {r.ResultLatencyP50Ms:0.0} / p99 {r.ResultLatencyP99Ms:0.0} ms " +
                                         $"({r.Windows:N0} windows, {r.IncompleteWindows} incomplete); shed {r.Shed}, rejected {r.Rejected}; GC {r.Gc.Gen0}/{r.Gc.Gen1}/{r.Gc.Gen2}, pauses {r.Gc.PauseMs:0} ms");
        }
        if (Pipeline is { } p && Ceiling is { } c)
            System.Console.WriteLine($"(a) {p.Frames:N0} frames, {p.Sessions} sessions x 2 per-frame streams, {p.InFlightFramesPerSession} frames in flight/session, {p.Seconds:0.00} s; " +
                              $"mean noop batch {p.MeanBatchSize:0.0}; incomplete windows {p.IncompleteWindows}, rejected {p.Rejected}, shed {p.Shed}, late {p.Late}; " +
                              $"{p.AllocatedBytesPerFrame:N0} B allocated/frame, GC {p.Gc.Gen0}/{p.Gc.Gen1}/{p.Gc.Gen2} (gen0/1/2), pauses {p.Gc.PauseMs:0} ms, this process used {p.Gc.ProcessCpuOfMachine:P0} of the cores. " +
                              $"Runs: {string.Join(", ", PipelineRunsFramesPerSec.Select(v => v.ToString("N0")))}.\n" +
                              $"    Ceiling: {c.Chains} chains x {c.Hops} hops (8 ReceiveActors + driver), {c.Messages:N0} messages, {c.Seconds:0.00} s, " +
                              $"{c.AllocatedBytesPerMessage:N0} B allocated/message, this process used {c.Gc.ProcessCpuOfMachine:P0} of the cores. Runs: {string.Join(", ", CeilingRunsFramesPerSec.Select(v => v.ToString("N0")))}.");
        foreach (var e in Errors) System.Console.WriteLine($"FAILED {e}");
        if (Pipeline is not null)
            System.Console.WriteLine($"By CPU cost (this process's CPU time, robust to outside load): (a) {PipelineCpuUsPerFrame:0.00} us/frame vs ceiling {CeilingCpuUsPerMessage:0.00} us/message = {PipelineToCeilingByCpu:P1} (target >= 60 %: {Met(PipelineToCeilingByCpu >= PipelineByCpuTarget)})" +
                              (ImageEncoder is not null ? $"; (b) image {EncoderCpuUsPerInput:0.0} us/input vs raw {RawOnnxCpuUsPerInput:0.0} us/input = {EncoderToRawByCpu:P1}" : "") + ".");
        if (PipelineFrameBatch is { } fb && PipelineDirectToSession is { } ds)
            System.Console.WriteLine($"    Breakdown (info): one FrameBatch per window {fb.FramesPerSec:N0} frames/s ({fb.CpuUsPerFrame:0.00} us CPU, {fb.AllocatedBytesPerFrame:N0} B/frame); " +
                              $"per-frame straight to unsharded session actors (no region/shard hops) {ds.FramesPerSec:N0} frames/s ({ds.CpuUsPerFrame:0.00} us CPU, {ds.AllocatedBytesPerFrame:N0} B/frame)" +
                              (Rules is { } ru ? $"; the same rules without actors (one thread) {ru.CpuUsPerFrame:0.00} us CPU, {ru.AllocatedBytesPerFrame:N0} B/frame " +
                                                   $"(wall us/frame: {string.Join(", ", ru.WallUsPerFrameByStep.Select(kv => $"{kv.Key} {kv.Value:0.00}"))})." : "."));
        foreach (var e in new[] { ImageEncoder, AudioEncoder }.Concat(PretrainedEncoders))
            if (e is not null)
                System.Console.WriteLine($"(b) {e.Model}: {e.InputsEncoded:N0} inputs in {e.Seconds:0.00} s over {e.Sessions} sessions, mean batch {e.MeanBatchSize:0.0} (max {e.RawBatch}); " +
                                  $"raw Encode batch {e.RawBatch} on {e.RawThreads} threads {e.RawPerSec:N0}/s, raw at the mean batch {e.RawAtMeanBatchPerSec:N0}/s; shed {e.Shed}, rejected {e.Rejected}. " +
                                  $"via actors / raw {e.PipelinePerSec / e.RawPerSec:P1}. " +
                                  $"Runs via actors: {string.Join(", ", e.PipelineRunsPerSec.Select(v => v.ToString("N0")))}; raw: {string.Join(", ", e.RawRunsPerSec.Select(v => v.ToString("N0")))}.");
        foreach (var st in SessionStreams)
            System.Console.WriteLine($"(b) session {Session}: stream {st.Stream} ({st.Modality}, {st.Model}, inputs of {st.InputLength}): {st.InputsPerWindow:0.##} inputs per 1 s window x " +
                                     $"{st.CpuUsPerInput:0.0} us CPU via actors = {st.CpuMsPerWindow:0.000} ms CPU per window (raw Encode {st.RawCpuUsPerInput:0.0} us/input, {st.RawCpuMsPerWindow:0.000} ms per window).");
        foreach (var l in new[] { Latency, LatencyAt80 }.Concat(LatencyAtLowerLoads))
            if (l is not null)
            {
                if (l.Of is { } cap)
                    System.Console.WriteLine($"(c) capacity of the probe's pattern (one sender thread, frames one by one through the region, at most " +
                                      $"{LatencyProbe.CapacityInFlightWindows} windows per session unfused): {cap.FramesPerSec:N0} frames/s, {cap.Frames:N0} frames in {cap.Seconds:0.00} s, " +
                                      $"{cap.CpuUsPerFrame:0.00} us CPU/frame, {cap.AllocatedBytesPerFrame:N0} B/frame, GC {cap.Gc.Gen0}/{cap.Gc.Gen1}/{cap.Gc.Gen2}, pauses {cap.Gc.PauseMs:0} ms, " +
                                      $"this process used {cap.Gc.ProcessCpuOfMachine:P0} of the cores; median of {string.Join(", ", cap.RoundsFramesPerSec.Select(v => v.ToString("N0")))}.");
                System.Console.WriteLine($"    at {l.FractionOfCapacity:P0} of it, {l.Windows:N0} windows measured, {l.Sessions} sessions, offered {l.OfferedFramesPerSec:N0} frames/s, achieved {l.AchievedFramesPerSec:N0}; " +
                                  $"p50 {l.P50Ms:0.00}, p99 {l.P99Ms:0.00}, p99.9 {l.P999Ms:0.00}, max {l.MaxMs:0.00} ms, mean {l.MeanMs:0.00} ms, {l.OverTargetFraction:P2} over 5 ms " +
                                  $"({l.WindowsOverTargetSpanningGc:N0} of those {l.WindowsOverTarget:N0} spanned a GC; {l.WindowsSpanningGc:N0} of all windows did); " +
                                  $"GC {l.Gc.Gen0}/{l.Gc.Gen1}/{l.Gc.Gen2}, pauses {l.Gc.PauseMs:0} ms; thread pool up to {l.ThreadPoolThreads} threads, queue up to {l.MaxThreadPoolQueue}; " +
                                  $"this process used {l.Gc.ProcessCpuOfMachine:P0} of the cores.");
            }
        if (Latency is not null)
            System.Console.WriteLine($"    maxOutOfOrderness {MaxOutOfOrdernessUs} us, allowed lateness {AllowedLatenessUs} us (no lateness wait in the numbers).");
        if (Memory is { } m)
            System.Console.WriteLine($"(d) heap {m.HeapBefore / 1048576.0:0.0} -> {m.HeapAfter / 1048576.0:0.0} MiB, working set {m.WorkingSetBefore / 1048576.0:0.0} -> {m.WorkingSetAfter / 1048576.0:0.0} MiB; " +
                              $"opened in {m.OpenSeconds:0.0} s; {m.SampledOpen}/{m.Sampled} sampled sessions report open with 2 streams; " +
                              $"for scale: one empty ReceiveActor costs {m.BytesPerBareActor:N0} B (an empty UntypedActor {m.BytesPerBareUntypedActor:N0} B), a session has {m.ActorsPerSession} actors before its first frame.\n" +
                              $"    Rule objects of one such session (B): {string.Join(", ", m.RuleState.Select(kv => $"{kv.Key} {kv.Value:N0}"))}." +
                              (m.IdleSteadyBytesPerSession is { } st ? $"\n    Same sessions, idle 20 s after the last open (their windows keep closing on processing time; each fusion actor keeps its latest result): {st:N0} B/session." : ""));
    }
}

/// <param name="LoadAverageAtStart">1/5/15-minute load averages (/proc/loadavg) when the bench started: other work on a shared machine.</param>
public sealed record MachineInfo(int Cores, string Os, string Dotnet, string Architecture, string? LoadAverageAtStart, string? LoadAverageAtEnd = null)
{
    public static MachineInfo Current() => new(Environment.ProcessorCount, RuntimeInformation.OSDescription,
        Environment.Version.ToString(), RuntimeInformation.ProcessArchitecture.ToString(), LoadAverage());

    public static string? LoadAverage()
    {
        try { return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)); }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }
}
