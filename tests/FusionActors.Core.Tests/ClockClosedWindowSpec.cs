using FusionActors.Core.Alignment;
using FusionActors.Core.Alignment.Windows;
using FusionActors.Core.Streams;
using FusionActors.Core.Time;
using FusionActors.Protocol;
using FusionActors.Protocol.Specs;

using static FusionActors.Core.Tests.TestData;

namespace FusionActors.Core.Tests;

/// <summary>
/// Windows closed on processing time (every stream idle: a paused node, a cut link, a client that starts late) are
/// provisional: their evidence, replayed or late, revises them with a higher revision instead of being dropped, and
/// the commit point waits for them. A resumed incarnation numbers its revisions above what the client was given.
/// </summary>
public class ClockClosedWindowSpec
{
    private static Aligner IdleFor(long sessionNowUs, out List<AlignedWindow> closed, long allowedLatenessUs = 0)
    {
        var a = new Aligner(AudioVideo(allowedLatenessUs: allowedLatenessUs));
        a.SetStreamState("audio", StreamState.Idle);
        a.SetStreamState("video", StreamState.Idle);
        closed = [.. a.AdvanceFully(sessionNowUs).Windows];
        Assert.True(a.Watermark.FollowsProcessingTime);
        return a;
    }

    private static void Live(Aligner a)
    {
        a.SetStreamState("audio", StreamState.Active);
        a.SetStreamState("video", StreamState.Active);
    }

    [Fact]
    public void Evidence_replayed_into_a_window_closed_on_the_clock_revises_it_once_the_streams_pass_it()
    {
        var a = IdleFor(3 * Sec + 50 * Ms, out var closed);
        Assert.Equal(new[] { 0, Sec, 2 * Sec }, closed.Select(w => w.StartUs));
        Assert.All(closed, w => Assert.True(w.IsEmpty));
        Assert.Equal(0, a.CommittedThroughUs); // the client must keep those frames

        Live(a);
        Assert.Empty(a.OnEvidence(Ev("audio", Sec + 100 * Ms)).Late);
        Assert.Empty(a.OnEvidence(Ev("video", Sec + 200 * Ms)).Windows); // no revision per piece of evidence
        var out1 = a.AdvanceAll(2 * Sec - 1);
        var revised = Assert.Single(out1.Windows);
        Assert.Equal((Sec, 1), (revised.StartUs, revised.Revision));
        Assert.Single(revised.Evidence["audio"]);
        Assert.Single(revised.Evidence["video"]);
        Assert.Equal(2 * Sec, a.CommittedThroughUs); // [0, 1 s) had no evidence: final as it was
        Assert.Equal(0, a.LateCount);

        var out2 = a.AdvanceAll(4 * Sec - 1);
        Assert.Equal(new[] { 3 * Sec }, out2.Windows.Select(w => w.StartUs)); // [2 s, 3 s) final without a repeat
        Assert.Equal(4 * Sec, a.CommittedThroughUs);
    }

    [Fact]
    public void A_window_the_clock_closes_again_before_its_streams_pass_it_is_emitted_with_each_new_revision()
    {
        var a = IdleFor(2 * Sec + 50 * Ms, out _);
        Live(a);
        a.OnEvidence(Ev("audio", 100 * Ms));
        a.SetStreamState("audio", StreamState.Idle);
        a.SetStreamState("video", StreamState.Idle);
        var again = Assert.Single(a.Advance(2 * Sec + 300 * Ms).Windows);
        Assert.Equal((0L, 1), (again.StartUs, again.Revision));
        Assert.Empty(a.Advance(2 * Sec + 400 * Ms).Windows); // nothing new: nothing emitted
        Assert.Equal(0, a.CommittedThroughUs); // still provisional

        Live(a);
        a.OnEvidence(Ev("video", 200 * Ms));
        var final = Assert.Single(a.AdvanceAll(Sec - 1).Windows);
        Assert.Equal((0L, 2), (final.StartUs, final.Revision));
        Assert.Single(final.Evidence["audio"]);
        Assert.Single(final.Evidence["video"]);
    }

