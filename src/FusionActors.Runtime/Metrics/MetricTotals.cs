using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;

namespace FusionActors.Runtime.Metrics;

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
            if (instrument.Meter.Name == FusionMetrics.MeterName) listener.EnableMeasurementEvents(instrument, new KnownTags());
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, state) => Record(i, v, tags, state));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, state) => Record(i, v, tags, state));
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
                return new Row(kv.Key.Instrument.Name, t.Kind, kv.Key.Tags.ToString(), value, t.Count, t.Max, kv.Key.Instrument.Unit);
            }
        })
        .OrderBy(r => r.Instrument, StringComparer.Ordinal).ThenBy(r => r.Tags, StringComparer.Ordinal)
        .ToArray();

    /// <summary>The sum of a counter over all its tag combinations (0 when nothing was recorded).</summary>
    public double Sum(string instrument) => Snapshot().Where(r => r.Instrument == instrument).Sum(r => r.Value);

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        // Measurements come on the hot path (one per frame): the key is a struct over the tag values, no string,
        // and the instrument's few tag combinations are found by comparing references before any hashing.
        var tagSet = new TagSet(tags);
        var known = state as KnownTags;
        var total = known?.Find(tagSet);
        if (total is null)
        {
            total = _totals.GetOrAdd(new Key(instrument, tagSet), static k => new Total(KindOf(k.Instrument)));
            known?.Add(tagSet, total);
        }
        lock (total)
        {
            total.Count++;
            total.Sum += value;
            total.Last = value;
            total.Max = total.Count == 1 ? value : Math.Max(total.Max, value);
        }
    }

    private static string KindOf(Instrument instrument) => instrument switch
    {
        Histogram<double> or Histogram<long> => "histogram",
        Gauge<double> => "gauge",
        UpDownCounter<long> => "updown",
        _ => "counter",
    };

    public void Dispose() => _listener.Dispose();

    private readonly record struct Key(Instrument Instrument, TagSet Tags);

    /// <summary>Up to three tags by value (FusionMetrics uses at most two); more are folded into a string.</summary>
    private readonly record struct TagSet
    {
        private readonly KeyValuePair<string, object?> _a, _b, _c;
        private readonly string? _rest;

        public TagSet(ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            if (tags.Length > 0) _a = tags[0];
            if (tags.Length > 1) _b = tags[1];
            if (tags.Length > 2) _c = tags[2];
            if (tags.Length > 3)
            {
                var rest = new string[tags.Length - 3];
                for (var i = 3; i < tags.Length; i++) rest[i - 3] = $"{tags[i].Key}={tags[i].Value}";
                _rest = string.Join(',', rest);
            }
        }

        // KeyValuePair has no equality of its own (ValueType.Equals would reflect and box): compare by hand.
        public bool Equals(TagSet other) => Same(_a, other._a) && Same(_b, other._b) && Same(_c, other._c) && _rest == other._rest;

        public override int GetHashCode() => HashCode.Combine(_a.Key, _a.Value, _b.Key, _b.Value, _c.Key, _c.Value, _rest);

        private static bool Same(KeyValuePair<string, object?> x, KeyValuePair<string, object?> y) =>
            string.Equals(x.Key, y.Key, StringComparison.Ordinal) && Equals(x.Value, y.Value);

        public override string ToString()
        {
            var parts = new List<string>(4);
            foreach (var t in new[] { _a, _b, _c })
                if (t.Key is not null) parts.Add($"{t.Key}={Convert.ToString(t.Value, CultureInfo.InvariantCulture)}");
            if (_rest is not null) parts.AddRange(_rest.Split(','));
            parts.Sort(StringComparer.Ordinal);
            return string.Join(',', parts);
        }
    }

    /// <summary>
    /// An instrument's tag combinations seen so far (up to a few), with their totals: a linear scan whose tag
    /// values are mostly the same string instances, cheaper than hashing them. Copy-on-write, read without a lock.
    /// </summary>
    private sealed class KnownTags
    {
        private const int Capacity = 16;
        private volatile (TagSet Tags, Total Total)[] _entries = [];

        public Total? Find(in TagSet tags)
        {
            foreach (var (t, total) in _entries)
                if (t.Equals(tags)) return total;
            return null;
        }

        public void Add(in TagSet tags, Total total)
        {
            lock (this)
            {
                var entries = _entries;
                if (entries.Length >= Capacity) return;
                foreach (var (t, _) in entries)
                    if (t.Equals(tags)) return;
                _entries = [.. entries, (tags, total)];
            }
        }
    }

    private sealed class Total(string kind)
    {
        public string Kind { get; } = kind;
        public long Count;
        public double Sum, Last, Max;
    }
}
