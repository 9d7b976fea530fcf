using System.Diagnostics;
using FusionActors.Client;
using FusionActors.Scenarios;
using FusionActors.Core.Specs;
using FusionActors.Core.Streams;
using FusionActors.Protocol;
using FusionActors.Protocol.Specs;
using FusionActors.Protocol.Serialization;
using FusionActors.Inference.Data;

namespace FusionActors.Bench;

/// <summary>
/// A payload of an AV-Digits stream: 20 ms of 16 kHz audio, or an 8×8 camera frame. <see cref="Audio"/> and
/// <see cref="Camera"/> are taken from the committed sample (16-bit PCM and 8-bit pixels as floats, which travel packed);
/// <see cref="AudioFloat"/> is audio of full-precision floats (random), which travels as raw float32.
/// </summary>
public sealed record RemotePayload(string Name, string StreamId, float[] Data)
{
    private static readonly Lazy<AvDigitsItem> SampleItem = new(() => AvDigitsDataset.LoadSample().Items[0]);

    public static RemotePayload Audio { get; } = new("audio", AvDigitsSession.AudioStream,
        SampleItem.Value.Pcm.AsSpan(4_000, AvDigitsSession.AudioFrameSamples).ToArray()); // mid-word, not silence

    public static RemotePayload Camera { get; } = new("camera", AvDigitsSession.CameraStream, SampleItem.Value.Image);

    public static RemotePayload AudioFloat { get; } = new("audio-f32", AvDigitsSession.AudioStream,
        BenchSessions.Payload(AvDigitsSession.AudioFrameSamples, 3, -1f, 1f));

    public int Floats => Data.Length;

    public int Bytes => Floats * sizeof(float);

    /// <summary>Bytes of the payload in its wire form (<see cref="PayloadPacking"/>).</summary>
    public int WireBytes => PayloadPacking.BytesPerValue(PayloadPacking.Of(Data)) * Floats;
}

/// <summary>
/// The measurement of bench-remote: frames per second from a client in this process, through the client library
/// (replay log, batching, the session's SinkRef, FrameSerializer), over loopback remoting into a node in another
/// process, counted when the server has committed them. Each session is an AV-Digits session with one stream on
/// the no-op encoder (the real stream spec, its model swapped), so the encoder is not what is measured.
/// </summary>
public static class RemoteSinkRef
{
    /// <summary>Frames are 20 ms apart in event time, from 0 (the session clock's future-skew bound is widened to cover them).</summary>
    public const long FrameSpacingUs = 20_000;

    public sealed record Result(
        double FramesPerSec, long Frames, double Seconds, int Sessions, int BatchSize, int ReplayLogCapacity, int MaxUncommitted,
        int PayloadBytes, long FramesCommitted, long FramesAccepted, long Rejected, long Shed,
        double CpuUsPerFrame, double AllocatedBytesPerFrame, double ServerCpuUsPerFrame);

    public static SessionSpec Spec(string sessionId, RemotePayload payload, long frames)
    {
        var spec = AvDigitsSession.Spec(sessionId, audioModel: "noop", imageModel: "noop");
        var stream = spec.FindStream(payload.StreamId)!;
        // Frames run ahead of the session clock (pushed faster than real time): widen the bound rather than have them refused.
        return spec with { Streams = [stream with { MaxFutureSkewUs = frames * FrameSpacingUs + 60_000_000 }] };
    }

    /// <param name="serverCpu">CPU time of the node's process so far.</param>
    public static async Task<Result> MeasureAsync(FusionClient client, Func<TimeSpan> serverCpu, RemotePayload payload, string prefix, int sessionCount,
        long frames, CancellationToken cancel)
    {
        var perSession = Math.Max(1, frames / sessionCount);
        var sessions = await Task.WhenAll(Enumerable.Range(0, sessionCount)
            .Select(i => client.OpenSessionAsync(Spec($"{prefix}-{i}", payload, perSession), cancel)));
        try
        {
            var data = payload.Data;
            using var stopSampling = new CancellationTokenSource();
            var sampling = SampleMaxUncommitted(sessions, stopSampling.Token);
            var gc = GcStats.Start();
            var serverCpuBefore = serverCpu();
            var started = Stopwatch.GetTimestamp();
            await Task.WhenAll(sessions.Select(s => Task.Run(async () =>
            {
                var stream = s.Stream(payload.StreamId);
                // The payload array is never changed, so one serves every frame.
                for (long i = 0; i < perSession; i++) await stream.PushAsync(data, i * FrameSpacingUs, cancel);
                await s.CompleteAsync(TimeSpan.FromMinutes(5), cancel);
            }, cancel)));
            var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            var g = gc.Stop();
            var serverCpuSeconds = (serverCpu() - serverCpuBefore).TotalSeconds;
            await stopSampling.CancelAsync();
            var maxUncommitted = await sampling;

            var stats = sessions.Select(s => s.Stats).ToArray();
            var statuses = await Task.WhenAll(sessions.Select(s => s.StatusAsync(cancel)));
            var counters = statuses.SelectMany(s => s?.Streams ?? []).Select(s => s.Counters).ToArray();
            var total = perSession * sessionCount;
            return new Result(total / seconds, total, seconds, sessionCount, client.Options.MaxBatch, client.Options.MaxUncommittedFrames, maxUncommitted,
                payload.Bytes, stats.Sum(s => s.FramesCommitted), counters.Sum(c => c.FramesAccepted),
                counters.Sum(c => c.RejectedTotal), counters.Sum(c => c.InputsShed),
                g.CpuUsPer(total), g.AllocatedPer(total), serverCpuSeconds * 1e6 / total);
        }
        finally
        {
            foreach (var s in sessions)
            {
                try { await s.CloseAsync(cancel); }
                catch (FusionSessionException) { } // reported by the numbers already; the next run uses new sessions
                await s.DisposeAsync();
            }
        }
    }

    /// <summary>The most frames any session held uncommitted, sampled every 10 ms: whether the replay log's capacity was the limit.</summary>
    private static async Task<int> SampleMaxUncommitted(IReadOnlyList<FusionSession> sessions, CancellationToken stop)
    {
        var max = 0;
        while (!stop.IsCancellationRequested)
        {
            foreach (var s in sessions) max = Math.Max(max, s.Stats.Uncommitted);
            try { await Task.Delay(10, stop); }
            catch (OperationCanceledException) { break; }
        }
        return max;
    }
}
