using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using FusionActors.Core.Alignment;
using FusionActors.Core.Fusion;
using FusionActors.Core.Specs;
using FusionActors.Core.Streams;
using FusionActors.Core.Time;
using FusionActors.Protocol;
using FusionActors.Protocol.Specs;
using static FusionActors.Core.Tests.TestData;

namespace FusionActors.Core.Tests;

/// <summary>
/// The whole rule chain without actors: stream watermark → framer → (a deterministic stand-in encoder) →
/// complete-through → aligner → fusion. Frames jittered by less than the out-of-orderness bound must give
/// exactly the fused results of in-order arrival, with nothing late and no frame refused.
/// </summary>
public class PipelineSpec
{
    private const long Bound = 50 * Ms;
    private const double Rate = 1_000; // 20 ms frames of 20 samples
    private const int FrameSamples = 20;

    public sealed record Scenario(bool SlidingInputs, int AudioFrames, long[] VideoTimes, long[] Jitter, int[] Ties)
    {
        public override string ToString() =>
            $"sliding={SlidingInputs} audio={AudioFrames} video=[{string.Join(",", VideoTimes)}] jitter=[{string.Join(",", Jitter)}]";
    }

    private const long Lateness = 30 * Ms;

    private static Arbitrary<Scenario> Scenarios(long maxJitter) => Arb.From(
        from sliding in Gen.Elements(false, true)
        from audio in Gen.Choose(0, 60)
        from video in Gen.ListOf(Gen.Choose(0, 240).Select(i => i * 5 * Ms), 30).Select(v => v.Distinct().ToArray())
        from jitter in Gen.ArrayOf(Gen.Choose(0, (int)maxJitter).Select(j => (long)j), 100)
        from ties in Gen.ArrayOf(Gen.Choose(0, 1_000), 100)
        select new Scenario(sliding, audio, video, jitter, ties));

    private sealed record Arrival(string Stream, Frame Frame, long Key, int Tie);

    private static SessionSpec Spec(bool sliding, long latenessUs) => Session(
            Stream("mic", "audio", frameLength: FrameSamples, maxOutOfOrdernessUs: Bound) with
            {
                SampleRateHz = Rate,
                Framing = sliding ? Framing.Windowed(200 * Ms, 100 * Ms) : Framing.Windowed(200 * Ms, 200 * Ms),
            },
            Stream("cam", "video", frameLength: 2, maxOutOfOrdernessUs: Bound))
        with { Window = WindowSpec.Tumbling(200 * Ms), AllowedLatenessUs = latenessUs };

    private static IEnumerable<Arrival> Frames(Scenario s)
    {
        var i = 0;
        for (var k = 0; k < s.AudioFrames; k++, i++)
        {
            var payload = Enumerable.Range(0, FrameSamples).Select(j => (float)((k * 7 + j) % 11)).ToArray();
            yield return new Arrival("mic", new Frame("s1", "mic", k, k * 20 * Ms, payload), k * 20 * Ms + s.Jitter[i % s.Jitter.Length], s.Ties[i % s.Ties.Length]);
        }
        var sorted = s.VideoTimes.Order().ToArray();
        for (var k = 0; k < sorted.Length; k++, i++)
            yield return new Arrival("cam", new Frame("s1", "cam", k, sorted[k], [k % 5, 1]), sorted[k] + s.Jitter[i % s.Jitter.Length], s.Ties[i % s.Ties.Length]);
    }

    /// <summary>A deterministic encoder: three class scores from the input's values and coverage.</summary>
    private static Evidence Encode(EncoderInput input, string modality)
    {
        var mean = input.Values.Length == 0 ? 0 : input.Values.Average(v => (double)v);
        var logits = new[] { (float)(mean / 3), (float)input.Coverage, (float)(input.Values[0] / 4.0) };
        return new Evidence(input.StreamId, modality, input.StartUs, input.EndUs, [(float)mean],
            Probabilities.LogSoftmax(logits), input.Coverage, input.LastSeq, input.Revision);
    }

