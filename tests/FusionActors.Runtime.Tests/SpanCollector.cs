using System.Collections;
using System.Diagnostics;

namespace FusionActors.Runtime.Tests;

/// <summary>
/// Where the in-memory exporter puts the spans it is handed: a locked list, since spans end on many threads (actors,
/// the batcher's threads) while a spec reads them. The tracer provider is process-wide: specs filter by their session.
/// </summary>
public sealed class SpanCollector : ICollection<Activity>
{
    private readonly List<Activity> _spans = [];

    public Activity[] Snapshot()
    {
        lock (_spans) return [.. _spans];
    }

    public int Count
    {
        get { lock (_spans) return _spans.Count; }
    }

    public bool IsReadOnly => false;

    public void Add(Activity item)
    {
        lock (_spans) _spans.Add(item);
    }

    public void Clear()
    {
        lock (_spans) _spans.Clear();
    }

    public bool Contains(Activity item)
    {
        lock (_spans) return _spans.Contains(item);
    }

    public void CopyTo(Activity[] array, int arrayIndex)
    {
        lock (_spans) _spans.CopyTo(array, arrayIndex);
    }

    public bool Remove(Activity item)
    {
        lock (_spans) return _spans.Remove(item);
    }

    public IEnumerator<Activity> GetEnumerator() => ((IEnumerable<Activity>)Snapshot()).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>The spans of session <paramref name="session"/> (by the fusion.session tag) named <paramref name="name"/>.</summary>
    public Activity[] Of(string session, string name) =>
        Snapshot().Where(a => a.OperationName == name && Equals(a.GetTagItem("fusion.session"), session)).ToArray();
}
