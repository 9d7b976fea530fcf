namespace FusionActors.Protocol;

/// <summary>Carries the sharding key: every message addressed to a session implements it.</summary>
public interface IWithSessionId
{
    string SessionId { get; }
}
