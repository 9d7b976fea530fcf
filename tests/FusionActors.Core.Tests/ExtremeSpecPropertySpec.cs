using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using FusionActors.Core.Alignment;
using FusionActors.Core.Alignment.Windows;
using FusionActors.Core.Specs;
using FusionActors.Core.Streams;
using FusionActors.Core.Time;
using FusionActors.Protocol;
using FusionActors.Protocol.Specs;
using static FusionActors.Core.Tests.TestData;

namespace FusionActors.Core.Tests;

/// <summary>
/// Specs at the edges of <see cref="SpecLimits.Default"/> (hops at the minimum, lateness, out-of-orderness and
/// buffer caps at their maxima, up to the most streams) with a session that starts at 0 and a client that stamps
/// Unix-epoch microseconds. One step of the aligner or of a windowed framer emits a bounded number of windows or
/// inputs, however far event time is from the session start. A grid aligner step allocates under a flat bound (1 MB and
/// <see cref="GridWindowAssigner.MaxEmittedBytesPerStep"/> of windows; a watermark that passes more goes on in further
/// steps); evidence, and an anchor step, less than 1 MB beyond what they emit: an empty window costs a record, not a map
/// per stream; a window with evidence, a list per stream; an input, its values.
/// </summary>
public class ExtremeSpecPropertySpec
{
    private const long StepBytes = 1 << 20;

    /// <summary>What an emitted empty window may cost: its record, its place in the output and among the windows kept for revision.</summary>
    private const long EmptyWindowBytes = 256;

    /// <summary>What a window with evidence may cost besides, per stream: an entry in its map and a list of that stream's evidence.</summary>
    private const long StreamEntryBytes = 128;

    /// <summary>What an emitted encoder input may cost besides its values.</summary>
    private const long InputBytes = 256;
    private static readonly SpecLimits Limits = SpecLimits.Default;
    private static readonly long Max = Limits.MaxDurationUs;

    /// <summary>2026-01-01T00:00:00Z in microseconds since the Unix epoch.</summary>
    private const long EpochUs = 1_767_225_600_000_000;

    // ---- the aligner ----

    /// <summary>Evidence of <see cref="Stream"/> at base + <see cref="EvidenceUs"/>; then every stream reports base + <see cref="WatermarkUs"/> and the aligner advances.</summary>
    public sealed record AlignStep(int Stream, long EvidenceUs, long WatermarkUs);

    public sealed record AlignCase(int Streams, WindowKind Kind, int WindowsPerInstant, long ToleranceUs, long OutOfOrdernessUs, long BaseUs,
        bool Finish, IReadOnlyList<AlignStep> Steps)
    {
        public override string ToString() =>
            $"streams={Streams} {Kind} perInstant={WindowsPerInstant} tol={ToleranceUs} ooo={OutOfOrdernessUs} base={BaseUs} finish={Finish} " +
            string.Join(" ", Steps.Select(s => $"[{s.Stream}@{s.EvidenceUs} wm{s.WatermarkUs}]"));
    }

    // Offsets from the base: near it, late by up to the allowed lateness, or far ahead (up to the longest duration).
    private static readonly Gen<long> Offset = Gen.Frequency(
        (6, Gen.Choose(0, 10_000_000).Select(v => (long)v)),
        (2, Gen.Choose(0, 3_600_000).Select(v => -(long)v * 1_000)),
        (2, Gen.Choose(0, 3_600_000).Select(v => (long)v * 1_000)),
        (1, Gen.Elements(-Max, Max, 0L, 1L, -1L)));

