using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using FusionActors.Core.Streams;
using FusionActors.Core.Supervision;
using FusionActors.Core.Time;
using FusionActors.Protocol.Specs;

namespace FusionActors.Core.Tests;

public class EncoderQueueSpec
{
    private static EncoderInput In(long i, int revision = 0) => new("s", i * 1000, i * 1000 + 1000, [i], 1.0, i, i, revision);

    private static long[] Starts(IEnumerable<EncoderInput> inputs) => inputs.Select(i => i.StartUs / 1000).ToArray();

    [Fact]
    public void Batches_take_up_to_max_batch_oldest_first_one_at_a_time()
    {
        var q = new EncoderQueue(maxPending: 10, OverflowPolicy.DropOldest, maxBatch: 3);
        for (var i = 0; i < 5; i++) Assert.Null(q.Enqueue(In(i)));
        var first = q.TakeBatch(nowMs: 7)!;
        Assert.Equal([0L, 1, 2], Starts(first.Inputs));
        Assert.Equal(7, first.SentAtMs);
        Assert.Null(q.TakeBatch(8)); // one batch in flight at a time
        Assert.False(q.CanSend);
        Assert.Equal(5, q.Waiting);
        Assert.Equal([0L, 1, 2], Starts(q.Complete(first.Id)!));
        var second = q.TakeBatch(9)!;
        Assert.Equal([3L, 4], Starts(second.Inputs));
        Assert.NotEqual(first.Id, second.Id);
        Assert.NotNull(q.Complete(second.Id));
        Assert.True(q.IsEmpty);
        Assert.Null(q.TakeBatch(10));
    }

    private static EncoderInput Valued(long i, params float[] values) => new("s", i * 1000, i * 1000 + 1000, values, 1.0, i, i);

    [Fact]
    public void With_a_repeat_cache_a_batch_ends_before_an_input_that_repeats_its_predecessor_and_the_repeat_is_taken_next()
    {
        var q = new EncoderQueue(maxPending: 10, OverflowPolicy.DropOldest, maxBatch: 8);
        // A B B C, then -0 after +0 (equal floats, other bits): only B's repeat ends the batch.
        foreach (var input in new[] { Valued(0, 1, 2), Valued(1, 3, 4), Valued(2, 3, 4), Valued(3, 5, 6), Valued(4, 0f), Valued(5, -0f) }) q.Enqueue(input);
        var first = q.TakeBatch(0, repeatsUpTo: 2)!;
        Assert.Equal([0L, 1], Starts(first.Inputs));
        Assert.Null(q.Next); // nothing is taken beside a batch in flight
        Assert.Throws<InvalidOperationException>(() => q.TakeNext());
        q.Complete(first.Id);
        Assert.Equal(2, q.Next!.StartUs / 1000);
        Assert.Equal(2, q.TakeNext().StartUs / 1000); // served from the cache: it leaves without a batch
        Assert.Equal(3, q.Waiting);
        Assert.Equal([3L, 4, 5], Starts(q.TakeBatch(1, repeatsUpTo: 2)!.Inputs));

        // Inputs longer than the cache keeps, or no cache: batches as before.
        var longer = new EncoderQueue(10, OverflowPolicy.DropOldest, 8);
        foreach (var input in new[] { Valued(0, 1, 2), Valued(1, 1, 2) }) longer.Enqueue(input);
        Assert.Equal([0L, 1], Starts(longer.TakeBatch(0, repeatsUpTo: 1)!.Inputs));
        var off = new EncoderQueue(10, OverflowPolicy.DropOldest, 8);
        foreach (var input in new[] { Valued(0, 1, 2), Valued(1, 1, 2) }) off.Enqueue(input);
        Assert.Equal([0L, 1], Starts(off.TakeBatch(0)!.Inputs));
    }

