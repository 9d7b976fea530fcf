using Xunit;
using FusionActors.Core.Streams;
using FusionActors.Runtime.Encoders;
using FusionActors.Runtime.Encoders.Batching;

namespace FusionActors.Runtime.Tests;

/// <summary>The rule that forms a model call from the sessions' waiting inputs, alone: no thread, no model call.</summary>
public sealed class FairBatchQueueSpec
{
    private static readonly NoOpEncoder Encoder = new(1, 2);

    private static EncodeRequest Request(string session, int inputs, long ticks = 1, string stream = "s") =>
        new(Encoder, session, Enumerable.Range(0, inputs).Select(i => new EncoderInput(stream, i, i + 1, [0f], 1, i, i)).ToArray(), ticks);

    private static Dictionary<string, int> PerSession(IEnumerable<BatchSlice> slices) =>
        slices.GroupBy(s => s.Request.Session).ToDictionary(g => g.Key, g => g.Sum(s => s.Count));

    [Fact]
    public void A_call_takes_one_input_per_session_in_turn_so_a_huge_request_cannot_crowd_out_small_ones()
    {
        var q = new FairBatchQueue(maxInFlightPerSession: 1024);
        q.Enqueue(Request("greedy", 1024));
        for (var s = 0; s < 3; s++) q.Enqueue(Request($"rt-{s}", 1));
        var call = q.Take(32, 10);
        Assert.Equal(new Dictionary<string, int> { ["greedy"] = 29, ["rt-0"] = 1, ["rt-1"] = 1, ["rt-2"] = 1 }, PerSession(call));
        Assert.Equal((1024 + 3 - 32, 32), (q.Pending, q.InFlight));
    }

    [Fact]
    public void The_next_call_starts_with_the_session_after_the_last_one_served()
    {
        var q = new FairBatchQueue(32);
        for (var s = 0; s < 40; s++) q.Enqueue(Request($"s{s:00}", 1));
        var first = q.Take(32, 10).Select(x => x.Request.Session).ToArray();
        var second = q.Take(32, 10).Select(x => x.Request.Session).ToArray();
        Assert.Equal(Enumerable.Range(0, 32).Select(s => $"s{s:00}"), first);
        Assert.Equal(Enumerable.Range(32, 8).Select(s => $"s{s:00}"), second);
        Assert.Empty(q.Take(32, 10));
    }

    [Fact]
    public void A_session_at_its_in_flight_limit_gives_nothing_until_a_call_of_it_ends()
    {
        var q = new FairBatchQueue(maxInFlightPerSession: 8);
        q.Enqueue(Request("flood", 100));
        var call = q.Take(32, 10);
        Assert.Equal(8, call.Sum(s => s.Count));
        Assert.Equal(0, q.Available());
        Assert.Empty(q.Take(32, 10));
        Assert.Equal(long.MaxValue, q.OldestTicks()); // nothing a call could take: no reason to wake up for it
        foreach (var s in call) q.Release(s);
        Assert.Equal(8, q.Available());
        Assert.Equal(8, q.Take(32, 10).Sum(s => s.Count));
    }

    [Fact]
    public void A_sessions_requests_are_taken_in_order_and_each_request_in_increasing_offsets()
    {
        var q = new FairBatchQueue(1000);
        var a = Request("one", 5, stream: "a");
        var b = Request("one", 5, stream: "b");
        q.Enqueue(a);
        q.Enqueue(b);
        var taken = new List<BatchSlice>();
        while (q.Take(3, 10) is { Count: > 0 } call) taken.AddRange(call);
        Assert.Equal([(a, 0, 3), (a, 3, 2), (b, 0, 1), (b, 1, 3), (b, 4, 1)], taken.Select(s => (s.Request, s.Offset, s.Count)).ToArray());
    }

    [Fact]
    public void A_removed_request_leaves_what_it_had_not_given_and_an_empty_queue_is_idle()
    {
        var q = new FairBatchQueue(1000);
        var r = Request("x", 10);
        q.Enqueue(r);
        var call = q.Take(4, 10);
        q.Remove(r);
        Assert.Equal((0, 4, false), (q.Pending, q.InFlight, q.IsIdle));
        foreach (var s in call) q.Release(s);
        Assert.True(q.IsIdle);
        Assert.Equal(0, q.Sessions);
    }

    [Fact]
    public void The_oldest_waiting_request_sets_when_a_call_is_due()
    {
        var q = new FairBatchQueue(1000);
        q.Enqueue(Request("late", 1, ticks: 500));
        q.Enqueue(Request("early", 1, ticks: 200));
        Assert.Equal(200, q.OldestTicks());
    }
}
