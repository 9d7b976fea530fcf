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

public class SeqTrackerPropertySpec
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