    [Fact]
    public void A_batch_split_at_a_switch_point_holds_only_inputs_on_the_side_of_its_first()
    {
        var q = new EncoderQueue(maxPending: 10, OverflowPolicy.DropOldest, maxBatch: 8);
        // Waiting in arrival order: two before the switch point (5 ms), two after, one before (out of order), one after.
        foreach (var i in new long[] { 3, 4, 5, 6, 2, 7 }) q.Enqueue(In(i));
        long[] Next()
        {
            var batch = q.TakeBatch(0, splitAtUs: 5000)!;
            q.Complete(batch.Id);
            return Starts(batch.Inputs);
        }
        Assert.Equal([3L, 4], Next());
        Assert.Equal([5L, 6], Next());
        Assert.Equal([2L], Next());
        Assert.Equal([7L], Next());
        Assert.True(q.IsEmpty);
        // Without a switch point the batch is as large as before.
        foreach (var i in new long[] { 3, 6, 2 }) q.Enqueue(In(i));
        Assert.Equal([3L, 6, 2], Starts(q.TakeBatch(0)!.Inputs));
    }

    [Fact]
    public void An_answer_to_another_batch_is_stale_and_changes_nothing()
    {
        var q = new EncoderQueue(10, OverflowPolicy.DropOldest, 4);
        q.Enqueue(In(0));
        var batch = q.TakeBatch(0)!;
        Assert.Null(q.Complete(batch.Id + 1));
        Assert.Same(batch, q.InFlight);
        Assert.NotNull(q.Complete(batch.Id));
        Assert.Null(q.Complete(batch.Id)); // answered once only
    }

    [Fact]
    public void Drop_oldest_sheds_the_first_waiting_input_to_take_the_new_one()
    {
        var q = new EncoderQueue(3, OverflowPolicy.DropOldest, 8);
        for (var i = 0; i < 3; i++) Assert.Null(q.Enqueue(In(i)));
        Assert.Equal(0, q.Enqueue(In(3))!.StartUs);
        Assert.Equal([1L, 2, 3], Starts(q.Pending));
    }

    [Fact]
    public void Drop_newest_sheds_the_input_that_does_not_fit()
    {
        var q = new EncoderQueue(3, OverflowPolicy.DropNewest, 8);
        for (var i = 0; i < 3; i++) Assert.Null(q.Enqueue(In(i)));
        Assert.Equal(3000, q.Enqueue(In(3))!.StartUs);
        Assert.Equal([0L, 1, 2], Starts(q.Pending));
    }

    [Fact]
    public void A_failed_batch_is_retried_input_by_input_ahead_of_newer_inputs()
    {
        var q = new EncoderQueue(10, OverflowPolicy.DropOldest, 4);
        for (var i = 0; i < 3; i++) q.Enqueue(In(i));
        q.TakeBatch(0);
        q.Enqueue(In(3));
        q.Enqueue(In(4));
        var failure = q.Fail()!;
        Assert.Empty(failure.Quarantined);
        Assert.Empty(failure.Shed);
        Assert.Equal(3, failure.Retried);
        Assert.Equal(3, q.SingleMode);
        Assert.Equal([0L, 1, 2, 3, 4], Starts(q.Pending));
        for (var i = 0; i < 3; i++)
        {
            var single = q.TakeBatch(0)!;
            Assert.Equal([(long)i], Starts(single.Inputs));
            q.Complete(single.Id);
        }
        Assert.Equal(0, q.SingleMode);
        Assert.Equal([3L, 4], Starts(q.TakeBatch(0)!.Inputs)); // batching again
    }

