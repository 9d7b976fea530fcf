using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;

namespace FusionActors.Metrics;

/// <summary>
/// Totals of the FusionActors instruments since this listener started, for <c>fusionctl metrics</c>:
/// sums of counters, count/mean/max of histograms, last value of gauges, per tag combination.
/// The meter is process-wide, so a process hosting several nodes (tests) sees their sum.
/// </summary>
public sealed class MetricTotals : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<Key, Total> _totals = new();

    public MetricTotals()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == FusionMetrics.MeterName) listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Record(i, v, tags));
        _listener.Start();
    }

    public sealed record Row(string Instrument, string Kind, string Tags, double Value, long Count, double Max, string? Unit);

    public IReadOnlyList<Row> Snapshot() => _totals
        .Select(kv =>
        {
            lock (kv.Value)
            {
                var t = kv.Value;
                var value = t.Kind == "histogram" ? (t.Count == 0 ? 0 : t.Sum / t.Count) : t.Kind == "gauge" ? t.Last : t.Sum;
                return new Row(kv.Key.Instrument.Name, t.Kind, kv.Key.Tags, value, t.Count, t.Max, kv.Key.Instrument.Unit);
            }
        })
        .OrderBy(r => r.Instrument, StringComparer.Ordinal).ThenBy(r => r.Tags, StringComparer.Ordinal)
        .ToArray();

    /// <summary>The sum of a counter over all its tag combinations (0 when nothing was recorded).</summary>
    public double Sum(string instrument) => Snapshot().Where(r => r.Instrument == instrument).Sum(r => r.Value);

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var key = new Key(instrument, Format(tags));
        var total = _totals.GetOrAdd(key, static k => new Total(KindOf(k.Instrument)));
        lock (total)
        {
            total.Count++;
            total.Sum += value;
            total.Last = value;
            total.Max = total.Count == 1 ? value : Math.Max(total.Max, value);
        }
    }

    private static string Format(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.Length == 0) return "";
        if (tags.Length == 1) return $"{tags[0].Key}={Convert.ToString(tags[0].Value, CultureInfo.InvariantCulture)}";
        var parts = new string[tags.Length];
        for (var i = 0; i < tags.Length; i++) parts[i] = $"{tags[i].Key}={Convert.ToString(tags[i].Value, CultureInfo.InvariantCulture)}";
        Array.Sort(parts, StringComparer.Ordinal);
        return string.Join(',', parts);
    }

    private static string KindOf(Instrument instrument) => instrument switch
    {
        Histogram<double> => "histogram",
        Gauge<double> => "gauge",
        UpDownCounter<long> => "updown",
        _ => "counter",
    };

    public void Dispose() => _listener.Dispose();

    private readonly record struct Key(Instrument Instrument, string Tags);

    private sealed class Total(string kind)
    {
        public string Kind { get; } = kind;
        public long Count;
        public double Sum, Last, Max;
    }
}
