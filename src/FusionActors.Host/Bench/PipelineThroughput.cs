using FusionActors.Hosting;

namespace FusionActors.Host.Bench;

/// <summary>
/// (a) Fused frames per second through the full actor path with the no-op encoder: frames to the session
/// region → shard → session → stream → encoder → stream → alignment → fusion → subscriber (9 hops), many
/// two-stream sessions in parallel, closed loop with a window of in-flight windows per session.
/// </summary>
public static class PipelineThroughput
{
    public const int Hops = 9;

    public sealed record Result(double FramesPerSec, long Frames, double Seconds, int Sessions, int InFlightFramesPerSession,
        long IncompleteWindows, long Rejected, long Shed, long Late, long InputsEncoded, double MeanBatchSize);

    public static async Task<Result> RunAsync(FusionNode node, BenchScale scale, CancellationToken cancel)
    {
        var f = scale.FramesPerWindow;
        // Warm-up (JIT, shard allocation); not counted.
        await Run(node, "warm-a", Math.Min(scale.Sessions, 8), f, 200, scale.InFlightWindows, cancel);
        var windows = (int)Math.Max(1, scale.PipelineFrames / (scale.Sessions * 2L * f));
        var o = await Run(node, "pipe", scale.Sessions, f, windows, scale.InFlightWindows, cancel);
        return new Result(o.FramesFused / o.Seconds, o.FramesFused, o.Seconds, scale.Sessions, scale.InFlightWindows * 2 * f,
            o.Incomplete, o.Rejected, o.Shed, o.Late, o.InputsEncoded, o.Batches == 0 ? 0 : (double)o.InputsEncoded / o.Batches);
    }

    private static Task<DrivenRun.Outcome> Run(FusionNode node, string prefix, int sessions, int f, int windows, int inFlight, CancellationToken cancel) =>
        DrivenRun.RunAsync(node, prefix, sessions, id => BenchSessions.Noop(id, f), (i, s) => BenchSessions.Payload(s.FrameLength, i),
            f, windows, inFlight, cancel);
}
