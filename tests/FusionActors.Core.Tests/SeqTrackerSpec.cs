using FusionActors.Core.Streams;

namespace FusionActors.Core.Tests;

public class SeqTrackerSpec
{
    [Fact]
    public void A_first_seq_is_new_and_its_repeat_is_a_duplicate()
    {
        var t = new SeqTracker();
        Assert.Equal(SeqCheck.New, t.Take(0));
        Assert.Equal(SeqCheck.Duplicate, t.Take(0));
        Assert.Equal(1, t.LowestMissing);
        Assert.Equal(0, t.Highest);
    }

    [Fact]
    public void A_negative_seq_is_out_of_range()
    {
        var t = new SeqTracker();
        Assert.Equal(SeqCheck.OutOfRange, t.Take(-1));
        Assert.Equal(SeqCheck.OutOfRange, t.Take(long.MinValue));
        Assert.Equal(-1, t.Highest);
    }

    [Fact]
    public void A_seq_too_far_ahead_of_the_lowest_missing_is_out_of_range_and_not_recorded()
    {
        var t = new SeqTracker(64);
        Assert.Equal(SeqCheck.New, t.Take(63));
        Assert.Equal(SeqCheck.OutOfRange, t.Take(64));
        Assert.Equal(63, t.Highest);
        Assert.Equal(SeqCheck.New, t.Take(0));
        // The window slid by one: 64 is now in range.
        Assert.Equal(SeqCheck.New, t.Take(64));
    }

    [Fact]
    public void The_window_is_rounded_up_to_a_multiple_of_64()
    {
        var t = new SeqTracker(10);
        Assert.Equal(SeqCheck.New, t.Take(63));
        Assert.Equal(SeqCheck.OutOfRange, t.Take(64));
    }

    [Fact]
    public void Reordering_within_the_window_is_accepted_and_the_lowest_missing_catches_up()
    {
        var t = new SeqTracker(128);
        Assert.Equal(SeqCheck.New, t.Take(3));
        Assert.Equal(SeqCheck.New, t.Take(1));
        Assert.Equal(0, t.LowestMissing);
        Assert.Equal(SeqCheck.New, t.Take(0));
        Assert.Equal(2, t.LowestMissing);
        Assert.Equal(SeqCheck.New, t.Take(2));
        Assert.Equal(4, t.LowestMissing);
        Assert.Equal(3, t.Highest);
        Assert.Equal(SeqCheck.Duplicate, t.Take(3));
    }

    [Fact]
    public void A_duplicate_long_after_the_window_has_moved_on_is_still_a_duplicate()
    {
        var t = new SeqTracker(64);
        for (var s = 0; s < 10_000; s++) Assert.Equal(SeqCheck.New, t.Take(s));
        Assert.Equal(SeqCheck.Duplicate, t.Take(0));
        Assert.Equal(SeqCheck.Duplicate, t.Take(5_000));
        Assert.Equal(SeqCheck.Duplicate, t.Take(9_999));
        Assert.Equal(SeqCheck.New, t.Take(10_000));
    }

    [Fact]
    public void A_seq_one_window_ahead_does_not_alias_a_seen_slot()
    {
        var t = new SeqTracker(64);
        Assert.Equal(SeqCheck.New, t.Take(1));
        for (var s = 2; s < 64; s++) t.Take(s);
        t.Take(0);
        // 64 maps to the slot of 0, which must have been cleared when the window moved.
        Assert.Equal(64, t.LowestMissing);
        Assert.Equal(SeqCheck.New, t.Take(64 + 1));
        Assert.Equal(SeqCheck.New, t.Take(64));
    }

    [Fact]
    public void Peek_does_not_record()
    {
        var t = new SeqTracker();
        Assert.Equal(SeqCheck.New, t.Peek(0));
        Assert.Equal(SeqCheck.New, t.Peek(0));
        Assert.Equal(0, t.LowestMissing);
    }

    [Fact]
    public void A_non_positive_window_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new SeqTracker(0));
    }
}

public class ResumedSeqTrackerSpec
{
    [Fact]
    public void Seqs_a_resumed_client_still_holds_below_its_resume_point_are_new_once_and_the_rest_below_are_taken()
    {
        var seqs = new FusionActors.Core.Streams.SeqTracker(window: 64, firstSeq: 3000, expectedBelow: [0, 7, -3, 5000]);
        Assert.Equal(FusionActors.Core.Streams.SeqCheck.New, seqs.Take(0));
        Assert.Equal(FusionActors.Core.Streams.SeqCheck.Duplicate, seqs.Take(0));
        Assert.Equal(FusionActors.Core.Streams.SeqCheck.Duplicate, seqs.Take(1)); // committed before the resume
        Assert.Equal(FusionActors.Core.Streams.SeqCheck.New, seqs.Take(7));
        // The run from the resume point is taken as usual, however far the held seqs lie below it.
        for (long s = 3000; s < 3200; s++) Assert.Equal(FusionActors.Core.Streams.SeqCheck.New, seqs.Take(s));
        Assert.Equal(3200, seqs.LowestMissing);
        Assert.Equal(0, seqs.Skipped);
    }
}