    [Fact]
    public void Once_final_a_clock_closed_window_takes_later_evidence_as_any_closed_window()
    {
        var a = IdleFor(Sec + 50 * Ms, out _);
        Live(a);
        a.AdvanceAll(Sec - 1); // the streams pass it: final
        var late = a.OnEvidence(Ev("audio", 10));
        Assert.Single(late.Late);
        Assert.Equal(1, a.LateCount);

        var b = IdleFor(Sec + 50 * Ms, out _, allowedLatenessUs: 5 * Sec);
        Live(b);
        b.AdvanceAll(Sec - 1);
        var revised = Assert.Single(b.OnEvidence(Ev("audio", 10)).Windows); // within the lateness: revised at once
        Assert.Equal(1, revised.Revision);
    }

    [Fact]
    public void Windows_closed_on_the_clock_are_kept_open_up_to_a_cap_and_the_oldest_are_given_up()
    {
        var a = IdleFor(5000 * Sec, out var closed);
        Assert.Equal(4999, closed.Count);
        var grid = Assert.IsType<GridWindowAssigner>(a.Windows);
        Assert.Equal(GridWindowAssigner.MaxProvisionalWindows, grid.ProvisionalCount);
        Assert.Equal(4999 - GridWindowAssigner.MaxProvisionalWindows, grid.ProvisionalGivenUp);
        Assert.Equal((4999 - GridWindowAssigner.MaxProvisionalWindows) * Sec, a.CommittedThroughUs);
        Live(a);
        Assert.Single(a.OnEvidence(Ev("audio", 10)).Late); // given up: late
        Assert.Empty(a.OnEvidence(Ev("audio", 4998 * Sec + 10)).Late); // still open
    }

    [Fact]
    public void A_finished_session_makes_every_clock_closed_window_final()
    {
        var a = IdleFor(3 * Sec + 50 * Ms, out _);
        a.SetStreamState("audio", StreamState.Finished);
        a.SetStreamState("video", StreamState.Finished);
        a.OnEvidence(Ev("audio", 2 * Sec + 10));
        var ws = a.AdvanceAll(EventTime.PlusInfinity).Windows;
        Assert.Equal((2 * Sec, 1), (Assert.Single(ws).StartUs, ws[0].Revision));
        Assert.Equal(EventTime.PlusInfinity, a.CommittedThroughUs);
    }

    [Fact]
    public void A_resumed_incarnation_numbers_its_results_above_the_revisions_the_client_was_given()
    {
        var a = new Aligner(AudioVideo());
        a.ResumeAt(2 * Sec);
        a.ResumeRevisions(new Dictionary<long, int> { [2 * Sec] = 0, [3 * Sec] = 4 });
        a.OnEvidence(Ev("audio", 2 * Sec + 10));
        a.OnEvidence(Ev("audio", 3 * Sec + 10));
        a.OnEvidence(Ev("audio", 4 * Sec + 10));
        var ws = a.AdvanceAll(5 * Sec - 1).Windows;
        Assert.Equal(new[] { (2 * Sec, 1), (3 * Sec, 5), (4 * Sec, 0) }, ws.Select(w => (w.StartUs, w.Revision)));
    }

