using FusionActors.Core.Streams;
using FusionActors.Protocol;

namespace FusionActors.Core.Supervision;

/// <summary>
/// The health of a stream as its encoder fails and restarts: the <see cref="StreamHealth"/> transitions, the restart
/// budget and backoff, the Failed cooldown and an operator's disabling. Each transition returns the reason to report
/// when the state changed (null when it did not), so the actor logs and publishes each change once. No clock: wall
/// time (the restart budget's window), monotonic time (the cooldown) and the jitter sample come in as arguments.
/// </summary>
public sealed class EncoderSupervision(BackoffPolicy backoff)
{
    private readonly RestartBudget _budget = new(backoff);
    private long _failedAtMs;

    public StreamHealth Health { get; } = new();

    public StreamState State => Health.State;

    /// <summary>An operator disabled the stream: it stays Failed until enabled.</summary>
    public bool Disabled { get; set; }

    /// <summary>Nothing will wait for the stream's encoder: it is Failed, Finished or disabled.</summary>
    public bool NothingWillWait => State is StreamState.Failed or StreamState.Finished || Disabled;

    /// <summary>The stream's encoder is down and must not be started by new inputs (it restarts on its timer).</summary>
    public bool EncoderHeldDown => State is StreamState.Restarting or StreamState.Failed;

    /// <summary>A frame or heartbeat came: an Idle stream is Active again.</summary>
    public string? OnActivity() => Health.OnActivity() ? "a frame arrived" : null;

    /// <summary>Whether activity at <paramref name="nowMs"/> revives a Failed stream: its cooldown has passed.</summary>
    public bool MayRevive(long nowMs) => State == StreamState.Failed && nowMs - _failedAtMs >= (long)backoff.FailedCooldown.TotalMilliseconds;

    /// <summary>The inputs of a batch were encoded.</summary>
    public void OnEncoded(IReadOnlyList<EncoderInput> batch)
    {
        // Not foreach: through the interface its enumerator is an allocation per batch.
        for (var i = 0; i < batch.Count; i++) Health.RecordSuccess(batch[i].Coverage, batch[i].Revision == 0);
        _budget.OnSuccess();
    }

    /// <summary>
    /// The encoder failed at <paramref name="wallNowUs"/>. Within the budget: the delay before its restart (jitter
    /// sample <paramref name="u"/> in [0, 1)) and the reason if the stream went Restarting. Past it: no delay; the
    /// caller fails the stream with <paramref name="spentReason"/>.
    /// </summary>
    public TimeSpan? OnEncoderFailed(long wallNowUs, double u, out string? reason, out string spentReason)
    {
        Health.RecordFailure();
        spentReason = $"restart budget spent ({backoff.MaxRestarts} restarts within {backoff.Within})";
        reason = null;
        if (!_budget.TryRestart(DateTimeOffset.UnixEpoch.AddTicks(wallNowUs * 10))) return null;
        var delay = backoff.Delay(_budget.Consecutive - 1, u);
        if (Health.OnEncoderDown()) reason = $"encoder failed; restart in {delay.TotalMilliseconds:0} ms";
        return delay;
    }

    /// <summary>
    /// Whether a restart timer may start the encoder now: the stream is still Restarting, or it was closed by its
    /// client after the encoder went down (a Finished stream still encodes the inputs it holds, or its session never
    /// commits them).
    /// </summary>
    public bool MayRestart => State is StreamState.Restarting or StreamState.Finished;

    public string? OnEncoderUp() => Health.OnEncoderUp() ? "encoder restarted" : null;

    /// <summary>The stream goes Failed at <paramref name="nowMs"/> for <paramref name="reason"/>.</summary>
    public string? Fail(long nowMs, string reason)
    {
        _failedAtMs = nowMs;
        return Health.OnBudgetSpent() ? reason : null;
    }

    /// <summary>
    /// Revives a Failed stream not disabled (a fresh budget; the encoder restarts after <see cref="BackoffPolicy.Min"/>).
    /// False when there is nothing to revive; <paramref name="report"/> is the reason if the state changed.
    /// </summary>
    public bool Revive(string reason, out string? report)
    {
        report = null;
        if (State != StreamState.Failed || Disabled) return false;
        _budget.Reset();
        if (Health.OnRevive()) report = reason;
        return true;
    }

    public TimeSpan ReviveDelay => backoff.Min;

    public string? OnIdle(long silentMs) => Health.OnIdle() ? $"no frame or heartbeat for {silentMs} ms" : null;

    public string? OnFinished() => Health.OnFinished() ? "closed by the client" : null;
}
