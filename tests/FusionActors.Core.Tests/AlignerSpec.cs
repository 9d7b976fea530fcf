using FusionActors.Core.Alignment;
using FusionActors.Core.Specs;
using FusionActors.Core.Streams;
using FusionActors.Core.Time;
using FusionActors.Protocol;
using FusionActors.Protocol.Specs;

using static FusionActors.Core.Tests.TestData;

namespace FusionActors.Core.Tests;

public class AlignerSpec
{
    [Fact]
    public void Tumbling_windows_close_in_order_when_the_watermark_reaches_their_end_minus_one()
    {
        var a = new Aligner(AudioVideo());
        Assert.Empty(a.OnEvidence(Ev("audio", 100)).Windows);
        a.OnEvidence(Ev("video", 200));
        a.OnEvidence(Ev("audio", 2 * Sec + 5));
        Assert.Empty(a.AdvanceAll(Sec - 2).Windows);
        var first = Assert.Single(a.AdvanceAll(Sec - 1).Windows);
        Assert.Equal((0L, Sec, 0), (first.StartUs, first.EndUs, first.Revision));
        Assert.Equal(100, Assert.Single(first.Evidence["audio"]).StartUs);
        Assert.Equal(200, Assert.Single(first.Evidence["video"]).StartUs);

        var next = a.AdvanceAll(3 * Sec - 1).Windows;
        Assert.Equal(new[] { Sec, 2 * Sec }, next.Select(w => w.StartUs));
        Assert.True(next[0].IsEmpty);
        Assert.Single(next[1].Evidence["audio"]);
        Assert.Empty(next[1].Evidence["video"]);
        Assert.Equal(3, a.ClosedCount);
    }

    [Fact]
    public void Evidence_is_assigned_to_windows_by_its_start()
    {
        var a = new Aligner(AudioVideo());
        a.OnEvidence(Ev("audio", Sec - 10, endUs: Sec + 500 * Ms));
        a.OnEvidence(Ev("audio", Sec, endUs: Sec + 10));
        var ws = a.AdvanceAll(2 * Sec - 1).Windows;
        Assert.Equal(Sec - 10, Assert.Single(ws[0].Evidence["audio"]).StartUs);
        Assert.Equal(Sec, Assert.Single(ws[1].Evidence["audio"]).StartUs);
    }

    [Fact]
    public void The_session_watermark_is_held_back_by_the_slowest_stream()
    {
        var a = new Aligner(AudioVideo());
        a.SetStreamWatermark("audio", 5 * Sec);
        Assert.Empty(a.Advance(null).Windows);
        a.SetStreamWatermark("video", Sec - 1);
        Assert.Single(a.Advance(null).Windows);
        Assert.Equal(Sec - 1, a.WatermarkUs);
    }

    [Fact]
    public void A_stream_going_idle_lets_windows_close()
    {
        var a = new Aligner(AudioVideo());
        a.OnEvidence(Ev("audio", 10));
        a.SetStreamWatermark("audio", 2 * Sec - 1);
        Assert.Empty(a.Advance(null).Windows);
        a.SetStreamState("video", StreamState.Idle);
        var ws = a.Advance(null).Windows;
        Assert.Equal(2, ws.Count);
        Assert.Single(ws[0].Evidence["audio"]);
    }

    [Fact]
    public void When_every_stream_is_idle_empty_windows_still_close_by_the_session_clock()
    {
        var a = new Aligner(AudioVideo());
        a.SetStreamState("audio", StreamState.Idle);
        a.SetStreamState("video", StreamState.Idle);
        var ws = a.Advance(sessionNowUs: 3 * Sec + 50 * Ms).Windows;
        Assert.Equal(3, ws.Count);
        Assert.All(ws, w => Assert.True(w.IsEmpty));
        Assert.True(a.Watermark.FollowsProcessingTime);
    }

    [Fact]
    public void Sliding_windows_give_evidence_to_each_window_containing_it()
    {
        var a = new Aligner(AudioVideo(WindowSpec.Sliding(Sec, 500 * Ms)));
        a.OnEvidence(Ev("audio", 700 * Ms));
        var ws = a.AdvanceAll(2 * Sec - 1).Windows;
        // Windows are counted from the session start; [1.5 s, 2.5 s) is still open.
        Assert.Equal(new[] { 0, 500 * Ms, Sec }, ws.Select(w => w.StartUs));
        Assert.Equal(new[] { 1, 1, 0 }, ws.Select(w => w.Evidence["audio"].Count));
    }

    [Fact]
    public void Evidence_for_a_closed_window_without_lateness_goes_to_the_late_output_and_is_counted()
    {
        var a = new Aligner(AudioVideo());
        a.AdvanceAll(Sec - 1);
        var output = a.OnEvidence(Ev("video", Sec - 1));
        Assert.Empty(output.Windows);
        Assert.Equal(Sec - 1, Assert.Single(output.Late).StartUs);
        Assert.Equal(1, a.LateCount);
        Assert.Empty(a.OnEvidence(Ev("video", Sec)).Late);
        Assert.Equal(1, a.LateCount);
    }