    private static readonly Gen<AlignCase> AlignCases =
        from streams in Gen.Frequency((3, Gen.Constant(Limits.MaxStreams)), (2, Gen.Choose(1, Limits.MaxStreams)))
        from kind in Gen.Elements(WindowKind.Tumbling, WindowKind.Sliding, WindowKind.Anchor)
        from perInstant in Gen.Frequency((3, Gen.Constant(Limits.MaxWindowsPerInstant)), (2, Gen.Choose(1, Limits.MaxWindowsPerInstant)))
        from tolerance in Gen.Frequency((2, Gen.Constant(Max)), (2, Gen.Constant(1L)), (2, Gen.Choose(1, 10_000_000).Select(v => (long)v)))
        from ooo in Gen.Elements(0L, 50_000L, Max)
        from baseOffset in Gen.Choose(0, int.MaxValue)
        from finish in Gen.Frequency((1, Gen.Constant(true)), (3, Gen.Constant(false)))
        from steps in Gen.Choose(1, 40).SelectMany(n => Gen.ListOf((
            from stream in Gen.Choose(0, streams - 1)
            from evidence in Offset
            from watermark in Offset
            select new AlignStep(stream, evidence, watermark)), n))
        select new AlignCase(streams, kind, perInstant, tolerance, ooo, EpochUs + baseOffset, finish, steps.ToArray());

    private static SessionSpec AlignSpec(AlignCase c)
    {
        var hop = Limits.MinWindowHopUs;
        var streams = Enumerable.Range(0, c.Streams).Select(i => Stream($"s{i}", maxOutOfOrdernessUs: c.OutOfOrdernessUs, priority: i % 3) with
        {
            MaxFutureSkewUs = Limits.MaxFutureSkewUs,
        }).ToArray();
        return Session(streams) with
        {
            Window = c.Kind switch
            {
                WindowKind.Tumbling => WindowSpec.Tumbling(hop),
                WindowKind.Sliding => WindowSpec.Sliding(hop * c.WindowsPerInstant, hop),
                _ => WindowSpec.Anchored("s0", c.ToleranceUs),
            },
            AllowedLatenessUs = Max,
            MaxBufferedEvidence = Limits.MaxBufferedEvidence,
            ImputeHorizonUs = Max,
            StartUs = 0,
        };
    }

    [Property(MaxTest = 60)]
    public Property One_aligner_step_allocates_under_a_megabyte_and_emits_a_bounded_number_of_windows() =>
        Prop.ForAll(Arb.From(AlignCases), c =>
        {
            var spec = AlignSpec(c);
            Assert.Empty(SpecValidator.Problems(spec, Limits));
            var aligner = new Aligner(spec);
            var ids = spec.Streams.Select(s => s.StreamId).ToArray();
            var perInstant = spec.Window.Kind == WindowKind.Sliding ? c.WindowsPerInstant : 1;
            var evidence = 0;
            foreach (var step in c.Steps)
            {
                var e = Ev(ids[step.Stream], EventTime.SaturatingAdd(c.BaseUs, step.EvidenceUs), probs: [0.2, 0.3, 0.5]);
                var added = Measure(() => aligner.OnEvidence(e), out var bytes);
                evidence++;
                Assert.True(bytes < Budget(added, c.Streams), $"OnEvidence allocated {bytes} bytes, emitting {Shown(added)}");
                Assert.True(added.Late.Count <= 1);
                // New evidence revises at most the retained windows that contain it (anchors: within one tolerance of it).
                Assert.True(added.Windows.Count <= (spec.Window.Kind == WindowKind.Anchor ? evidence : perInstant),
                    $"OnEvidence emitted {added.Windows.Count} windows");

                var w = EventTime.SaturatingAdd(c.BaseUs, step.WatermarkUs);
                foreach (var id in ids) aligner.SetStreamWatermark(id, w);
                AdvanceInSteps(aligner, c, w, w, evidence * perInstant);
            }
            if (c.Finish)
            {
                foreach (var id in ids) aligner.SetStreamWatermark(id, EventTime.PlusInfinity);
                AdvanceInSteps(aligner, c, null, EventTime.PlusInfinity, evidence * perInstant);
                Assert.Equal(EventTime.PlusInfinity, aligner.CommittedThroughUs);
            }
            return true;
        });

