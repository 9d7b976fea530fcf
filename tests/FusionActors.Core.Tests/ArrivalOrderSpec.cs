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
/// For any arrival order within the lateness bounds, the fused results equal those of in-order arrival.
/// Each stream's complete-through is simulated as the max event time seen on it minus the bound B,
/// reported after each evidence, as a per-frame stream does.
/// </summary>
public class ArrivalOrderSpec
{
    private const long Bound = 50 * Ms;

    /// <summary>One evidence and when it arrives: Delay is how far behind its own time it is delivered.</summary>
    public sealed record Item(int Stream, long StartUs, long DurationUs, double[] Probs, long DelayUs, int TieBreak);

    public sealed record Scenario(int Windows, IReadOnlyList<Item> Items)
    {
        public override string ToString() =>
            $"windows={Windows} " + string.Join(" ", Items.Select(i => $"[{Names[i.Stream]}@{i.StartUs}+{i.DurationUs} d{i.DelayUs}]"));
    }

    private static readonly string[] Names = ["audio", "video"];

    // Times on a 5 ms grid, sometimes one microsecond early, so window ends (k·100 ms − 1) are hit often.
    private static Gen<long> Time(int maxSteps) =>
        from steps in Gen.Choose(0, maxSteps)
        from early in Gen.Choose(0, 1)
        select Math.Max(0, steps * 5 * Ms - early);

    // The last microsecond of a 100 ms window, where a window closes exactly when the watermark reaches it.
    private static readonly Gen<long> EdgeOfWindow = Gen.Choose(1, 16).Select(k => k * 100 * Ms - 1);

    private static Gen<Item> ItemGen(long maxDelay) =>
        from stream in Gen.Choose(0, 1)
        from start in Gen.Frequency((1, EdgeOfWindow), (3, Time(160)))
        from dur in Gen.Choose(0, 30_000)
        from logits in Gen.ArrayOf(Gen.Choose(1, 100), 3)
        from delay in Gen.Frequency((1, Gen.Constant(maxDelay)), (3, Time(10)))
        from tie in Gen.Choose(0, 1_000_000)
        select new Item(stream, start, dur, logits.Select(l => l / (double)logits.Sum()).ToArray(), Math.Min(delay, maxDelay), tie);

    private static Arbitrary<Scenario> Scenarios(long maxDelay) => Arb.From(
        from windows in Gen.Choose(0, 2)
        from items in Gen.ListOf(ItemGen(maxDelay))
        select new Scenario(windows, items
            .GroupBy(i => (i.Stream, i.StartUs)).Select(g => g.First()) // one evidence per stream and start
            .ToList()));

    private const long Lateness = 30 * Ms;

    /// <summary>0 tumbling 100 ms, 1 sliding 100 ms every 50 ms, 2 anchored on video within 7 ms.</summary>
    private static SessionSpec Spec(int windows, long latenessUs) => AudioVideo(windows switch
    {
        0 => WindowSpec.Tumbling(100 * Ms),
        1 => WindowSpec.Sliding(100 * Ms, 50 * Ms),
        _ => WindowSpec.Anchored("video", 7 * Ms),
    }, latenessUs);

    private static Evidence ToEvidence(Item i) => Ev(Names[i.Stream], i.StartUs, i.StartUs + i.DurationUs, i.Probs);

