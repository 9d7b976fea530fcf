using System.Diagnostics;
using FusionActors.Core.Specs;
using FusionActors.Inference;
using FusionActors.Protocol.Specs;
using FusionActors.Runtime.Encoders;
using FusionActors.Runtime.Hosting;

namespace FusionActors.Bench;

/// <summary>
/// (b) Encoder throughput with micro-batching: frames of one per-frame stream per session, pushed with up to
/// <c>inFlightWindows × MaxBatch</c> frames outstanding (below the 256 pending-input cap, so nothing is shed),
/// through the real actor path to a real ONNX model. Inputs encoded per second and the mean batch size come
/// from the streams' counters (GetSessionStatus). Next to it: the same shared <see cref="IEncoder"/> instance
/// (the node's ModelRegistry OnnxEncoder) called directly in a tight loop, batch = MaxBatch, on as many threads
/// as the encoder dispatcher has.
/// </summary>
public static class EncoderThroughput
{
    public const int InFlightWindows = 6;

    public sealed record Result(string Model, double PipelinePerSec, long InputsEncoded, double Seconds, double MeanBatchSize,
        double RawPerSec, int RawBatch, int RawThreads, double RawAtMeanBatchPerSec, int Sessions, long Shed, long Rejected, long Incomplete,
        IReadOnlyList<double> PipelineRunsPerSec, IReadOnlyList<double> RawRunsPerSec, double CpuUsPerInput, double RawCpuUsPerInput);

    public static async Task<Result> RunAsync(FusionNode node, IEncoderProvider encoders, string model, string modality, int frameLength,
        float lo, float hi, int sessions, long frames, TimeSpan rawDuration, int rawThreads, int repeats, CancellationToken cancel)
    {
        var batch = new StreamSpec { StreamId = "s", Modality = modality, Model = model, FrameLength = frameLength }.MaxBatch;
        var f = batch; // one window = one full batch of frames
        SessionSpec SpecOf(string id) => BenchSessions.Model(id, model, modality, frameLength, f);
        float[] PayloadOf(int i, StreamSpec s) => BenchSessions.Payload(s.FrameLength, 100 + i, lo, hi);

        await DrivenRun.RunAsync(node, $"warm-{model}", sessions, SpecOf, PayloadOf, f, 8, InFlightWindows, cancel);
        var windows = (int)Math.Max(1, frames / ((long)sessions * f));
        var encoder = encoders.Resolve(BenchSessions.PerFrame("s", modality, model, frameLength), BenchSessions.Labels).Encoder;
        var inputs = Enumerable.Range(0, batch).Select(i => (ReadOnlyMemory<float>)BenchSessions.Payload(frameLength, 100 + i, lo, hi)).ToArray();
        // Runs through the actors and raw runs alternate, so load from other processes on a shared machine hits both alike.
        var runs = new List<DrivenRun.Outcome>();
        var rawRuns = new List<(double PerSec, double CpuUsPerInput)>();
        for (var i = 0; i < repeats; i++)
        {
            runs.Add(await DrivenRun.RunAsync(node, $"enc-{model}-{i}", sessions, SpecOf, PayloadOf, f, windows, InFlightWindows, cancel));
            rawRuns.Add(Raw(encoder, inputs, rawThreads, rawDuration));
        }
        var o = Repeat.MedianOf(runs, r => r.InputsEncoded / r.Seconds);
        var (raw, rawCpu) = Repeat.MedianOf(rawRuns, r => r.PerSec);
        var meanBatch = o.Batches == 0 ? 0 : (double)o.InputsEncoded / o.Batches;
        var meanN = Math.Clamp((int)Math.Round(meanBatch), 1, batch);
        var rawAtMean = meanN == batch ? raw : Raw(encoder, inputs[..meanN], rawThreads, rawDuration).PerSec;
        return new Result(model, o.InputsEncoded / o.Seconds, o.InputsEncoded, o.Seconds, meanBatch, raw, batch, rawThreads, rawAtMean,
            sessions, o.Shed, o.Rejected, o.Incomplete, runs.Select(r => r.InputsEncoded / r.Seconds).ToArray(),
            rawRuns.Select(r => r.PerSec).ToArray(), o.Gc.CpuUsPer(o.InputsEncoded), rawCpu);
    }

    /// <summary>Inputs per second of <paramref name="threads"/> threads each calling Encode on the same batch back to back, and CPU µs per input.</summary>
    /// <remarks>
    /// A stateful model (<see cref="OnnxEncoder.IsStateful"/>) is called as its encoder actor calls it: each thread owns
    /// one <see cref="EncoderStream"/> and encodes the batch's inputs in order against its state.
    /// </remarks>
    public static (double PerSec, double CpuUsPerInput) Raw(IEncoder encoder, ReadOnlyMemory<float>[] batch, int threads, TimeSpan duration)
    {
        Func<IReadOnlyList<ReadOnlyMemory<float>>, IReadOnlyList<EncoderOutput>> EncodeFor()
        {
            if (encoder is OnnxEncoder { IsStateful: true } stateful)
            {
                var stream = stateful.OpenStream();
                return stream.Encode;
            }
            return encoder.Encode;
        }
        var warm = EncodeFor();
        for (var i = 0; i < 20; i++) warm(batch); // warm-up
        var counts = new long[threads];
        var go = new ManualResetEventSlim();
        var stopAt = 0L;
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            var encode = EncodeFor();
            go.Wait();
            long n = 0;
            while (Stopwatch.GetTimestamp() < Volatile.Read(ref stopAt))
            {
                encode(batch);
                n += batch.Length;
            }
            counts[t] = n;
        }) { IsBackground = true }).ToArray();
        foreach (var w in workers) w.Start();
        var gc = GcStats.Start();
        var started = Stopwatch.GetTimestamp();
        Volatile.Write(ref stopAt, started + (long)(duration.TotalSeconds * Stopwatch.Frequency));
        go.Set();
        foreach (var w in workers) w.Join();
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var g = gc.Stop();
        return (counts.Sum() / seconds, g.CpuUsPer(counts.Sum()));
    }
}