    /// <summary>
    /// Advances as the alignment actor does: again while a step stopped at its budget. Each grid step allocates under a flat
    /// bound whatever it emits; anchor windows, at most one per anchor evidence, may cost what they hold besides.
    /// </summary>
    private static void AdvanceInSteps(Aligner aligner, AlignCase c, long? now, long to, long withEvidence)
    {
        var steps = 0;
        do
        {
            var advanced = Measure(() => aligner.Advance(now), out var bytes);
            var budget = c.Kind == WindowKind.Anchor ? Budget(advanced, c.Streams) : FlatBudget(c.Streams);
            Assert.True(bytes < budget, $"Advance to {to} (step {steps}) allocated {bytes} bytes, emitting {Shown(advanced)}");
            AssertBounded(advanced, withEvidence);
            // The steps to go on with are bounded too: the windows one watermark can close, at the budget each.
            Assert.True(++steps <= 1 + (Aligner.MaxWindowsPerStep + withEvidence + GridWindowAssigner.MaxProvisionalWindows) / 100,
                $"{steps} steps to advance to {to}");
        }
        while (aligner.MorePending);
    }

    /// <summary>1 MB, the windows one grid step may emit at most, and the one window that may take it over.</summary>
    private static long FlatBudget(int streams) =>
        StepBytes + GridWindowAssigner.MaxEmittedBytesPerStep + GridWindowAssigner.EmptyWindowCost + streams * GridWindowAssigner.StreamEntryCost;

    /// <summary>1 MB, and what the windows a step emits may hold.</summary>
    private static long Budget(AlignmentOutput output, int streams)
    {
        var empty = output.Windows.Count(w => w.IsEmpty);
        return StepBytes + empty * EmptyWindowBytes + (output.Windows.Count - empty) * (EmptyWindowBytes + streams * StreamEntryBytes);
    }

    /// <summary>
    /// Empty windows one step reports are capped (a longer run is skipped); windows with evidence are at most those
    /// that contain some (<paramref name="withEvidence"/>: evidence so far times windows per instant); no late evidence from a step.
    /// </summary>
    private static void AssertBounded(AlignmentOutput output, long withEvidence)
    {
        var empty = output.Windows.Count(w => w.IsEmpty);
        Assert.True(empty <= Aligner.MaxWindowsPerStep, $"one step reported {empty} empty windows");
        Assert.True(output.Windows.Count - empty <= withEvidence, $"one step emitted {output.Windows.Count - empty} windows with evidence");
        Assert.Empty(output.Late);
    }

    private static string Shown(AlignmentOutput output) =>
        $"{output.Windows.Count} windows ({output.Windows.Count(w => w.IsEmpty)} empty), {output.Late.Count} late";

    // ---- the windowed framer ----

    /// <summary>A frame at base + <see cref="EventUs"/>, the stream watermark at base + <see cref="WatermarkUs"/> (or higher, if it was) before it.</summary>
    public sealed record FrameStep(long EventUs, long WatermarkUs);

    public sealed record FrameCase(double RateHz, int InputsPerInstant, int FrameLength, long BaseUs, IReadOnlyList<FrameStep> Steps)
    {
        public override string ToString() =>
            $"rate={RateHz} perInstant={InputsPerInstant} frame={FrameLength} base={BaseUs} " +
            string.Join(" ", Steps.Select(s => $"[{s.EventUs} wm{s.WatermarkUs}]"));
    }

    private static readonly Gen<FrameCase> FrameCases =
        from rate in Gen.Elements(Limits.MaxSampleRateHz, 48_000d, 16_000d, 1_000d, 30d, 1d)
        from perInstant in Gen.Frequency((3, Gen.Constant(Limits.MaxInputsPerFrame)), (2, Gen.Choose(1, Limits.MaxInputsPerFrame)))
        from frameLength in Gen.Choose(1, 256)
        from baseOffset in Gen.Choose(0, int.MaxValue)
        from steps in Gen.Choose(1, 40).SelectMany(n => Gen.ListOf((
            from ev in Offset
            from wm in Offset
            select new FrameStep(ev, wm)), n))
        select new FrameCase(rate, perInstant, frameLength, EpochUs + baseOffset, steps.ToArray());

