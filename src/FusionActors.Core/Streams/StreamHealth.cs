using FusionActors.Protocol;

namespace FusionActors.Core.Streams;

/// <summary>
/// Health of one stream: its state and a reliability score r in [0,1], an exponentially
/// weighted average of encode successes, coverage and on-time arrival. r is 0 while Restarting or Failed.
/// Transitions return whether the state changed, so the actor can log and publish each change once.
/// </summary>
public sealed class StreamHealth(double alpha = 0.1)
{
    private double _score = 1.0;

    public StreamState State { get; private set; } = StreamState.Active;

    public double Reliability => State is StreamState.Restarting or StreamState.Failed ? 0.0 : _score;

    /// <summary>The running score, kept while the encoder restarts so it resumes where it was.</summary>
    public double Score => _score;

    /// <summary>An input was encoded: coverage in [0,1], onTime false when its frames came behind the watermark.</summary>
    public void RecordSuccess(double coverage, bool onTime)
    {
        var sample = Math.Clamp(coverage, 0, 1) * (onTime ? 1.0 : 0.5);
        _score += alpha * (sample - _score);
    }

    /// <summary>An input failed in the encoder.</summary>
    public void RecordFailure() => _score += alpha * (0 - _score);

    /// <summary>A frame arrived: an Idle stream becomes Active again. Failed and Finished need their own transitions.</summary>
    public bool OnActivity() => State == StreamState.Idle && MoveTo(StreamState.Active);

    public bool OnIdle() => State == StreamState.Active && MoveTo(StreamState.Idle);

    public bool OnEncoderDown() => State is StreamState.Active or StreamState.Idle && MoveTo(StreamState.Restarting);

    public bool OnEncoderUp() => State == StreamState.Restarting && MoveTo(StreamState.Active);

    public bool OnBudgetSpent() => State != StreamState.Finished && MoveTo(StreamState.Failed);

    /// <summary>An operator, or a frame after the cooldown, revives a Failed stream.</summary>
    public bool OnRevive() => State == StreamState.Failed && MoveTo(StreamState.Restarting);

    public bool OnFinished() => MoveTo(StreamState.Finished);

    /// <summary>An operator disables a stream: treated as Failed until enabled.</summary>
    public bool OnDisabled() => State != StreamState.Finished && MoveTo(StreamState.Failed);

    private bool MoveTo(StreamState next)
    {
        if (State == next) return false;
        State = next;
        return true;
    }
}