    [Fact]
    public void A_later_incarnation_numbers_above_any_earlier_one_even_above_results_delivered_after_its_resume_point()
    {
        // The client resumed after one open (generation 1) and named window 3 s at revision 9000; meanwhile the earlier
        // incarnation, woken from a pause, delivered window 2 s as revision 0 after the client took its resume point.
        var a = new Aligner(AudioVideo());
        a.ResumeAt(2 * Sec);
        a.ResumeRevisions(new Dictionary<long, int> { [3 * Sec] = 9000 }, generation: 1);
        a.OnEvidence(Ev("audio", 2 * Sec + 10));
        var ws = a.AdvanceAll(4 * Sec - 1).Windows;
        Assert.Equal(new[] { (2 * Sec, Aligner.RevisionsPerGeneration), (3 * Sec, 9001) }, ws.Select(w => (w.StartUs, w.Revision)));
        Assert.Throws<ArgumentOutOfRangeException>(() => a.ResumeRevisions(null, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => a.ResumeRevisions(null, Aligner.MaxResumedGeneration + 1));
        a.ResumeRevisions(new Dictionary<long, int> { [0] = Aligner.MaxResumedRevision }, Aligner.MaxResumedGeneration);
        Assert.True((long)Aligner.MaxResumedGeneration * Aligner.RevisionsPerGeneration + Aligner.MaxResumedRevision + 1_000_000 < int.MaxValue);
    }

    [Fact]
    public void A_resume_naming_too_many_windows_or_a_revision_out_of_range_is_refused()
    {
        var a = new Aligner(AudioVideo());
        var many = Enumerable.Range(0, Aligner.MaxResumedRevisions + 1).ToDictionary(i => i * Sec, _ => 0);
        Assert.Throws<ArgumentException>(() => a.ResumeRevisions(many));
        Assert.Throws<ArgumentException>(() => a.ResumeRevisions(new Dictionary<long, int> { [0] = -1 }));
        Assert.Throws<ArgumentException>(() => a.ResumeRevisions(new Dictionary<long, int> { [0] = Aligner.MaxResumedRevision + 1 }));
        a.ResumeRevisions(new Dictionary<long, int> { [0] = Aligner.MaxResumedRevision });
    }

    /// <summary>
    /// Random runs of idle spells, evidence, stream progress and clock ticks: every (window, revision) is emitted once,
    /// a window's revisions only increase, and every piece of evidence not reported late is in the last emission of
    /// each window it belongs to.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    public void Every_window_and_revision_is_emitted_once_revisions_increase_and_no_evidence_is_lost(int seed)
    {
        var rng = new Random(seed);
        var lateness = rng.Next(2) == 0 ? 0 : 1500 * Ms;
        var window = rng.Next(2) == 0 ? WindowSpec.Tumbling(Sec) : WindowSpec.Sliding(Sec, 500 * Ms);
        var a = new Aligner(AudioVideo(window, lateness));
        var last = new Dictionary<long, (AlignedWindow Window, int Step)>();
        var emitted = new HashSet<(long, int)>();
        var kept = new List<(Evidence Evidence, int Step)>();
        var step = 0;
        var streams = new[] { "audio", "video" };
        var streamTime = new Dictionary<string, long> { ["audio"] = 0, ["video"] = 0 };
        long now = 0;

        void Take(AlignmentOutput o)
        {
            foreach (var w in o.Windows)
            {
                Assert.True(emitted.Add((w.StartUs, w.Revision)), $"window {w.StartUs} revision {w.Revision} emitted twice");
                if (last.TryGetValue(w.StartUs, out var before)) Assert.True(w.Revision > before.Window.Revision, "revisions must increase");
                last[w.StartUs] = (w, step);
            }
        }

        for (; step < 400; step++)
        {
            var s = streams[rng.Next(2)];
            switch (rng.Next(6))
            {
                case 0:
                    a.SetStreamState(s, rng.Next(3) == 0 ? StreamState.Active : StreamState.Idle);
                    break;
                case 1 or 2:
                {
                    // Evidence near the stream's progress, sometimes far behind it (a replay).
                    var t = Math.Max(0, streamTime[s] - (rng.Next(4) == 0 ? rng.Next(0, 4000) * Ms : rng.Next(0, 40) * Ms));
                    var e = Ev(s, t + rng.Next(0, 1000));
                    var o = a.OnEvidence(e);
                    if (o.Late.Count == 0) kept.Add((e, step));
                    Take(o);
                    break;
                }
                case 3:
                    streamTime[s] += rng.Next(0, 400) * Ms;
                    a.SetStreamWatermark(s, streamTime[s]);
                    Take(a.Advance(now));
                    break;
                default:
                    now += rng.Next(0, 600) * Ms;
                    Take(a.Advance(now));
                    break;
            }
        }
        foreach (var s in streams) a.SetStreamState(s, StreamState.Finished);
        step++;
        Take(a.AdvanceAll(EventTime.PlusInfinity));

        foreach (var (e, at) in kept)
        {
            var found = false;
            foreach (var (start, (w, emittedAt)) in last)
            {
                if (e.StartUs < start || e.StartUs >= w.EndUs || emittedAt < at) continue;
                // A window emitted after the evidence arrived holds it.
                Assert.Contains(w.Evidence[e.StreamId], x => x.StartUs == e.StartUs);
                found = true;
            }
            Assert.True(found, $"evidence of {e.StreamId} at {e.StartUs}, not reported late, is in no window emitted after it");
        }
    }
}
