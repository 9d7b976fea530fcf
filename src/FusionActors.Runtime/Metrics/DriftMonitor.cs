namespace FusionActors.Runtime.Metrics;

/// <summary>
/// Input drift of a node's streams (<c>Fusion:Drift</c>; docs/configuration.md): each stream keeps the mean drift of
/// its last <see cref="Window"/> scored inputs and raises an alert when it goes over <see cref="AlertThreshold"/>.
/// </summary>
public sealed record DriftOptions
{
    public const int MaxWindow = FusionActors.Protocol.StreamDrift.MaxWindow;

    /// <summary>Scored inputs the "input drift" of a stream averages over. Default 50.</summary>
    public int Window { get; init; } = 50;

    /// <summary>
    /// Mean drift over the window above which the stream alerts (drift 1 = the validation split's 95th percentile).
    /// Default 1.0: the window's inputs are on average as atypical as the least typical 5 % of the validation split.
    /// </summary>
    public double AlertThreshold { get; init; } = 1.0;

    /// <summary>An alert clears when the mean falls below this fraction of the threshold, so a mean hovering at the threshold alerts once.</summary>
    public const double ClearFraction = 0.8;

    /// <summary>Inputs a window needs before it may alert: the whole window, or 10 when the window is longer.</summary>
    public int MinInputs => Math.Min(Window, 10);

    public IEnumerable<string> Problems()
    {
        if (Window is < 1 or > MaxWindow) yield return $"Fusion:Drift:Window (fusion.drift.window) must be 1..{MaxWindow}, not {Window}";
        if (!(AlertThreshold > 0) || !double.IsFinite(AlertThreshold))
            yield return $"Fusion:Drift:AlertThreshold (fusion.drift.alert-threshold) must be a positive number, not {AlertThreshold}";
    }
}

/// <summary>What one scored input did to a stream's drift alert.</summary>
public enum DriftCrossing
{
    None,
    /// <summary>The window's mean went over the threshold: alert (once per crossing).</summary>
    Raised,
    /// <summary>The window's mean fell below <see cref="DriftOptions.ClearFraction"/> × the threshold: the alert is over.</summary>
    Cleared,
}

/// <summary>
/// The sliding window of one stream's drift scores: mean of the last <see cref="DriftOptions.Window"/> scored inputs,
/// and an alert with hysteresis. Unscored inputs (NaN) are not counted. Not thread-safe: one per stream actor.
/// </summary>
public sealed class DriftMonitor
{
    private readonly DriftOptions _options;
    private double[]? _ring; // made on the first score: a stream that never encoded (an idle session's) does not carry it
    private int _next, _count;
    private double _sum;

    public DriftMonitor(DriftOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Problems().FirstOrDefault() is { } problem) throw new ArgumentException(problem, nameof(options));
        _options = options;
    }

    /// <summary>Drift of the newest scored input; NaN before the first.</summary>
    public double Last { get; private set; } = double.NaN;

    /// <summary>Mean drift of the scored inputs in the window; NaN when there are none.</summary>
    public double Mean => _count == 0 ? double.NaN : _sum / _count;

    /// <summary>Scored inputs in the window.</summary>
    public int Count => _count;

    /// <summary>Scored inputs ever.</summary>
    public long Scored { get; private set; }

    public bool Alerting { get; private set; }

    /// <summary>Alerts raised ever.</summary>
    public long Alerts { get; private set; }

    public DriftCrossing Add(double drift)
    {
        if (!double.IsFinite(drift) || drift < 0) return DriftCrossing.None;
        Scored++;
        Last = drift;
        _ring ??= new double[_options.Window];
        if (_count == _ring.Length) _sum -= _ring[_next];
        else _count++;
        _ring[_next] = drift;
        _next = (_next + 1) % _ring.Length;
        _sum += drift;
        // Recomputed now and then: a running sum of doubles drifts by rounding over millions of inputs.
        if (_next == 0)
        {
            _sum = 0;
            for (var i = 0; i < _count; i++) _sum += _ring[i];
        }
        var mean = Mean;
        if (!Alerting && _count >= _options.MinInputs && mean > _options.AlertThreshold)
        {
            Alerting = true;
            Alerts++;
            return DriftCrossing.Raised;
        }
        if (Alerting && mean < _options.AlertThreshold * DriftOptions.ClearFraction)
        {
            Alerting = false;
            return DriftCrossing.Cleared;
        }
        return DriftCrossing.None;
    }
}