    [Fact]
    public void Evidence_within_the_allowed_lateness_revises_the_closed_window_with_increasing_revisions()
    {
        var a = new Aligner(AudioVideo(allowedLatenessUs: 500 * Ms));
        a.OnEvidence(Ev("audio", 100));
        Assert.Equal(0, Assert.Single(a.AdvanceAll(Sec - 1).Windows).Revision);

        var r1 = Assert.Single(a.OnEvidence(Ev("video", 300)).Windows);
        Assert.Equal((0L, 1), (r1.StartUs, r1.Revision));
        Assert.Single(r1.Evidence["video"]);
        Assert.Single(r1.Evidence["audio"]);

        a.AdvanceAll(Sec + 400 * Ms);
        var r2 = Assert.Single(a.OnEvidence(Ev("audio", 200)).Windows);
        Assert.Equal(2, r2.Revision);
        Assert.Equal(2, r2.Evidence["audio"].Count);
        Assert.Equal(2, a.RevisionCount);
        Assert.Equal(0, a.LateCount);
    }

    [Fact]
    public void A_new_revision_of_the_same_evidence_replaces_it_and_a_repeat_is_ignored()
    {
        var a = new Aligner(AudioVideo(allowedLatenessUs: 500 * Ms));
        a.OnEvidence(Ev("audio", 100, probs: [0.2, 0.3, 0.5]));
        a.AdvanceAll(Sec - 1);
        Assert.Empty(a.OnEvidence(Ev("audio", 100, probs: [0.2, 0.3, 0.5])).Windows);
        var revised = Assert.Single(a.OnEvidence(Ev("audio", 100, probs: [0.6, 0.2, 0.2], revision: 1)).Windows);
        var e = Assert.Single(revised.Evidence["audio"]);
        Assert.Equal(1, e.Revision);
        Assert.Equal(1, a.BufferedEvidence);
    }

    [Fact]
    public void Evidence_later_than_the_allowed_lateness_goes_to_the_late_output()
    {
        var a = new Aligner(AudioVideo(allowedLatenessUs: 500 * Ms));
        a.AdvanceAll(Sec - 1);
        // Retained while W < end - 1 + L = 1.5 s - 1.
        a.AdvanceAll(Sec + 500 * Ms - 2);
        Assert.Single(a.OnEvidence(Ev("audio", 10)).Windows);
        a.AdvanceAll(Sec + 500 * Ms - 1);
        var late = a.OnEvidence(Ev("audio", 20));
        Assert.Empty(late.Windows);
        Assert.Single(late.Late);
        Assert.Equal(1, a.LateCount);
    }

    [Fact]
    public void Over_the_buffer_cap_the_lowest_priority_stream_is_shed_first_and_counted()
    {
        var spec = Session(Stream("audio", priority: 1), Stream("video", priority: 0)) with { MaxBufferedEvidence = 4 };
        var a = new Aligner(spec);
        for (var i = 0; i < 3; i++) a.OnEvidence(Ev("audio", i * 10));
        for (var i = 0; i < 3; i++) a.OnEvidence(Ev("video", i * 10));
        Assert.Equal(4, a.BufferedEvidence);
        Assert.Equal(2, a.Shed["video"]);
        Assert.False(a.Shed.ContainsKey("audio"));
        var w = Assert.Single(a.AdvanceAll(Sec - 1).Windows);
        Assert.Equal(3, w.Evidence["audio"].Count);
        Assert.Equal(20, Assert.Single(w.Evidence["video"]).StartUs); // the oldest is shed
    }

    [Fact]
    public void A_finished_session_closes_windows_up_to_its_last_evidence_but_not_to_infinity()
    {
        var a = new Aligner(AudioVideo());
        a.OnEvidence(Ev("audio", 2 * Sec + 10));
        foreach (var id in new[] { "audio", "video" }) a.SetStreamState(id, StreamState.Finished);
        var ws = a.AdvanceAll(EventTime.PlusInfinity).Windows;
        Assert.Equal(new[] { 0, Sec, 2 * Sec }, ws.Select(w => w.StartUs));
        Assert.Empty(a.Advance(null).Windows);
        Assert.Equal(0, ws[2].WatermarkLagUs);
    }

    [Fact]
    public void A_finished_session_without_evidence_closes_no_window()
    {
        var a = new Aligner(AudioVideo());
        Assert.Empty(a.AdvanceAll(EventTime.PlusInfinity).Windows);
    }

    [Fact]
    public void Windows_report_the_watermark_lag_behind_the_newest_evidence()
    {
        var a = new Aligner(AudioVideo());
        a.OnEvidence(Ev("audio", 3 * Sec));
        var w = a.AdvanceAll(Sec - 1).Windows[0];
        Assert.Equal((Sec - 1, 2 * Sec + 1), (w.WatermarkUs, w.WatermarkLagUs));
    }

