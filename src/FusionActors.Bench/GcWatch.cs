using System.Diagnostics;

namespace FusionActors.Bench;

/// <summary>
/// What the runtime did during one measurement: allocations, collections per generation, GC pause time, and the
/// share of the machine's cores this process used (other processes on a shared machine take the rest).
/// </summary>
/// <param name="CpuSeconds">CPU time this process used (all threads), a cost measure that outside load on a shared machine barely moves.</param>
public sealed record GcStats(long AllocatedBytes, int Gen0, int Gen1, int Gen2, double PauseMs, double ProcessCpuOfMachine, double CpuSeconds)
{
    /// <summary>CPU microseconds of this process per item.</summary>
    public double CpuUsPer(long items) => items == 0 ? 0 : CpuSeconds * 1e6 / items;

    public static GcWatch Start() => new();

    public double AllocatedPer(long items) => items == 0 ? 0 : (double)AllocatedBytes / items;
}

public sealed class GcWatch
{
    private readonly long _allocated = GC.GetTotalAllocatedBytes(precise: false);
    private readonly int _g0 = GC.CollectionCount(0), _g1 = GC.CollectionCount(1), _g2 = GC.CollectionCount(2);
    private readonly TimeSpan _pause = GC.GetTotalPauseDuration();
    private readonly TimeSpan _cpu = CpuTime();
    private readonly long _started = Stopwatch.GetTimestamp();

    public GcStats Stop()
    {
        var wall = Stopwatch.GetElapsedTime(_started).TotalSeconds;
        var cpu = (CpuTime() - _cpu).TotalSeconds;
        return new(GC.GetTotalAllocatedBytes(precise: false) - _allocated, GC.CollectionCount(0) - _g0,
            GC.CollectionCount(1) - _g1, GC.CollectionCount(2) - _g2, (GC.GetTotalPauseDuration() - _pause).TotalMilliseconds,
            wall > 0 ? cpu / (wall * Environment.ProcessorCount) : 0, cpu);
    }

    private static TimeSpan CpuTime()
    {
        using var p = Process.GetCurrentProcess();
        return p.TotalProcessorTime;
    }
}
