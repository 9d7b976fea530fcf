using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using FusionActors.Core.Alignment;
using FusionActors.Core.Specs;
using FusionActors.Core.Streams;
using FusionActors.Core.Time;
using FusionActors.Protocol;
using FusionActors.Protocol.Specs;
using static FusionActors.Core.Tests.TestData;

namespace FusionActors.Core.Tests;

public class SessionWatermarkPropertySpec
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
                        starts.AddRange(aligner.Advance(op.Value % 2 == 0 ? op.Value % 1_000_000 : null).Windows.Where(w => w.Revision == 0).Select(w => w.StartUs)); // revisions: windows closed on the clock, revised
                        break;
                }
                Assert.True(aligner.WatermarkUs >= lastWatermark);
                lastWatermark = aligner.WatermarkUs;
            }
            Assert.Equal(starts.Select((_, i) => i * 10_000L), starts);
            return true;
        });
}