    [Fact]
    public void An_input_that_fails_three_times_is_quarantined_and_the_others_are_not_blamed()
    {
        var q = new EncoderQueue(10, OverflowPolicy.DropOldest, 4);
        for (var i = 0; i < 4; i++) q.Enqueue(In(i));
        var quarantined = new List<EncoderInput>();
        var encoded = new List<EncoderInput>();
        var failures = 0;
        while (q.TakeBatch(0) is { } batch)
        {
            if (batch.Inputs.Any(i => i.StartUs == 2000))
            {
                failures++;
                quarantined.AddRange(q.Fail()!.Quarantined);
            }
            else encoded.AddRange(q.Complete(batch.Id)!);
        }
        Assert.Equal(3, q.MaxFailures);
        Assert.Equal(3, failures); // once in the batch, twice alone
        Assert.Equal([2L], Starts(quarantined));
        Assert.Equal([0L, 1, 3], Starts(encoded).Order());
        Assert.True(q.IsEmpty);
    }

    [Fact]
    public void A_success_forgets_an_inputs_earlier_failures()
    {
        var tracker = new QuarantineTracker();
        var q = new EncoderQueue(10, OverflowPolicy.DropOldest, 4, tracker);
        q.Enqueue(In(0));
        q.TakeBatch(0);
        q.Fail();
        Assert.Equal(1, tracker.FailuresOf(0, 0));
        var retry = q.TakeBatch(0)!;
        q.Complete(retry.Id);
        Assert.Equal(0, tracker.FailuresOf(0, 0));
    }

    [Theory]
    [InlineData(OverflowPolicy.DropOldest, new long[] { 1, 2, 3 }, new long[] { 0 })]
    [InlineData(OverflowPolicy.DropNewest, new long[] { 0, 1, 2 }, new long[] { 3 })]
    public void Retries_count_against_the_cap(OverflowPolicy overflow, long[] kept, long[] shed)
    {
        var q = new EncoderQueue(3, overflow, 2);
        q.Enqueue(In(0));
        q.Enqueue(In(1));
        q.TakeBatch(0);
        q.Enqueue(In(2));
        q.Enqueue(In(3));
        var failure = q.Fail()!;
        Assert.Equal(shed, Starts(failure.Shed));
        Assert.Equal(kept, Starts(q.Pending));
        Assert.True(q.SingleMode <= q.Pending.Count);
    }

    [Fact]
    public void Shedding_all_drops_what_waits_and_leaves_the_batch_in_flight()
    {
        var q = new EncoderQueue(10, OverflowPolicy.DropOldest, 2);
        for (var i = 0; i < 5; i++) q.Enqueue(In(i));
        var batch = q.TakeBatch(0)!;
        Assert.Equal(3, q.ShedAll());
        Assert.Equal(2, q.Waiting);
        Assert.Equal(2, q.DropInFlight());
        Assert.True(q.IsEmpty);
        Assert.Null(q.Complete(batch.Id));
    }

    [Fact]
    public void Room_is_under_half_the_cap_counting_the_batch_in_flight_or_when_nothing_will_wait()
    {
        var q = new EncoderQueue(8, OverflowPolicy.DropOldest, 2);
        for (var i = 0; i < 3; i++) q.Enqueue(In(i));
        Assert.True(q.HasRoom());
        q.Enqueue(In(3));
        Assert.False(q.HasRoom());
        Assert.True(q.HasRoom(nothingWillWait: true));
        q.TakeBatch(0);
        Assert.False(q.HasRoom()); // the two in flight still count
        Assert.True(new EncoderQueue(1, OverflowPolicy.DropOldest, 1).HasRoom()); // a cap of one still has room for one
    }

    [Fact]
    public void The_batch_in_flight_has_until_its_deadline_from_when_it_was_sent()
    {
        var q = new EncoderQueue(10, OverflowPolicy.DropOldest, 2);
        var deadline = TimeSpan.FromSeconds(10);
        Assert.Null(q.DeadlineLeft(0, deadline));
        q.Enqueue(In(0));
        q.TakeBatch(nowMs: 1_000);
        Assert.Equal(deadline, q.DeadlineLeft(1_000, deadline));
        Assert.Equal(TimeSpan.FromMilliseconds(1), q.DeadlineLeft(10_999, deadline));
        Assert.Equal(TimeSpan.Zero, q.DeadlineLeft(11_000, deadline));
        Assert.Equal(TimeSpan.Zero, q.DeadlineLeft(50_000, deadline));
    }

