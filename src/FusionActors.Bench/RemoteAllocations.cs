using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace FusionActors.Bench;

/// <summary>
/// Where this process's allocations go, by type: the runtime's allocation sample (an EventPipe <c>GCAllocationTick</c>
/// event about every 100 KB allocated, naming the type of the object that crossed the mark), summed while it listens.
/// A sample stands for the ~100 KB before it, so the shares are estimates, good to a few percent over a run.
/// </summary>
public sealed class RemoteAllocations : EventListener
{
    private const EventKeywords GcKeyword = (EventKeywords)0x1;
    private readonly ConcurrentDictionary<string, long> _bytes = new();
    private volatile bool _on;

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime") EnableEvents(source, EventLevel.Verbose, GcKeyword);
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (!_on || e.EventName is null || !e.EventName.StartsWith("GCAllocationTick", StringComparison.Ordinal) || e.Payload is null) return;
        var type = "?";
        long amount = 0;
        for (var i = 0; i < e.Payload.Count; i++)
            switch (e.PayloadNames![i])
            {
                case "TypeName": type = e.Payload[i] as string ?? "?"; break;
                case "AllocationAmount64": amount = Convert.ToInt64(e.Payload[i]); break;
            }
        _bytes.AddOrUpdate(type, amount, (_, v) => v + amount);
    }

    public void Start()
    {
        _bytes.Clear();
        _on = true;
    }

    /// <summary>The sampled bytes per type, largest first, as bytes per item.</summary>
    public IReadOnlyList<(string Type, double BytesPerItem)> Stop(long items)
    {
        _on = false;
        return _bytes.OrderByDescending(kv => kv.Value).Select(kv => (kv.Key, items == 0 ? 0 : (double)kv.Value / items)).ToArray();
    }
}
