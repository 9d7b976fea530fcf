using FusionActors.Core.Alignment;
using FusionActors.Core.Specs;
using FusionActors.Core.Streams;
using FusionActors.Core.Time;
using FusionActors.Protocol;
using FusionActors.Protocol.Specs;

using static FusionActors.Core.Tests.TestData;

namespace FusionActors.Core.Tests;

public class AnchorAlignerSpec
{
    private static Aligner Anchored(long tolUs = 10 * Ms, long latenessUs = 0) =>
        new(AudioVideo(WindowSpec.Anchored("video", tolUs), latenessUs));

    [Fact]
    public void Each_anchor_gets_a_window_with_the_nearest_evidence_of_the_other_streams_within_the_tolerance()
    {
        var a = Anchored();
        a.OnEvidence(Ev("video", 100 * Ms));
        a.OnEvidence(Ev("audio", 93 * Ms));
        a.OnEvidence(Ev("audio", 104 * Ms));
        a.OnEvidence(Ev("audio", 111 * Ms));
        Assert.Empty(a.AdvanceAll(110 * Ms - 1).Windows);
        var w = Assert.Single(a.AdvanceAll(110 * Ms).Windows);
        Assert.Equal((90 * Ms, 110 * Ms + 1), (w.StartUs, w.EndUs));
        Assert.Equal(100 * Ms, Assert.Single(w.Evidence["video"]).StartUs);
        Assert.Equal(104 * Ms, Assert.Single(w.Evidence["audio"]).StartUs);
    }

    [Fact]
    public void Evidence_outside_the_tolerance_is_not_matched()
    {
        var a = Anchored();
        a.OnEvidence(Ev("video", 100 * Ms));
        a.OnEvidence(Ev("audio", 89 * Ms));
        a.OnEvidence(Ev("audio", 111 * Ms));
        var w = Assert.Single(a.AdvanceAll(200 * Ms).Windows);
        Assert.Empty(w.Evidence["audio"]);
    }

    [Fact]
    public void Ties_go_to_the_earlier_evidence()
    {
        var a = Anchored();
        a.OnEvidence(Ev("video", 100 * Ms));
        a.OnEvidence(Ev("audio", 105 * Ms));
        a.OnEvidence(Ev("audio", 95 * Ms));
        var w = Assert.Single(a.AdvanceAll(200 * Ms).Windows);
        Assert.Equal(95 * Ms, Assert.Single(w.Evidence["audio"]).StartUs);
    }

    [Fact]
    public void Anchor_windows_close_in_anchor_order_and_none_without_anchors()
    {
        var a = Anchored();
        a.OnEvidence(Ev("audio", 50 * Ms));
        Assert.Empty(a.AdvanceAll(Sec).Windows);
        a.OnEvidence(Ev("video", 2 * Sec));
        a.OnEvidence(Ev("video", 1500 * Ms));
        Assert.Equal(new[] { 1490 * Ms, 1990 * Ms }, a.AdvanceAll(3 * Sec).Windows.Select(w => w.StartUs));
    }

    [Fact]
    public void Non_anchor_evidence_that_no_anchor_can_match_any_more_is_late()
    {
        var a = Anchored();
        a.AdvanceAll(Sec);
        var output = a.OnEvidence(Ev("audio", Sec - 10 * Ms));
        Assert.Single(output.Late);
        Assert.Equal(1, a.LateCount);
        Assert.Empty(a.OnEvidence(Ev("audio", Sec - 10 * Ms + 1)).Late);
    }

    [Fact]
    public void A_late_anchor_without_lateness_is_late()
    {
        var a = Anchored();
        a.AdvanceAll(Sec);
        Assert.Single(a.OnEvidence(Ev("video", 500 * Ms)).Late);
        Assert.Equal(1, a.LateCount);
    }

    [Fact]
    public void A_closer_late_match_within_the_allowed_lateness_revises_the_anchor_window()
    {
        var a = Anchored(latenessUs: 50 * Ms);
        a.OnEvidence(Ev("video", 100 * Ms));
        a.OnEvidence(Ev("audio", 108 * Ms));
        Assert.Equal(0, Assert.Single(a.AdvanceAll(110 * Ms).Windows).Revision);
        var r = Assert.Single(a.OnEvidence(Ev("audio", 101 * Ms)).Windows);
        Assert.Equal(1, r.Revision);
        Assert.Equal(101 * Ms, Assert.Single(r.Evidence["audio"]).StartUs);
        // A farther one changes nothing.
        Assert.Empty(a.OnEvidence(Ev("audio", 95 * Ms)).Windows);
    }

    [Fact]
    public void A_late_anchor_within_the_allowed_lateness_gets_its_window_at_once_with_the_evidence_that_came_on_time()
    {
        var a = Anchored(latenessUs: 50 * Ms);
        a.OnEvidence(Ev("audio", 102 * Ms));
        a.AdvanceAll(130 * Ms);
        var w = Assert.Single(a.OnEvidence(Ev("video", 100 * Ms)).Windows);
        Assert.Equal((0, 102 * Ms), (w.Revision, Assert.Single(w.Evidence["audio"]).StartUs));
    }

    [Fact]
    public void Evidence_that_a_late_anchor_within_the_allowed_lateness_could_still_match_is_not_late()
    {
        var a = Anchored(tolUs: 10, latenessUs: 50);
        a.AdvanceAll(200);
        // 180 + 10 <= 200, so no on-time anchor can match it, but a late anchor up to 190 still can (190 + 10 + 50 > 200).
        var output = a.OnEvidence(Ev("audio", 180));
        Assert.Empty(output.Late);
        Assert.Equal(0, a.LateCount);
        var w = Assert.Single(a.OnEvidence(Ev("video", 185)).Windows);
        Assert.Equal(180, Assert.Single(w.Evidence["audio"]).StartUs);
        // Once no anchor could be accepted any more (t + 2 tol + L <= w), it is late.
        a.AdvanceAll(250);
        Assert.Single(a.OnEvidence(Ev("audio", 179)).Late);
    }

    [Fact]
    public void A_late_anchor_is_accepted_while_the_watermark_is_below_its_end_minus_one_plus_the_lateness()
    {
        // Window of anchor a is [a - tol, a + tol + 1): open to revision while W < a + tol + L.
        var a = Anchored(tolUs: 10, latenessUs: 5);
        a.AdvanceAll(100 + 10 + 5 - 1);
        var output = a.OnEvidence(Ev("video", 100));
        Assert.Empty(output.Late);
        Assert.Single(output.Windows);
    }
}
