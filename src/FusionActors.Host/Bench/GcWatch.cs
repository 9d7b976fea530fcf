namespace FusionActors.Host.Bench;

/// <summary>What the GC did during one measurement: allocations, collections per generation and pause time.</summary>
public sealed record GcStats(long AllocatedBytes, int Gen0, int Gen1, int Gen2, double PauseMs)
{
    public static GcWatch Start() => new();

    public double AllocatedPer(long items) => items == 0 ? 0 : (double)AllocatedBytes / items;
}

public sealed class GcWatch
{
    private readonly long _allocated = GC.GetTotalAllocatedBytes(precise: false);
    private readonly int _g0 = GC.CollectionCount(0), _g1 = GC.CollectionCount(1), _g2 = GC.CollectionCount(2);
    private readonly TimeSpan _pause = GC.GetTotalPauseDuration();

    public GcStats Stop() => new(GC.GetTotalAllocatedBytes(precise: false) - _allocated, GC.CollectionCount(0) - _g0,
        GC.CollectionCount(1) - _g1, GC.CollectionCount(2) - _g2, (GC.GetTotalPauseDuration() - _pause).TotalMilliseconds);
}