    [Fact]
    public void Room_waiters_are_held_until_there_is_room_then_woken_together()
    {
        var w = new RoomWaiters<int>();
        Assert.True(w.Await(1, hasRoom: true));
        Assert.False(w.Await(2, hasRoom: false));
        Assert.False(w.Await(3, hasRoom: false));
        Assert.Empty(w.Release(hasRoom: false));
        Assert.Equal([2, 3], w.Release(hasRoom: true));
        Assert.Equal(0, w.Count);
        Assert.Empty(w.Release(hasRoom: true));
    }

    [Fact]
    public void Evidence_is_complete_up_to_the_earliest_input_waiting_or_in_flight()
    {
        var q = new EncoderQueue(10, OverflowPolicy.DropOldest, 1);
        Assert.Equal(50_000, q.CompleteThrough(50_000));
        q.Enqueue(In(5));
        q.Enqueue(In(3));
        Assert.Equal(2999, q.CompleteThrough(50_000));
        var batch = q.TakeBatch(0)!; // 5 is in flight, 3 waits
        Assert.Equal(2999, q.CompleteThrough(50_000));
        q.Complete(batch.Id);
        q.TakeBatch(0);
        Assert.Equal(2999, q.CompleteThrough(50_000));
        Assert.Equal(1000, q.CompleteThrough(1000));
    }

    private enum Op { Enqueue, Take, Succeed, FailBatch, ShedAll, DropInFlight }

    private static readonly Gen<Op> Ops = Gen.Frequency(
        (6, Gen.Constant(Op.Enqueue)), (4, Gen.Constant(Op.Take)), (3, Gen.Constant(Op.Succeed)),
        (3, Gen.Constant(Op.FailBatch)), (1, Gen.Constant(Op.ShedAll)), (1, Gen.Constant(Op.DropInFlight)));

    [Property(MaxTest = 300)]
    public Property No_input_is_lost_or_duplicated_under_any_interleaving() =>
        Prop.ForAll(
            Arb.From(from maxPending in Gen.Choose(1, 8)
                     from maxBatch in Gen.Choose(1, 5)
                     from overflow in Gen.Elements(OverflowPolicy.DropOldest, OverflowPolicy.DropNewest)
                     from len in Gen.Choose(0, 120)
                     from ops in Gen.ArrayOf(Ops, len)
                     select (MaxPending: maxPending, MaxBatch: maxBatch, Overflow: overflow, Ops: ops)),
            c =>
            {
                var q = new EncoderQueue(c.MaxPending, c.Overflow, c.MaxBatch);
                var fates = new Dictionary<long, List<string>>();
                void End(EncoderInput input, string fate) => fates[input.StartUs].Add(fate);
                var next = 0L;
                foreach (var op in c.Ops)
                {
                    switch (op)
                    {
                        case Op.Enqueue:
                            var input = In(next++);
                            fates[input.StartUs] = [];
                            if (q.Enqueue(input) is { } shed) End(shed, "shed");
                            break;
                        case Op.Take:
                            var single = q.SingleMode > 0;
                            if (q.TakeBatch(0) is { } batch)
                            {
                                Assert.InRange(batch.Inputs.Length, 1, single ? 1 : c.MaxBatch);
                                Assert.Equal(batch.Inputs.OrderBy(i => i.StartUs).ToArray(), batch.Inputs); // no reordering within a batch
                            }
                            break;
                        case Op.Succeed:
                            if (q.InFlight is { } done) foreach (var i in q.Complete(done.Id)!) End(i, "encoded");
                            break;
                        case Op.FailBatch:
                            if (q.Fail() is { } failure)
                            {
                                foreach (var i in failure.Quarantined) End(i, "quarantined");
                                foreach (var i in failure.Shed) End(i, "shed");
                            }
                            break;
                        case Op.ShedAll:
                            var waiting = q.Pending.ToArray();
                            Assert.Equal(waiting.Length, q.ShedAll());
                            foreach (var i in waiting) End(i, "shed");
                            break;
                        case Op.DropInFlight:
                            var inFlight = q.InFlight?.Inputs ?? [];
                            Assert.Equal(inFlight.Length, q.DropInFlight());
                            foreach (var i in inFlight) End(i, "shed");
                            break;
                    }
                    Assert.InRange(q.Pending.Count, 0, c.MaxPending);
                    Assert.InRange(q.SingleMode, 0, q.Pending.Count);
                    // Whatever has not ended yet is still held, exactly once.
                    var held = q.Pending.Concat(q.InFlight?.Inputs ?? []).Select(i => i.StartUs).ToList();
                    Assert.Equal(held.Count, held.Distinct().Count());
                    Assert.Equal(fates.Where(f => f.Value.Count == 0).Select(f => f.Key).Order(), held.Order());
                }
                // The encoder recovers: everything still held is encoded, the batch in flight first.
                if (q.InFlight is { } open) foreach (var i in q.Complete(open.Id)!) End(i, "encoded");
                while (q.TakeBatch(0) is { } last) foreach (var i in q.Complete(last.Id)!) End(i, "encoded");
                Assert.True(q.IsEmpty);
                Assert.All(fates.Values, f => Assert.Single(f));
                return true;
            });

