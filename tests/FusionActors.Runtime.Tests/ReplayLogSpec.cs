using System.Threading.Channels;
using FusionActors.Client;
using Xunit;
using FusionActors.Core.Streams;
using FusionActors.Protocol;

namespace FusionActors.Runtime.Tests;

/// <summary>The client's hold of uncommitted frames: replay order, commits, resume seqs and back-pressure.</summary>
public sealed class ReplayLogSpec
{
    private static Frame F(string stream, long seq, long t) => new("s", stream, seq, t, [0f]);

    [Fact]
    public async Task A_new_connection_gets_every_held_entry_in_push_order_then_what_comes_next()
    {
        var log = new ReplayLog(16);
        await log.AppendAsync(F("a", 0, 0));
        await log.AppendAsync(F("b", 0, 5));
        var first = Channel.CreateUnbounded<IWithSessionId>();
        Assert.Equal(2, log.Attach(first.Writer));
        await log.AppendAsync(F("a", 1, 20));
        log.Detach();
        await log.AppendAsync(F("a", 2, 40)); // no connection: held only

        var second = Channel.CreateUnbounded<IWithSessionId>();
        Assert.Equal(4, log.Attach(second.Writer));
        Assert.Equal(new[] { 0L, 0, 1 }, Drain(first).Select(m => ((Frame)m).Seq));
        Assert.Equal(new[] { ("a", 0L), ("b", 0), ("a", 1), ("a", 2) }, Drain(second).Select(m => (((Frame)m).StreamId, ((Frame)m).Seq)));
        Assert.Equal(4, log.EntriesReplayed - 2);
    }

    [Fact]
    public async Task A_commit_forgets_frames_before_its_time_and_resume_seqs_follow()
    {
        var log = new ReplayLog(16);
        for (var i = 0; i < 5; i++) await log.AppendAsync(F("a", i, i * 20));
        await log.AppendAsync(F("b", 0, 10));
        await log.AppendAsync(new CloseStream("s", "b"));
        Assert.Equal(3, log.Commit(40)); // a0, a1 (0, 20 < 40) and b0 (10)
        Assert.Equal(4, log.Count); // a2, a3, a4 and the close
        Assert.Equal(0, log.Commit(30)); // commits never go back
        Assert.Equal(new Dictionary<string, long> { ["a"] = 2, ["b"] = 1 }, log.NextSeqByStream());
        Assert.Equal(3, log.FramesCommitted);
        log.Commit(long.MaxValue);
        Assert.Equal(0, log.Count); // at +infinity the stream closes go too
        Assert.Equal(5 + 1, log.FramesCommitted);
    }

    [Fact]
    public async Task A_full_log_holds_the_next_push_until_a_commit_makes_room()
    {
        var log = new ReplayLog(2);
        await log.AppendAsync(F("a", 0, 0));
        await log.AppendAsync(F("a", 1, 20));
        var third = log.AppendAsync(F("a", 2, 40)).AsTask();
        Assert.False(third.IsCompleted);
        log.Commit(10);
        await third.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(2, log.Count);
    }

    [Fact]
    public async Task A_push_cancelled_while_waiting_for_room_uses_no_seq_and_closing_wakes_the_waiters()
    {
        var log = new ReplayLog(1);
        Assert.Equal(0, await log.AppendNextAsync("a", seq => F("a", seq, 0)));
        using var cancel = new CancellationTokenSource();
        var cancelled = log.AppendNextAsync("a", seq => F("a", seq, 20), cancel.Token).AsTask();
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        log.Commit(10);
        Assert.Equal(1, await log.AppendNextAsync("a", seq => F("a", seq, 40))); // seq 1, not 2: no gap
        Assert.Equal(new Dictionary<string, long> { ["a"] = 1 }, log.NextSeqByStream());

        var stuck = log.AppendNextAsync("a", seq => F("a", seq, 60)).AsTask();
        log.Close();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => stuck);
    }

    [Fact]
    public async Task Resume_seqs_count_frames_a_sensor_has_not_pushed_yet()
    {
        var log = new ReplayLog(16);
        await log.AppendAsync(F("a", 0, 0));
        await log.AppendAsync(F("a", 2, 40)); // seq 1 is late on the client's side
        log.Commit(50);
        Assert.Equal(new Dictionary<string, long> { ["a"] = 1 }, log.NextSeqByStream());
    }

    [Fact]
    public async Task A_frame_stamped_far_ahead_is_resumed_on_its_own_and_the_committed_run_above_it_is_not_asked_for()
    {
        var log = new ReplayLog(4096);
        await log.AppendAsync(F("a", 0, 1_000_000_000)); // stamped far ahead: held until its window is fused
        for (var i = 1; i < 3100; i++) await log.AppendAsync(F("a", i, i * 20L));
        log.Commit(3000 * 20); // frees 1..2999; 0 and 3000..3099 stay
        var (next, below) = log.ResumePoint();
        Assert.Equal(3000, next["a"]);
        Assert.Equal([0L], below["a"]);
        // Without a frame held apart, there is nothing below.
        var plain = new ReplayLog(16);
        await plain.AppendAsync(F("b", 0, 0));
        await plain.AppendAsync(F("b", 1, 20));
        plain.Commit(10);
        Assert.Equal((1L, false), (plain.ResumePoint().Next["b"], plain.ResumePoint().HeldBelow.ContainsKey("b")));
    }

    [Fact]
    public async Task Only_frames_and_stream_closes_are_held()
    {
        var log = new ReplayLog(2);
        await Assert.ThrowsAsync<ArgumentException>(async () => await log.AppendAsync(new StreamHeartbeat("s", "a", 5)));
    }

    private static List<IWithSessionId> Drain(Channel<IWithSessionId> channel)
    {
        var list = new List<IWithSessionId>();
        while (channel.Reader.TryRead(out var m)) list.Add(m);
        return list;
    }
}
