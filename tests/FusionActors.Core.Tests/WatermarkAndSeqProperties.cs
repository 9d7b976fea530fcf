using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using FusionActors.Alignment;
using FusionActors.Protocol;
using FusionActors.Specs;
using FusionActors.Streams;
using FusionActors.Time;
using static FusionActors.Core.Tests.TestData;

namespace FusionActors.Core.Tests;

public class SeqTrackerProperties
{
    [Property(MaxTest = 200)]
    public Property Every_seq_of_any_permutation_is_new_exactly_once_and_repeats_are_duplicates() =>
        Prop.ForAll(
            Arb.From(from n in Gen.Choose(1, 300)
                     from order in Gen.Shuffle(Enumerable.Range(0, n))
                     from repeats in Gen.ArrayOf(Gen.Choose(0, 1_000_000), n)
                     select (N: n, Order: order, Repeats: repeats)),
            c =>
            {
                var t = new SeqTracker(window: 512);
                var taken = new List<int>();
                for (var i = 0; i < c.N; i++)
                {
                    Assert.Equal(SeqCheck.New, t.Take(c.Order[i]));
                    taken.Add(c.Order[i]);
                    // A repeat of anything already taken, however old, is a duplicate.
                    Assert.Equal(SeqCheck.Duplicate, t.Take(taken[c.Repeats[i] % taken.Count]));
                }
                Assert.Equal(c.N, t.LowestMissing);
                Assert.Equal(c.N - 1, t.Highest);
                Assert.All(Enumerable.Range(0, c.N), s => Assert.Equal(SeqCheck.Duplicate, t.Peek(s)));
                return true;
            });

    [Property(MaxTest = 100)]
    public Property A_long_stream_reordered_within_the_window_is_taken_whole() =>
        Prop.ForAll(
            Arb.From(Gen.ArrayOf(Gen.Choose(0, 63), 2_000)),
            jitter =>
            {
                // Seq i arrives at position i + jitter: reordering stays well within a 256 window.
                var order = Enumerable.Range(0, jitter.Length).OrderBy(i => i + jitter[i]).ThenBy(i => i).ToList();
                var t = new SeqTracker(window: 256);
                Assert.All(order, s => Assert.Equal(SeqCheck.New, t.Take(s)));
                Assert.Equal(jitter.Length, t.LowestMissing);
                return true;
            });
}

public class SessionWatermarkProperties
{
    public sealed record Op(int Kind, int Stream, long Value, StreamState State);

    private static readonly Gen<Op> OpGen =
        from kind in Gen.Choose(0, 2)
        from stream in Gen.Choose(0, 2)
        from value in Gen.Frequency(
            (8, Gen.Choose(-1_000, 100_000).Select(v => (long)v)),
            (1, Gen.Constant(EventTime.PlusInfinity)),
            (1, Gen.Constant(EventTime.MinusInfinity)))
        from state in Gen.Elements(Enum.GetValues<StreamState>())
        select new Op(kind, stream, value, state);

    private static readonly string[] Ids = ["a", "b", "c"];

    [Property(MaxTest = 300)]
    public Property The_session_watermark_never_decreases_under_any_sequence_of_operations() =>
        Prop.ForAll(Arb.From(Gen.ListOf(OpGen)), ops =>
        {
            var w = new SessionWatermark(Ids, 50);
            var last = w.CurrentUs;
            foreach (var op in ops)
            {
                switch (op.Kind)
                {
                    case 0: w.SetWatermark(Ids[op.Stream], op.Value); break;
                    case 1: w.SetState(Ids[op.Stream], op.State); break;
                    default: w.Recompute(op.Value == EventTime.MinusInfinity ? null : Math.Min(op.Value, 1_000_000)); break;
                }
                Assert.True(w.CurrentUs >= last, $"watermark fell from {last} to {w.CurrentUs}");
                last = w.CurrentUs;
            }
            return true;
        });

    [Property(MaxTest = 200)]
    public Property The_aligner_closes_each_window_once_in_order_under_any_sequence_of_operations() =>
        Prop.ForAll(Arb.From(Gen.ListOf(OpGen)), ops =>
        {
            var spec = Session(Stream("a"), Stream("b"), Stream("c")) with { Window = WindowSpec.Tumbling(10_000) };
            var aligner = new Aligner(spec);
            var starts = new List<long>();
            var lastWatermark = aligner.WatermarkUs;
            foreach (var op in ops)
            {
                switch (op.Kind)
                {
                    case 0: aligner.SetStreamWatermark(Ids[op.Stream], op.Value); break;
                    case 1: aligner.SetStreamState(Ids[op.Stream], op.State); break;
                    default:
                        aligner.OnEvidence(Ev(Ids[op.Stream], Math.Abs(op.Value % 100_000)));
                        starts.AddRange(aligner.Advance(op.Value % 2 == 0 ? op.Value % 1_000_000 : null).Windows.Select(w => w.StartUs));
                        break;
                }
                Assert.True(aligner.WatermarkUs >= lastWatermark);
                lastWatermark = aligner.WatermarkUs;
            }
            Assert.Equal(starts.Select((_, i) => i * 10_000L), starts);
            return true;
        });
}
