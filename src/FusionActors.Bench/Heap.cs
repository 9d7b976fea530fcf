namespace FusionActors.Bench;

/// <summary>The managed heap as the memory benchmarks weigh it: settled by full blocking collections, after it stops moving.</summary>
internal static class Heap
{
    /// <summary>Waits (up to 10 s, in 0.5 s steps) until two settled readings differ by at most 0.5 %: actors stopped a moment ago are gone.</summary>
    public static async Task QuietAsync(CancellationToken cancel)
    {
        var last = Settle();
        for (var i = 0; i < 20; i++)
        {
            await Task.Delay(500, cancel);
            var now = Settle();
            if (Math.Abs(now - last) <= last / 200) return;
            last = now;
        }
    }

    /// <summary>Three full compacting collections with the finalizers run between them, then the bytes in use.</summary>
    public static long Settle()
    {
        for (var i = 0; i < 3; i++)
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
        }
        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
