using System.Diagnostics;
using Akka.Actor;
using FusionActors.Core.Supervision;
using FusionActors.Inference.Data;
using FusionActors.Protocol;
using FusionActors.Protocol.Specs;
using FusionActors.Runtime.Alignment;
using FusionActors.Runtime.Encoders;
using FusionActors.Runtime.Streams;

namespace FusionActors.Bench;

/// <summary>
/// (g) What the repeat cache saves a frozen camera: one image-digits stream actor (its encoder child running the real
/// model on the encoder dispatcher, no batcher) fed the very same 8×8 frame over and over, with the cache off and on,
/// alternating, in one process: in bursts of 64 frames, and at real-time pace (one frame, then its evidence). Its evidence goes to an actor that only counts it, so the cost measured is the stream's
/// encoding path (intake, framing, queue, encoder or cache, evidence), not alignment and fusion. CPU is the process's
/// (<see cref="Process.TotalProcessorTime"/>) over the whole run divided by the inputs; frames go in chunks no larger than
/// the stream's pending cap, each chunk after the previous one's evidence is in, so nothing is shed.
/// </summary>
public static class RepeatCacheCost
{
    private const string SessionId = "bench-repeat";
    /// <summary>Frames sent before waiting for their evidence: a burst (64: inputs queue and go in batches) or real-time pace (1: one input in flight).</summary>
    public static readonly int[] Chunks = [64, 1];

    /// <param name="CpuUsPerInputOff">Median CPU µs per input with the cache off.</param>
    /// <param name="CpuUsPerInputOn">Median CPU µs per input with the cache on (1 entry, the default).</param>
    /// <param name="Ratio">Off over on: how many times more CPU a frozen camera's input costs without the cache.</param>
    /// <param name="HitsOn">Inputs the cache served in the median on-run (all but the first, when it works).</param>
    public sealed record Result(bool Frozen, int Chunk, int Inputs, int Runs, double CpuUsPerInputOff, double CpuUsPerInputOn, double Ratio, long HitsOn, long MissesOn, long BatchesOff,
        IReadOnlyList<double> RunsOff, IReadOnlyList<double> RunsOn);

    public static async Task<IReadOnlyList<Result>> MeasureAsync(ActorSystem system, IEncoderProvider encoders, int inputs, int runs, CancellationToken cancel)
    {
        var results = new List<Result>();
        foreach (var chunk in Chunks) results.Add(await MeasureAsync(system, encoders, true, chunk, chunk == 1 ? inputs / 4 : inputs, runs, cancel));
        // What the cache costs a camera that never repeats: every input a miss (hashed, copied into the entry).
        results.Add(await MeasureAsync(system, encoders, false, Chunks[0], inputs, runs, cancel));
        return results;
    }

