using FusionActors.Core.Streams;

namespace FusionActors.Core.Tests;

public class DequeSpec
{
    [Fact]
    public void Items_added_at_both_ends_come_out_in_order_across_the_ring_buffer_wrapping_and_growing()
    {
        var d = new Deque<int>();
        var model = new LinkedList<int>();
        var rng = new Random(7);
        for (var step = 0; step < 10_000; step++)
        {
            switch (rng.Next(5))
            {
                case 0 or 1:
                    d.AddLast(step);
                    model.AddLast(step);
                    break;
                case 2:
                    d.AddFirst(step);
                    model.AddFirst(step);
                    break;
                case 3 when model.Count > 0:
                    Assert.Equal(model.First!.Value, d.RemoveFirst());
                    model.RemoveFirst();
                    break;
                case 4 when model.Count > 0:
                    Assert.Equal(model.Last!.Value, d.RemoveLast());
                    model.RemoveLast();
                    break;
            }
            if (step % 1_000 == 999)
            {
                d.Clear();
                model.Clear();
            }
            Assert.Equal(model.Count, d.Count);
            if (step % 97 == 0) Assert.Equal(model, d);
        }
    }

    [Fact]
    public void An_empty_deque_has_no_first_or_last()
    {
        var d = new Deque<string>();
        Assert.Throws<InvalidOperationException>(() => d.RemoveFirst());
        Assert.Throws<InvalidOperationException>(() => d.RemoveLast());
        d.AddFirst("a");
        Assert.Equal(("a", "a"), (d.First, d.Last));
        d.Clear();
        Assert.Empty(d);
    }
}
