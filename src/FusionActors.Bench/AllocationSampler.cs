using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace FusionActors.Bench;

/// <summary>
/// Where the bytes of a measurement go, by type: the runtime's allocation ticks (one event per about 100 KB
/// allocated, naming the type of the object that crossed the mark), counted while a measurement runs. A sample, not
/// an exact count: a type's share of the ticks estimates its share of the bytes. On with
/// <c>FUSION_BENCH_ALLOCATIONS=1</c>; it prints the top types after each (a) and (c) measurement.
/// </summary>
public sealed class AllocationSampler : EventListener
{
    private const long GcKeyword = 0x1;
    private readonly ConcurrentDictionary<string, long> _bytes = new();
    private volatile bool _counting;

    public static bool Enabled { get; } = Environment.GetEnvironmentVariable("FUSION_BENCH_ALLOCATIONS") == "1";

    /// <summary>The process's sampler when <see cref="Enabled"/>, else null.</summary>
    public static AllocationSampler? Instance { get; } = Enabled ? new AllocationSampler() : null;

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime") EnableEvents(source, EventLevel.Verbose, (EventKeywords)GcKeyword);
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (!_counting || e.EventName is null || !e.EventName.StartsWith("GCAllocationTick", StringComparison.Ordinal) || e.PayloadNames is null) return;
        var type = "?";
        long amount = 0;
        for (var i = 0; i < e.PayloadNames.Count; i++)
        {
            if (e.PayloadNames[i] == "TypeName") type = e.Payload![i] as string ?? "?";
            else if (e.PayloadNames[i] == "AllocationAmount64") amount = Convert.ToInt64(e.Payload![i]);
            else if (e.PayloadNames[i] == "AllocationAmount" && amount == 0) amount = Convert.ToInt64(e.Payload![i]);
        }
        _bytes.AddOrUpdate(type, amount, (_, b) => b + amount);
    }

    /// <summary>A compiler-made type's name (a closure, a state machine) names no outer type: the loaded types it may be in.</summary>
    private static string Within(string type)
    {
        if (!type.StartsWith('<')) return "";
        var outer = AppDomain.CurrentDomain.GetAssemblies()
            .Where(a => a.GetName().Name is { } n && (n.StartsWith("FusionActors", StringComparison.Ordinal) || n.StartsWith("Akka", StringComparison.Ordinal)))
            .SelectMany(a => { try { return a.GetTypes(); } catch (System.Reflection.ReflectionTypeLoadException e) { return e.Types.OfType<Type>().ToArray(); } })
            .Where(t => t.Name == type && t.DeclaringType is not null)
            .Select(t => t.DeclaringType!.FullName)
            .Take(8);
        return " in one of: " + string.Join(", ", outer);
    }

    public void Begin()
    {
        _bytes.Clear();
        _counting = true;
    }

    /// <summary>Stops counting and prints the types with the most sampled bytes, per <paramref name="items"/>.</summary>
    public void End(string what, long items, int top = 25)
    {
        _counting = false;
        var total = _bytes.Values.Sum();
        Console.WriteLine($"    allocation sample of {what}: {total / 1e6:0.0} MB sampled, {(items == 0 ? 0 : (double)total / items):0} B per item");
        foreach (var (type, bytes) in _bytes.OrderByDescending(kv => kv.Value).Take(top))
            Console.WriteLine($"      {(items == 0 ? 0 : (double)bytes / items),7:0.0} B  {100.0 * bytes / Math.Max(1, total),5:0.0} %  {type}{Within(type)}");
    }
}