    [Property(MaxTest = 60)]
    public Property One_windowed_framer_step_allocates_under_a_megabyte_and_emits_a_bounded_number_of_inputs() =>
        Prop.ForAll(Arb.From(FrameCases), c =>
        {
            // The shortest hop the limits allow: one sample.
            var hop = (long)Math.Ceiling(1e6 / c.RateHz);
            var stream = Stream("audio", frameLength: c.FrameLength) with
            {
                SampleRateHz = c.RateHz,
                Framing = Framing.Windowed(hop * c.InputsPerInstant, hop),
                MaxOutOfOrdernessUs = Max,
                MaxFutureSkewUs = Limits.MaxFutureSkewUs,
            };
            var spec = Session(stream) with { Window = WindowSpec.Tumbling(Limits.MinWindowHopUs), AllowedLatenessUs = Max, StartUs = 0 };
            // An hour of lateness and out-of-orderness is refused by default for what the framer would hold in all
            // (RetainedInputSpec); a step's cost is bounded even for a node that lifts that bound.
            Assert.Empty(SpecValidator.Problems(spec, Limits with { MaxRetainedInputBytes = long.MaxValue }));
            if (WindowedFramer.RetainedBytes(stream, spec) > Limits.MaxRetainedInputBytes)
                Assert.Contains(SpecValidator.Problems(spec, Limits), p => p.Contains("would hold"));
            var framer = new WindowedFramer(stream.StreamId, stream.Framing.LengthUs, stream.Framing.HopUs, stream.SampleRateHz,
                spec.StartUs, spec.AllowedLatenessUs);
            // Inputs one frame may touch: those starting in its span, and those already open at its start.
            var perFrame = (long)Math.Ceiling(stream.FrameSpanUs / (double)hop) + c.InputsPerInstant + 1;
            var frames = 0L;
            var seq = 0L;
            var watermark = EventTime.MinusInfinity;
            foreach (var step in c.Steps)
            {
                // A stream watermark never falls.
                watermark = Math.Max(watermark, EventTime.SaturatingAdd(c.BaseUs, step.WatermarkUs));
                var frame = Frame("audio", seq++, EventTime.SaturatingAdd(c.BaseUs, step.EventUs), c.FrameLength);
                Measure(() => framer.Add(frame, watermark), out var bytes);
                frames++;
                Assert.True(bytes < StepBytes, $"Add allocated {bytes} bytes");
                Assert.True(framer.HeldInputs <= frames * perFrame, $"{framer.HeldInputs} inputs held after {frames} frames");

                // Draining what the watermark completed, as the stream actor does after each frame.
                var drained = Measure(() =>
                {
                    var inputs = new List<EncoderInput>();
                    while (framer.TryTake(watermark, out var input)) inputs.Add(input);
                    return inputs;
                }, out bytes);
                var emitted = drained.Sum(i => (long)i.Values.Length * sizeof(float) + InputBytes);
                Assert.True(bytes < StepBytes + emitted, $"taking {drained.Count} inputs allocated {bytes} bytes");
                Assert.All(drained, i => Assert.Equal(stream.InputLength, i.Values.Length));
                Assert.True(drained.Count <= frames * perFrame, $"{drained.Count} inputs taken after {frames} frames");
                Measure(() => framer.CompleteThroughUs(watermark), out bytes);
                Assert.True(bytes < StepBytes);
            }
            return true;
        });

    private static T Measure<T>(Func<T> step, out long bytes)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        var result = step();
        bytes = GC.GetAllocatedBytesForCurrentThread() - before;
        return result;
    }
}
