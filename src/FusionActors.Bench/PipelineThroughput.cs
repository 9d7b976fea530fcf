using Akka.Actor;
using FusionActors.Runtime.Hosting;

namespace FusionActors.Bench;

/// <summary>
/// (a) Fused frames per second through the full actor path with the no-op encoder: frames to the session
/// region → shard → session → stream → encoder → stream → alignment → fusion → subscriber (9 hops), many
/// two-stream sessions in parallel, closed loop with a window of in-flight windows per session.
/// </summary>
public static class PipelineThroughput
{
    /// <summary>Deliveries per frame through the region: region, shard, session, stream, encoder, stream, alignment, fusion, subscriber.</summary>
    public const int Hops = 9;

    /// <summary>Deliveries per frame through the session's frame endpoint: session, stream, encoder, stream, alignment, fusion, subscriber.</summary>
    public const int EndpointHops = 7;

    public sealed record Result(double FramesPerSec, long Frames, double Seconds, int Sessions, int InFlightFramesPerSession,
        long IncompleteWindows, long Rejected, long Shed, long Late, long InputsEncoded, double MeanBatchSize, GcStats Gc, double AllocatedBytesPerFrame,
        double CpuUsPerFrame);

    /// <summary>
    /// JIT (tiered, with dynamic PGO), shard allocation: rounds of a fifth of the measurement until two rounds in a row
    /// cost the same CPU per frame within 10 % (at most 8 rounds); not counted. Returns the rounds' CPU µs per frame.
    /// </summary>
    public static async Task<IReadOnlyList<double>> WarmUpAsync(FusionNode node, BenchScale scale, CancellationToken cancel)
    {
        var costs = new List<double>();
        var windows = (int)Math.Max(1, scale.PipelineFrames / 5 / (scale.Sessions * 2L * scale.FramesPerWindow));
        for (var round = 0; round < 8; round++)
        {
            var o = await Run(node, $"warm-a{round}", scale.Sessions, scale.FramesPerWindow, windows, scale.InFlightWindows, cancel);
            costs.Add(o.Gc.CpuUsPer(o.FramesFused));
            if (costs.Count >= 2 && Math.Abs(costs[^1] - costs[^2]) <= 0.1 * costs[^2]) break;
        }
        return costs;
    }

    /// <param name="variant">
    /// <see cref="Variant.PerFrame"/>: the measurement of (a). The others are for the breakdown only:
    /// <see cref="Variant.FrameBatch"/> sends each window as one FrameBatch message, <see cref="Variant.DirectToSession"/>
    /// sends per-frame messages straight to unsharded session actors (7 hops: no region, no shard).
    /// </param>
    public static async Task<Result> MeasureAsync(FusionNode node, BenchScale scale, int run, CancellationToken cancel,
        Variant variant = Variant.PerFrame, Func<string, Props>? directSession = null)
    {
        var f = scale.FramesPerWindow;
        var windows = (int)Math.Max(1, scale.PipelineFrames / (scale.Sessions * 2L * f));
        var o = await DrivenRun.RunAsync(node, $"pipe-{variant}-{run}", scale.Sessions, id => BenchSessions.Noop(id, f),
            (i, s) => BenchSessions.Payload(s.FrameLength, i), f, windows, scale.InFlightWindows, cancel,
            batched: variant == Variant.FrameBatch, direct: variant == Variant.DirectToSession ? directSession : null,
            viaSessionEndpoint: variant == Variant.SessionEndpoint);
        var g = o.Gc;
        return new Result(o.FramesFused / o.Seconds, o.FramesFused, o.Seconds, scale.Sessions, scale.InFlightWindows * 2 * f,
            o.Incomplete, o.Rejected, o.Shed, o.Late, o.InputsEncoded, o.Batches == 0 ? 0 : (double)o.InputsEncoded / o.Batches,
            g, g.AllocatedPer(o.FramesFused), g.CpuUsPer(o.FramesFused));
    }

    public enum Variant
    {
        PerFrame,
        FrameBatch,
        DirectToSession,
        SessionEndpoint,
    }

    private static Task<DrivenRun.Outcome> Run(FusionNode node, string prefix, int sessions, int f, int windows, int inFlight, CancellationToken cancel) =>
        DrivenRun.RunAsync(node, prefix, sessions, id => BenchSessions.Noop(id, f), (i, s) => BenchSessions.Payload(s.FrameLength, i),
            f, windows, inFlight, cancel);
}
