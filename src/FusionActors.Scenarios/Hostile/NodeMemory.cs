using System.Globalization;
using System.Text.RegularExpressions;

namespace FusionActors.Scenarios.Hostile;

/// <summary>
/// Reads a node's memory from outside, as an operator's scraper would: the .NET runtime's own metrics on the node's
/// Prometheus endpoint (managed heap after the last collection, by generation; process working set).
/// </summary>
public sealed partial class NodeMemory(int prometheusPort) : IDisposable
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };

    public sealed record Sample(double Seconds, long HeapBytes, long WorkingSetBytes);

    /// <summary>One reading; null when the endpoint did not answer or lacks the runtime's metrics.</summary>
    public async Task<Sample?> ReadAsync(double seconds, CancellationToken cancel)
    {
        string text;
        try
        {
            text = await _http.GetStringAsync($"http://127.0.0.1:{prometheusPort}/metrics", cancel);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
        long heap = 0;
        var any = false;
        foreach (Match m in HeapLine().Matches(text))
        {
            heap += (long)double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            any = true;
        }
        var ws = WorkingSetLine().Match(text);
        if (!any || !ws.Success) return null;
        return new Sample(seconds, heap, (long)double.Parse(ws.Groups[1].Value, CultureInfo.InvariantCulture));
    }

    /// <summary>Least-squares slope of <paramref name="value"/> over time, in units per minute.</summary>
    public static double SlopePerMinute(IReadOnlyList<Sample> samples, Func<Sample, double> value)
    {
        if (samples.Count < 2) return double.NaN;
        var mt = samples.Average(s => s.Seconds);
        var mv = samples.Average(value);
        var num = samples.Sum(s => (s.Seconds - mt) * (value(s) - mv));
        var den = samples.Sum(s => (s.Seconds - mt) * (s.Seconds - mt));
        return den == 0 ? double.NaN : num / den * 60;
    }

    public void Dispose() => _http.Dispose();

    // dotnet.gc.last_collection.heap.size{gc.heap.generation=...} and dotnet.process.memory.working_set, as the
    // Prometheus exporter names them.
    [GeneratedRegex(@"^dotnet_gc_last_collection_heap_size_bytes\{[^}]*\}\s+([0-9.eE+-]+)", RegexOptions.Multiline)]
    private static partial Regex HeapLine();

    [GeneratedRegex(@"^dotnet_process_memory_working_set_bytes(?:\{[^}]*\})?\s+([0-9.eE+-]+)", RegexOptions.Multiline)]
    private static partial Regex WorkingSetLine();
}