    private static async Task<Result> MeasureAsync(ActorSystem system, IEncoderProvider encoders, bool frozen, int chunk, int inputs, int runs, CancellationToken cancel)
    {
        var sample = AvDigitsDataset.LoadSample().Items;
        // Frozen: one image; changing: the sample's images in turn (no two in a row alike).
        float[][] images = frozen ? [sample[0].Image] : [.. sample.Select(i => i.Image).Where((im, k) => k == 0 || !im.AsSpan().SequenceEqual(sample[k - 1].Image))];
        var spec = new StreamSpec
        {
            StreamId = "camera", Modality = "image", Model = "image-digits", FrameLength = 64, MaxFutureSkewUs = 3_600_000_000,
            IdleTimeout = TimeSpan.FromMinutes(10),
        };
        var session = new SessionSpec { SessionId = SessionId, Labels = [.. Enumerable.Range(0, 10).Select(i => i.ToString())], Window = WindowSpec.Tumbling(1_000_000), Streams = [spec] };
        var resolved = encoders.Resolve(spec, session.Labels);
        // Warm-up: the model, the JIT and the actors on both paths.
        await RunAsync(system, spec, session, resolved, RepeatCacheOptions.Off, images, chunk, Math.Min(inputs, 2_000), cancel);
        await RunAsync(system, spec, session, resolved, RepeatCacheOptions.Default, images, chunk, Math.Min(inputs, 2_000), cancel);
        var off = new List<(double CpuUs, StreamCounters Counters)>();
        var on = new List<(double CpuUs, StreamCounters Counters)>();
        for (var r = 0; r < runs; r++)
        {
            off.Add(await RunAsync(system, spec, session, resolved, RepeatCacheOptions.Off, images, chunk, inputs, cancel));
            on.Add(await RunAsync(system, spec, session, resolved, RepeatCacheOptions.Default, images, chunk, inputs, cancel));
        }
        var medianOff = Repeat.MedianOf(off, x => x.CpuUs);
        var medianOn = Repeat.MedianOf(on, x => x.CpuUs);
        var result = new Result(frozen, chunk, inputs, runs, medianOff.CpuUs, medianOn.CpuUs, medianOff.CpuUs / medianOn.CpuUs, medianOn.Counters.CacheHits,
            medianOn.Counters.CacheMisses, medianOff.Counters.Batches, [.. off.Select(x => x.CpuUs)], [.. on.Select(x => x.CpuUs)]);
        Console.WriteLine($"    {(frozen ? "frozen" : "changing")} camera, image-digits, {(chunk == 1 ? "one input in flight" : $"bursts of {chunk}")}, {inputs:N0} inputs per run, median of {runs}: cache off {result.CpuUsPerInputOff:0.0} us CPU/input " +
                          $"({result.BatchesOff:N0} batches), cache on {result.CpuUsPerInputOn:0.0} us CPU/input ({result.HitsOn:N0} hits, {result.MissesOn:N0} misses): " +
                          (frozen ? $"{result.Ratio:0.0}x less CPU per input" : $"on/off {1 / result.Ratio:0.000}"));
        Console.WriteLine($"    runs off {string.Join(", ", result.RunsOff.Select(v => v.ToString("0.0")))} us, on {string.Join(", ", result.RunsOn.Select(v => v.ToString("0.0")))} us");
        return result;
    }

    /// <summary>One stream actor fed <paramref name="inputs"/> copies of <paramref name="image"/>: the process's CPU µs per input and its counters.</summary>
    private static async Task<(double CpuUs, StreamCounters Counters)> RunAsync(ActorSystem system, StreamSpec spec, SessionSpec session, ResolvedEncoder resolved,
        RepeatCacheOptions cache, float[][] images, int chunk, int inputs, CancellationToken cancel)
    {
        var node = new NodeEncoding(null, new PendingEncoderInputs(1_000_000), cache);
        var counter = system.ActorOf(Props.Create(() => new EvidenceCounter()));
        var stream = system.ActorOf(StreamActor.Props(SessionId, spec, session, counter, resolved with { Node = node }, new BackoffPolicy(), clockOffsetUs: 0));
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        var cpu0 = process.TotalProcessorTime;
        for (var sent = 0; sent < inputs;)
        {
            cancel.ThrowIfCancellationRequested();
            var n = Math.Min(chunk, inputs - sent);
            // Each frame its own array, as frames from the wire are: the cache compares contents, not references.
            for (var i = 0; i < n; i++, sent++) stream.Tell(new Frame(SessionId, spec.StreamId, sent, sent * 100_000L, (float[])images[sent % images.Length].Clone()), ActorRefs.NoSender);
            await counter.Ask<int>(new EvidenceCounter.WaitFor(sent), TimeSpan.FromMinutes(2), cancel);
        }
        process.Refresh();
        var cpu = process.TotalProcessorTime - cpu0;
        var status = await stream.Ask<StreamStatus>(StreamActor.GetStatus.Instance, TimeSpan.FromSeconds(30), cancel);
        await stream.GracefulStop(TimeSpan.FromSeconds(30));
        await counter.GracefulStop(TimeSpan.FromSeconds(30));
        return (cpu.TotalMicroseconds / inputs, status.Counters);
    }

    /// <summary>Counts the evidence a stream sends; answers a <see cref="WaitFor"/> once that many are in.</summary>
    private sealed class EvidenceCounter : UntypedActor
    {
        private int _count;
        private (int Target, IActorRef ReplyTo)? _waiting;

        public sealed record WaitFor(int Count);

        protected override void OnReceive(object message)
        {
            switch (message)
            {
                case AlignmentActor.EvidenceBatch b: _count += b.Evidence.Count; break;
                case WaitFor w: _waiting = (w.Count, Sender); break;
                default: return; // the stream's health reports
            }
            if (_waiting is { } wait && _count >= wait.Target)
            {
                wait.ReplyTo.Tell(_count);
                _waiting = null;
            }
        }
    }
}
