using FusionActors.Scenarios;
using FusionActors.Core.Alignment;
using FusionActors.Core.Fusion;
using FusionActors.Core.Specs;
using FusionActors.Core.Streams;
using FusionActors.Core.Supervision;
using FusionActors.Core.Time;
using FusionActors.Protocol;
using FusionActors.Protocol.Specs;

namespace FusionActors.Bench;

/// <summary>
/// Breakdown for (d): managed bytes of the plain rule objects an idle session of the demo spec holds (the same
/// constructors its actors call), each measured as the heap delta of many instances. What (d) measures beyond
/// their sum is actor, mailbox, timer and sharding overhead.
/// </summary>
public static class StateFootprint
{
    public static IReadOnlyDictionary<string, double> Measure(int count)
    {
        var spec = AvDigitsSession.Spec("footprint");
        var audio = spec.Streams[0];
        var camera = spec.Streams[1];
        var backoff = new BackoffPolicy();
        return new Dictionary<string, double>
        {
            ["aligner"] = Bytes(count, () => new Aligner(spec)),
            ["fusionEngine"] = Bytes(count, () => new FusionEngine(spec)),
            ["seqTracker(per stream)"] = Bytes(count, () => new SeqTracker(camera.MaxSeqAhead)),
            ["windowedFramer(audio)"] = Bytes(count, () => new WindowedFramer(audio.StreamId, audio.Framing.LengthUs, audio.Framing.HopUs,
                audio.SampleRateHz, spec.StartUs, spec.AllowedLatenessUs)),
            ["perFrameFramer(camera)"] = Bytes(count, () => new PerFrameFramer(camera.StreamId, camera.FrameDurationUs)),
            ["streamHealth+watermark+budget+quarantine(per stream)"] = Bytes(count, () => new object[]
            {
                new StreamHealth(), new StreamWatermark(camera.MaxOutOfOrdernessUs), new RestartBudget(backoff), new QuarantineTracker(),
                new LinkedList<EncoderInput>(), new SortedDictionary<long, int>(),
            }),
            // What a hibernated session keeps of each stream (StreamActor.Dormant), before its first frame.
            ["asleep: intake+seqs(camera)"] = Bytes(count, () => new StreamIntake(camera, new SeqTracker(camera.MaxSeqAhead), 0)),
            ["asleep: inputs(camera, per-frame)"] = Bytes(count, () => new StreamInputs(camera, spec)),
            ["asleep: inputs(audio, windowed)"] = Bytes(count, () => new StreamInputs(audio, spec)),
            ["asleep: supervision"] = Bytes(count, () => new EncoderSupervision(backoff)),
            ["asleep: meter"] = Bytes(count, () => new FusionActors.Runtime.Metrics.StreamMeter(camera.Modality)),
            ["asleep: aligner after 3 windows on the clock"] = Bytes(count, () => IdleAligner(spec).Aligner),
            ["asleep: the last result (NoEvidence)"] = Bytes(count, () => NoEvidenceResult(spec)),
        };
    }

    private static (Aligner Aligner, AlignmentOutput Output) IdleAligner(SessionSpec spec)
    {
        var aligner = new Aligner(spec);
        foreach (var s in spec.Streams) aligner.SetStreamState(s.StreamId, StreamState.Idle);
        return (aligner, aligner.Advance(3_500_000));
    }

    private static readonly FusionEngine Engine = new(AvDigitsSession.Spec("footprint"));

    private static FusedResult NoEvidenceResult(SessionSpec spec)
    {
        var window = IdleAligner(spec).Output.Windows[^1];
        var streams = spec.Streams.ToDictionary(s => s.StreamId, _ => new StreamSnapshot(StreamState.Idle, 1.0));
        return Engine.Fuse(spec.SessionId, window, streams);
    }

    private static double Bytes(int count, Func<object> make)
    {
        var keep = new object[count];
        var before = Settle();
        for (var i = 0; i < count; i++) keep[i] = make();
        var after = Settle();
        GC.KeepAlive(keep);
        return (after - before) / (double)count;
    }

    private static long Settle()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
