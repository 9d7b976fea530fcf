namespace FusionActors.Core.Supervision;

/// <summary>
/// Counts encoder failures per input (keyed by stream-local start time and revision). An input that failed
/// <see cref="MaxFailures"/> times alone is quarantined: logged, counted, skipped, so one poison frame
/// cannot cause a crash loop.
/// </summary>
public sealed class QuarantineTracker(int maxFailures = 3, int capacity = 1024)
{
    private readonly Dictionary<(long, int), (int Count, long Since)> _failures = new();
    private readonly Queue<((long, int) Key, long Since)> _order = new();
    private long _next;

    public int MaxFailures => maxFailures;

    public int Quarantined { get; private set; }

    /// <summary>Records a failure of the input; returns true when it must now be quarantined.</summary>
    public bool RecordFailure(long startUs, int revision)
    {
        var key = (startUs, revision);
        _failures.TryGetValue(key, out var entry);
        var n = entry.Count + 1;
        var since = n == 1 ? _next++ : entry.Since;
        if (n >= maxFailures)
        {
            _failures.Remove(key);
            Quarantined++;
            return true;
        }
        _failures[key] = (n, since);
        if (n == 1)
        {
            _order.Enqueue((key, since));
            // Bounded: forget the oldest suspects first; an entry left by a quarantined or forgotten input is skipped.
            while (_failures.Count > capacity && _order.TryDequeue(out var old))
                if (_failures.TryGetValue(old.Key, out var e) && e.Since == old.Since) _failures.Remove(old.Key);
            if (_order.Count > 2 * capacity)
            {
                var live = _order.Where(o => _failures.TryGetValue(o.Key, out var e) && e.Since == o.Since).ToList();
                _order.Clear();
                foreach (var o in live) _order.Enqueue(o);
            }
        }
        return false;
    }

    public int FailuresOf(long startUs, int revision) => _failures.GetValueOrDefault((startUs, revision)).Count;

    public void Forget(long startUs, int revision) => _failures.Remove((startUs, revision));
}