    [Property(MaxTest = 200)]
    public Property A_poison_input_is_quarantined_after_max_failures_and_the_good_ones_come_through() =>
        Prop.ForAll(
            Arb.From(from n in Gen.Choose(1, 40)
                     from poisonAt in Gen.Choose(-1, n - 1)
                     from maxBatch in Gen.Choose(1, 8)
                     from arrivals in Gen.ArrayOf(Gen.Choose(0, 3), n)
                     select (N: n, PoisonAt: (long)poisonAt, MaxBatch: maxBatch, Arrivals: arrivals)),
            c =>
            {
                // A cap no burst reaches: nothing is shed, so every input's fate is the encoder's.
                var q = new EncoderQueue(1000, OverflowPolicy.DropOldest, c.MaxBatch);
                var failures = new Dictionary<long, int>();
                var encoded = new List<long>();
                var quarantined = new List<long>();
                var next = 0;
                while (next < c.N || !q.IsEmpty)
                {
                    // Inputs keep arriving between batches, a few at a time.
                    for (var k = 0; k <= c.Arrivals[Math.Min(next, c.N - 1)] && next < c.N; k++) q.Enqueue(In(next++));
                    if (q.TakeBatch(0) is not { } batch) continue;
                    if (batch.Inputs.Any(i => i.FirstSeq == c.PoisonAt))
                    {
                        foreach (var i in batch.Inputs) failures[i.FirstSeq] = failures.GetValueOrDefault(i.FirstSeq) + 1;
                        quarantined.AddRange(q.Fail()!.Quarantined.Select(i => i.FirstSeq));
                    }
                    else encoded.AddRange(q.Complete(batch.Id)!.Select(i => i.FirstSeq));
                }
                var good = Enumerable.Range(0, c.N).Select(i => (long)i).Where(i => i != c.PoisonAt).ToList();
                Assert.Equal(good, encoded.Order());
                if (c.PoisonAt >= 0)
                {
                    Assert.Equal([c.PoisonAt], quarantined);
                    Assert.Equal(q.MaxFailures, failures[c.PoisonAt]);
                }
                else Assert.Empty(quarantined);
                // A good input is blamed at most once: after a failed batch it is retried alone.
                Assert.All(good, e => Assert.InRange(failures.GetValueOrDefault(e), 0, 1));
                return true;
            });
}
