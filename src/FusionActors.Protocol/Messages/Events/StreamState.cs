namespace FusionActors.Protocol;

/// <summary>Health states of a stream.</summary>
public enum StreamState
{
    Active,
    Idle,
    /// <summary>The encoder is being restarted after a failure.</summary>
    Restarting,
    /// <summary>The restart budget is spent; needs an operator or a new frame after the cooldown.</summary>
    Failed,
    Finished,
}
