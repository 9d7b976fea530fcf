namespace FusionActors.Supervision;

/// <summary>
/// Counts encoder failures per input (keyed by stream-local start time and revision). An input that failed
/// <see cref="MaxFailures"/> times alone is quarantined: logged, counted, skipped, so one poison frame
/// cannot cause a crash loop.
/// </summary>
public sealed class QuarantineTracker(int maxFailures = 3, int capacity = 1024)
{
    private readonly Dictionary<(long, int), int> _failures = new();
    private readonly Queue<(long, int)> _order = new();

    public int MaxFailures => maxFailures;

    public int Quarantined { get; private set; }

    /// <summary>Records a failure of the input; returns true when it must now be quarantined.</summary>
    public bool RecordFailure(long startUs, int revision)
    {
        var key = (startUs, revision);
        _failures.TryGetValue(key, out var n);
        n++;
        if (n >= maxFailures)
        {
            _failures.Remove(key);
            Quarantined++;
            return true;
        }
        if (n == 1)
        {
            _order.Enqueue(key);
            // Bounded: forget the oldest suspects first.
            while (_order.Count > capacity)
                _failures.Remove(_order.Dequeue());
        }
        _failures[key] = n;
        return false;
    }

    public int FailuresOf(long startUs, int revision) => _failures.GetValueOrDefault((startUs, revision));

    public void Forget(long startUs, int revision) => _failures.Remove((startUs, revision));
}