    /// <summary>Delivers items in the given order; returns the last revision of each window's result and the late count.</summary>
    public static (SortedDictionary<long, FusedResult> Results, long Late) Run(int windows, IEnumerable<Item> order, long latenessUs = 0)
    {
        var spec = Spec(windows, latenessUs);
        var aligner = new Aligner(spec);
        var engine = new FusionEngine(spec);
        var health = Healthy("audio", "video");
        var results = new SortedDictionary<long, FusedResult>();
        var maxSeen = new[] { EventTime.MinusInfinity, EventTime.MinusInfinity };

        void Take(AlignmentOutput output)
        {
            foreach (var w in output.Windows)
            {
                var r = engine.Fuse("s1", w, health);
                if (results.TryGetValue(w.StartUs, out var prev))
                    Assert.True(r.Revision > prev.Revision, $"window {w.StartUs}: revision {r.Revision} after {prev.Revision}");
                results[w.StartUs] = r;
            }
        }

        foreach (var item in order)
        {
            Take(aligner.OnEvidence(ToEvidence(item)));
            maxSeen[item.Stream] = Math.Max(maxSeen[item.Stream], item.StartUs);
            aligner.SetStreamWatermark(Names[item.Stream], maxSeen[item.Stream] - Bound);
            Take(aligner.Advance(null));
        }
        foreach (var name in Names)
        {
            aligner.SetStreamState(name, StreamState.Finished);
            aligner.SetStreamWatermark(name, EventTime.PlusInfinity);
        }
        Take(aligner.Advance(null));
        return (results, aligner.LateCount);
    }

    private static IEnumerable<Item> InOrder(Scenario s) => s.Items.OrderBy(i => i.StartUs).ThenBy(i => i.Stream);

    private static IEnumerable<Item> Jittered(Scenario s) => s.Items.OrderBy(i => i.StartUs + i.DelayUs).ThenBy(i => i.TieBreak);

    private static bool SameResults(Scenario s) => SameResults(s, 0);

    private static bool SameResults(Scenario s, long latenessUs)
    {
        var (expected, lateA) = Run(s.Windows, InOrder(s), latenessUs);
        var (actual, lateB) = Run(s.Windows, Jittered(s), latenessUs);
        Assert.Equal(0, lateA);
        Assert.Equal(0, lateB);
        Assert.Equal(expected.Keys, actual.Keys);
        foreach (var (start, e) in expected)
        {
            var a = actual[start];
            Assert.Equal(e.Status, a.Status);
            Assert.Equal(e.Missing, a.Missing);
            Assert.Equal(e.Posterior.Length, a.Posterior.Length);
            for (var k = 0; k < e.Posterior.Length; k++) Assert.Equal(e.Posterior[k], a.Posterior[k], 1e-9);
        }
        return true;
    }

    [Property(MaxTest = 300)]
    public Property Any_arrival_order_with_disorder_below_the_bound_gives_the_results_of_in_order_arrival() =>
        Prop.ForAll(Scenarios(maxDelay: Bound - 1), SameResults);

    [Property(MaxTest = 200)]
    public Property With_allowed_lateness_disorder_up_to_bound_plus_lateness_ends_in_the_results_of_in_order_arrival() =>
        Prop.ForAll(Scenarios(maxDelay: Bound + Lateness - 1), s => SameResults(s, Lateness));

    [Fact]
    public void Delays_and_permutations_are_really_generated()
    {
        // Guards the property against a generator that only ever produces in-order arrival.
        var samples = Gen.Sample(Scenarios(Bound - 1).Generator, 50, 20);
        Assert.Contains(samples, s => !InOrder(s).SequenceEqual(Jittered(s)));
    }

    [Fact]
    public void Evidence_exactly_the_bound_behind_the_newest_lands_on_the_watermark_and_is_late_at_a_window_edge()
    {
        // The watermark is max − B and promises nothing ≤ W will come, so disorder of exactly B is already late
        // when it falls on a window's last microsecond: bounded disorder must be strictly below B.
        var s = new Scenario(0,
        [
            new Item(0, 100 * Ms - 1, 0, [0.5, 0.25, 0.25], Bound, 1),
            new Item(0, 100 * Ms - 1 + Bound, 0, [0.5, 0.25, 0.25], 0, 0),
            new Item(1, 100 * Ms - 1 + Bound, 0, [0.5, 0.25, 0.25], 0, 0),
        ]);
        Assert.Equal(0, Run(0, InOrder(s)).Late);
        Assert.Equal(1, Run(0, Jittered(s)).Late);
    }
}
