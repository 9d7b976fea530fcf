namespace FusionActors.Core.Supervision;

/// <summary>
/// Exponential backoff with jitter for encoder restarts (min 100 ms, max 10 s),
/// and a restart budget: more than <see cref="MaxRestarts"/> restarts within <see cref="Within"/> spends it.
/// </summary>
public sealed record BackoffPolicy
{
    public TimeSpan Min { get; init; } = TimeSpan.FromMilliseconds(100);
    public TimeSpan Max { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Relative jitter: the delay is multiplied by a factor in [1, 1 + jitter).</summary>
    public double Jitter { get; init; } = 0.2;

    public int MaxRestarts { get; init; } = 10;
    public TimeSpan Within { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// An encoder batch not answered within this long counts as a failure, as a crash would: the stream goes
    /// Restarting, the batch is retried input by input (and quarantined if it keeps stalling), and windows close
    /// without the stream meanwhile. Default 10 s.
    /// </summary>
    public TimeSpan EncodeDeadline { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a Failed stream waits before a new frame may revive it. Default 30 s.</summary>
    public TimeSpan FailedCooldown { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Delay before restart attempt number <paramref name="attempt"/> (0-based) given a uniform sample u in [0,1).</summary>
    public TimeSpan Delay(int attempt, double u)
    {
        var baseMs = Min.TotalMilliseconds * Math.Pow(2, Math.Min(attempt, 30));
        var ms = Math.Min(Max.TotalMilliseconds, baseMs) * (1 + Jitter * u);
        return TimeSpan.FromMilliseconds(Math.Min(ms, Max.TotalMilliseconds * (1 + Jitter)));
    }
}

/// <summary>Counts restarts in a sliding window of processing time; no clock of its own.</summary>
public sealed class RestartBudget(BackoffPolicy policy)
{
    private readonly Queue<DateTimeOffset> _restarts = new();

    /// <summary>Consecutive failures since the last success (drives the backoff exponent).</summary>
    public int Consecutive { get; private set; }

    public int Total { get; private set; }

    /// <summary>Records a failure at <paramref name="now"/>; returns false when the budget is spent.</summary>
    public bool TryRestart(DateTimeOffset now)
    {
        while (_restarts.Count > 0 && now - _restarts.Peek() > policy.Within) _restarts.Dequeue();
        _restarts.Enqueue(now);
        Consecutive++;
        Total++;
        return _restarts.Count <= policy.MaxRestarts;
    }

    public void OnSuccess() => Consecutive = 0;

    public void Reset()
    {
        _restarts.Clear();
        Consecutive = 0;
    }
}
