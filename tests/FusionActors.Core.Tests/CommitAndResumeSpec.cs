using FusionActors.Core.Alignment;
using FusionActors.Core.Specs;
using FusionActors.Core.Streams;
using FusionActors.Core.Time;
using FusionActors.Protocol.Specs;

using static FusionActors.Core.Tests.TestData;

namespace FusionActors.Core.Tests;

/// <summary>The commit point a client may forget frames before, and how a resumed session picks up.</summary>
public class CommitAndResumeSpec
{
    [Fact]
    public void Tumbling_commit_is_the_start_of_the_first_window_not_fused()
    {
        var a = new Aligner(AudioVideo());
        Assert.Equal(0, a.CommittedThroughUs);
        a.OnEvidence(Ev("audio", 100));
        a.AdvanceAll(Sec - 2);
        Assert.Equal(0, a.CommittedThroughUs);
        a.AdvanceAll(Sec - 1);
        Assert.Equal(Sec, a.CommittedThroughUs);
        a.AdvanceAll(3 * Sec + 10);
        Assert.Equal(3 * Sec, a.CommittedThroughUs);
    }

    [Fact]
    public void Sliding_commit_waits_for_the_last_window_that_holds_the_evidence()
    {
        var a = new Aligner(AudioVideo(WindowSpec.Sliding(Sec, 500 * Ms)));
        a.OnEvidence(Ev("audio", 700 * Ms));
        // [-500ms, 500ms) and [0, 1s) close at 1 s - 1; evidence at 700 ms is also in [500ms, 1.5s), still open.
        a.AdvanceAll(Sec - 1);
        Assert.Equal(500 * Ms, a.CommittedThroughUs);
        Assert.True(700 * Ms >= a.CommittedThroughUs, "evidence in an open window must not be committed");
        a.AdvanceAll(3 * Sec / 2 - 1);
        Assert.Equal(Sec, a.CommittedThroughUs);
    }

    [Fact]
    public void A_finished_session_commits_everything_once_its_windows_are_closed()
    {
        var a = new Aligner(AudioVideo());
        a.OnEvidence(Ev("audio", 1500 * Ms));
        a.AdvanceAll(EventTime.PlusInfinity);
        Assert.Equal(EventTime.PlusInfinity, a.CommittedThroughUs);
        Assert.Equal(2, a.ClosedCount);
    }

    [Fact]
    public void Anchor_commit_trails_the_watermark_by_twice_the_tolerance()
    {
        var a = new Aligner(AudioVideo(WindowSpec.Anchored("video", 50 * Ms)));
        a.AdvanceAll(Sec);
        Assert.Equal(Sec - 100 * Ms, a.CommittedThroughUs);
    }

    [Fact]
    public void A_resumed_session_neither_fuses_again_nor_reports_empty_the_windows_before_its_resume_point()
    {
        var a = new Aligner(AudioVideo());
        a.ResumeAt(3 * Sec);
        Assert.Equal(3 * Sec, a.CommittedThroughUs);
        var late = a.OnEvidence(Ev("audio", 2 * Sec + 10)); // replayed, but its window was fused before the failover
        Assert.Single(late.Late);
        a.OnEvidence(Ev("audio", 3 * Sec + 10));
        var windows = a.AdvanceAll(5 * Sec - 1).Windows;
        Assert.Equal(new[] { 3 * Sec, 4 * Sec }, windows.Select(w => w.StartUs));
        Assert.Single(windows[0].Evidence["audio"]);
    }

    [Fact]
    public void A_resume_point_between_grid_lines_starts_at_the_next_window()
    {
        var a = new Aligner(AudioVideo(WindowSpec.Sliding(Sec, 500 * Ms)));
        a.ResumeAt(1200 * Ms);
        Assert.Equal(1500 * Ms, a.CommittedThroughUs);
        a.ResumeAt(Sec); // never backwards
        Assert.Equal(1500 * Ms, a.CommittedThroughUs);
    }

    [Fact]
    public void A_resumed_stream_takes_the_seqs_below_its_first_as_done()
    {
        var seqs = new SeqTracker(64, firstSeq: 100);
        Assert.Equal(SeqCheck.Duplicate, seqs.Take(99));
        Assert.Equal(SeqCheck.New, seqs.Take(100));
        Assert.Equal(SeqCheck.New, seqs.Take(150));
        Assert.Equal(SeqCheck.OutOfRange, seqs.Take(100 + 64 + 1));
        Assert.Equal(101, seqs.LowestMissing);
        Assert.Equal(150, seqs.Highest);
    }

    [Fact]
    public void A_seq_that_never_comes_is_skipped_once_a_window_has_passed_it_and_the_stream_goes_on()
    {
        var seqs = new SeqTracker(64);
        Assert.Equal(SeqCheck.New, seqs.Take(0));
        for (var s = 2; s < 64; s++) Assert.Equal(SeqCheck.New, seqs.Take(s)); // seq 1 is lost
        Assert.Equal(1, seqs.LowestMissing);
        Assert.Equal(SeqCheck.New, seqs.Take(64)); // the last slot of the window: the gap is given up
        Assert.Equal(65, seqs.LowestMissing);
        Assert.Equal(1, seqs.Skipped);
        for (var s = 65; s < 300; s++) Assert.Equal(SeqCheck.New, seqs.Take(s)); // no stall at the window's end
        Assert.Equal(SeqCheck.Duplicate, seqs.Take(1)); // too late now: treated as a repeat
    }

    [Fact]
    public void One_bogus_far_ahead_seq_neither_moves_the_window_nor_is_taken()
    {
        var seqs = new SeqTracker(64);
        seqs.Take(0);
        Assert.Equal(SeqCheck.OutOfRange, seqs.Take(1_000_000));
        Assert.Equal(SeqCheck.New, seqs.Take(1));
        Assert.Equal(0, seqs.Skipped);
    }
}