    private static (SortedDictionary<long, FusedResult> Results, long Late, int Refused) Run(bool sliding, IEnumerable<Arrival> order, long latenessUs = 0)
    {
        var spec = Spec(sliding, latenessUs);
        var aligner = new Aligner(spec);
        var engine = new FusionEngine(spec);
        var health = Healthy("mic", "cam");
        var results = new SortedDictionary<long, FusedResult>();
        var refused = 0;
        var streams = spec.Streams.ToDictionary(s => s.StreamId, s => (
            Spec: s,
            Watermark: new StreamWatermark(s.MaxOutOfOrdernessUs),
            Framer: s.Framing.Kind == FramingKind.Windowed
                ? (IFramer)new WindowedFramer(s.StreamId, s.Framing.LengthUs, s.Framing.HopUs, s.SampleRateHz, spec.StartUs, spec.AllowedLatenessUs)
                : new PerFrameFramer(s.StreamId, s.FrameDurationUs)));

        void Take(AlignmentOutput output)
        {
            foreach (var w in output.Windows) results[w.StartUs] = engine.Fuse("s1", w, health);
        }

        void Flush(string id)
        {
            var st = streams[id];
            foreach (var input in st.Framer.Drain(st.Watermark.CurrentUs))
                Take(aligner.OnEvidence(Encode(input, st.Spec.Modality)));
            aligner.SetStreamWatermark(id, st.Framer.CompleteThroughUs(st.Watermark.CurrentUs));
            Take(aligner.Advance(null));
        }

        foreach (var a in order)
        {
            var st = streams[a.Stream];
            if (st.Framer.Add(a.Frame, st.Watermark.CurrentUs) == FrameFate.TooLate) refused++;
            st.Watermark.OnEvent(a.Frame.EventTimeUs);
            Flush(a.Stream);
        }
        foreach (var id in streams.Keys)
        {
            streams[id].Watermark.Finish();
            aligner.SetStreamState(id, StreamState.Finished);
            Flush(id);
        }
        return (results, aligner.LateCount, refused);
    }

    [Property(MaxTest = 150)]
    public Property Frames_jittered_within_the_bound_give_the_fused_results_of_in_order_arrival() =>
        Prop.ForAll(Scenarios(Bound - 1), s => SameResults(s, 0));

    [Property(MaxTest = 150)]
    public Property Frames_jittered_within_bound_plus_lateness_end_in_the_fused_results_of_in_order_arrival() =>
        Prop.ForAll(Scenarios(Bound + Lateness - 1), s => SameResults(s, Lateness));

    private static bool SameResults(Scenario s, long latenessUs)
        {
            var frames = Frames(s).ToList();
            var expected = Run(s.SlidingInputs, frames.OrderBy(f => f.Frame.EventTimeUs).ThenBy(f => f.Stream), latenessUs);
            var actual = Run(s.SlidingInputs, frames.OrderBy(f => f.Key).ThenBy(f => f.Tie), latenessUs);
            Assert.Equal((0L, 0), (expected.Late, expected.Refused));
            Assert.Equal((0L, 0), (actual.Late, actual.Refused));
            Assert.Equal(expected.Results.Keys, actual.Results.Keys);
            foreach (var (start, e) in expected.Results)
            {
                var r = actual.Results[start];
                Assert.Equal(e.Status, r.Status);
                Assert.Equal(e.Missing, r.Missing);
                Assert.Equal(e.FusedEmbedding, r.FusedEmbedding);
                for (var k = 0; k < e.Posterior.Length; k++) Assert.Equal(e.Posterior[k], r.Posterior[k], 1e-9);
            }
            return true;
        }

    [Fact]
    public void In_order_audio_of_one_second_gives_one_fused_result_per_window_with_audio_present()
    {
        var s = new Scenario(false, 50, [], [0], [0]);
        var (results, late, refused) = Run(false, Frames(s));
        Assert.Equal((0L, 0), (late, refused));
        Assert.Equal(new[] { 0, 200 * Ms, 400 * Ms, 600 * Ms, 800 * Ms }, results.Keys);
        Assert.All(results.Values, r => Assert.Equal(["video"], r.Missing));
        Assert.All(results.Values, r => Assert.Equal(FusedStatus.Fused, r.Status));
    }
}