    [Fact]
    public void Closed_evidence_is_pruned_so_the_buffer_stays_bounded()
    {
        var a = new Aligner(AudioVideo());
        for (var i = 0; i < 100; i++)
        {
            a.OnEvidence(Ev("audio", i * 100 * Ms));
            a.AdvanceAll(i * 100 * Ms);
        }
        Assert.True(a.BufferedEvidence <= 10, $"buffered {a.BufferedEvidence}");
    }

    [Fact]
    public void A_restarting_stream_holds_windows_back_and_a_failed_one_does_not()
    {
        var a = new Aligner(AudioVideo());
        a.SetStreamWatermark("audio", 3 * Sec);
        a.SetStreamWatermark("video", 10);
        a.SetStreamState("video", StreamState.Restarting);
        Assert.Empty(a.Advance(null).Windows);
        a.SetStreamState("video", StreamState.Failed);
        Assert.Equal(3, a.Advance(null).Windows.Count);
    }

    [Fact]
    public void Windows_are_counted_from_the_session_start_and_earlier_evidence_is_late()
    {
        var a = new Aligner(AudioVideo() with { StartUs = 250 * Ms });
        Assert.Single(a.OnEvidence(Ev("audio", 100 * Ms)).Late);
        a.OnEvidence(Ev("audio", 300 * Ms));
        var w = Assert.Single(a.AdvanceAll(1250 * Ms - 1).Windows);
        Assert.Equal((250 * Ms, 1250 * Ms), (w.StartUs, w.EndUs));
        Assert.Single(w.Evidence["audio"]);
    }

    [Fact]
    public void Between_streams_of_equal_priority_the_one_holding_more_evidence_is_shed()
    {
        var a = new Aligner(AudioVideo() with { MaxBufferedEvidence = 3 });
        a.OnEvidence(Ev("audio", 1));
        a.OnEvidence(Ev("audio", 2));
        a.OnEvidence(Ev("video", 3));
        a.OnEvidence(Ev("video", 4));
        Assert.Equal(1, a.Shed["audio"]);
        Assert.False(a.Shed.ContainsKey("video"));
        Assert.Equal(3, a.BufferedEvidence);
    }

    [Fact]
    public void A_repeated_evidence_is_stored_once()
    {
        var a = new Aligner(AudioVideo());
        a.OnEvidence(Ev("audio", 5));
        a.OnEvidence(Ev("audio", 5));
        Assert.Equal(1, a.BufferedEvidence);
        Assert.Single(a.AdvanceAll(Sec - 1).Windows[0].Evidence["audio"]);
    }

    [Fact]
    public void Evidence_for_an_unknown_stream_is_refused()
    {
        var a = new Aligner(AudioVideo());
        Assert.Throws<ArgumentException>(() => a.OnEvidence(Ev("lidar", 0)));
    }

    [Fact]
    public void An_invalid_spec_is_refused()
    {
        Assert.Throws<SpecException>(() => new Aligner(AudioVideo() with { AllowedLatenessUs = -1 }));
    }
}

public class AlignerGapSpec
{
    [Fact]
    public void A_session_that_starts_at_0_and_gets_epoch_timestamps_closes_a_bounded_number_of_windows_in_one_step()
    {
        var a = new Aligner(AudioVideo());
        const long epoch = 1_733_000_000_000_000L; // Unix microseconds: 1.7e9 one-second windows after the session's start
        a.OnEvidence(Ev("audio", epoch + 100));
        a.OnEvidence(Ev("video", epoch + 200));
        var closed = a.AdvanceAll(epoch + 2 * Sec).Windows;
        Assert.InRange(closed.Count, 1, Aligner.MaxWindowsPerStep);
        var decided = Assert.Single(closed, w => w.Evidence["audio"].Count > 0);
        Assert.Equal(epoch, decided.StartUs);
        Assert.Single(decided.Evidence["video"]);
        Assert.True(a.SkippedCount > 1_700_000_000L, $"{a.SkippedCount} skipped");
        // Windows after it close one by one again.
        a.OnEvidence(Ev("audio", epoch + 2 * Sec + 5));
        Assert.Equal([epoch + 2 * Sec], a.AdvanceAll(epoch + 3 * Sec).Windows.Select(w => w.StartUs));
    }

    [Fact]
    public void A_gap_between_bursts_of_evidence_is_skipped_but_every_window_with_evidence_is_decided()
    {
        var a = new Aligner(AudioVideo());
        long[] bursts = [5 * Sec, 50_000 * Sec, 90_000 * Sec];
        foreach (var t in bursts) a.OnEvidence(Ev("audio", t + 1));
        var closed = a.AdvanceAll(100_000 * Sec).Windows;
        Assert.True(closed.Count <= Aligner.MaxWindowsPerStep + bursts.Length);
        Assert.Equal(bursts, closed.Where(w => w.Evidence["audio"].Count > 0).Select(w => w.StartUs));
    }
}
