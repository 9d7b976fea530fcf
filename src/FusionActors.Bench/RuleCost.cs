using System.Diagnostics;
using FusionActors.Core.Alignment;
using FusionActors.Core.Fusion;
using FusionActors.Core.Streams;
using FusionActors.Core.Time;
using FusionActors.Inference;
using FusionActors.Protocol;
using FusionActors.Runtime.Encoders;

namespace FusionActors.Bench;

/// <summary>
/// Breakdown for (a): the same per-frame work as the pipeline's session does, with the plain rule classes and no
/// actor: validation, seq dedupe, stream watermark, per-frame framing, the no-op encoder and log-softmax, the
/// aligner (evidence, stream progress, advance) and the fusion engine, for the two-stream sessions of (a), on one
/// thread. CPU µs per frame here versus (a)'s CPU µs per frame separates the rules' cost from the actors' and
/// messages' cost.
/// </summary>
public static class RuleCost
{
    /// <param name="WallUsPerFrameByStep">Wall µs per frame of each step (timestamps around the steps; they add ~0.1 µs in total).</param>
    public sealed record Result(double CpuUsPerFrame, long Frames, double Seconds, long Windows, double AllocatedBytesPerFrame,
        IReadOnlyDictionary<string, double> WallUsPerFrameByStep);

    public static Result Measure(BenchScale scale)
    {
        var frames = scale.PipelineFrames / 4;
        for (var i = 0; i < 3; i++) Run(scale.FramesPerWindow, frames); // warm-up: tiered JIT and dynamic PGO
        return Run(scale.FramesPerWindow, frames);
    }

    private static Result Run(int f, long frames)
    {
        var spec = BenchSessions.Noop("rules", f);
        var streams = spec.Streams;
        var seqs = streams.Select(s => new SeqTracker(s.MaxSeqAhead)).ToArray();
        var marks = streams.Select(s => new StreamWatermark(s.MaxOutOfOrdernessUs)).ToArray();
        var framers = streams.Select(s => new PerFrameFramer(s.StreamId, s.FrameDurationUs)).ToArray();
        var encoder = new NoOpEncoder(streams[0].FrameLength, spec.Labels.Count);
        var aligner = new Aligner(spec);
        var engine = new FusionEngine(spec);
        var snapshot = streams.ToDictionary(s => s.StreamId, _ => new StreamSnapshot(StreamState.Active, 1.0));
        var payload = BenchSessions.Payload(streams[0].FrameLength, 1);
        var inputs = new List<EncoderInput>();
        var values = new List<ReadOnlyMemory<float>>(); // one list for every batch, as the encoder actor keeps
        long windows = 0;
        long tStream = 0, tEncode = 0, tAlign = 0, tFuse = 0;

        var gc = GcStats.Start();
        var started = Stopwatch.GetTimestamp();
        for (long i = 0; i < frames; i++)
        {
            var t0 = Stopwatch.GetTimestamp();
            var s = (int)(i % streams.Count);
            var seq = i / streams.Count;
            var frame = new Frame(spec.SessionId, streams[s].StreamId, seq, seq, payload);
            if (FrameValidator.Validate(streams[s], frame, long.MaxValue / 2) is not null) throw new InvalidOperationException("invalid frame");
            if (seqs[s].Take(frame.Seq) != SeqCheck.New) throw new InvalidOperationException("seq");
            framers[s].Add(frame, marks[s].CurrentUs);
            marks[s].OnEvent(frame.EventTimeUs);
            inputs.Clear();
            while (framers[s].TryTake(marks[s].CurrentUs, out var ready)) inputs.Add(ready);
            var t1 = Stopwatch.GetTimestamp();
            tStream += t1 - t0;
            values.Clear();
            for (var k = 0; k < inputs.Count; k++) values.Add(inputs[k].Values);
            var outputs = encoder.Encode(values);
            for (var k = 0; k < inputs.Count; k++)
            {
                var input = inputs[k];
                var evidence = new Evidence(input.StreamId, streams[s].Modality, input.StartUs, input.EndUs, outputs[k].Embedding,
                    Probabilities.LogSoftmax(outputs[k].Logits, 1.0), input.Coverage, input.LastSeq, input.Revision);
                var t2 = Stopwatch.GetTimestamp();
                tEncode += t2 - t1;
                var output = aligner.OnEvidence(evidence);
                var t3 = Stopwatch.GetTimestamp();
                tAlign += t3 - t2;
                windows += Fuse(output);
                t1 = Stopwatch.GetTimestamp();
                tFuse += t1 - t3;
            }
            aligner.SetStreamWatermark(streams[s].StreamId, framers[s].CompleteThroughUs(marks[s].CurrentUs));
            var advanced = aligner.Advance(null);
            var t4 = Stopwatch.GetTimestamp();
            tAlign += t4 - t1;
            windows += Fuse(advanced);
            tFuse += Stopwatch.GetTimestamp() - t4;
        }
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var g = gc.Stop();
        double Us(long ticks) => ticks * 1e6 / Stopwatch.Frequency / frames;
        return new Result(g.CpuUsPer(frames), frames, seconds, windows, g.AllocatedPer(frames), new Dictionary<string, double>
        {
            ["validate+seq+watermark+framer"] = Us(tStream), ["noopEncode+logSoftmax+evidence"] = Us(tEncode),
            ["aligner"] = Us(tAlign), ["fusionEngine"] = Us(tFuse),
        });

        int Fuse(AlignmentOutput output)
        {
            foreach (var w in output.Windows) engine.Fuse(spec.SessionId, w, snapshot);
            return output.Windows.Count;
        }
    }
}
