using Akka.Cluster.Sharding;
using FusionActors.Protocol;

namespace FusionActors.Actors;

/// <summary>Shards sessions by session id: every message implementing <see cref="IWithSessionId"/> finds its session.</summary>
public sealed class SessionMessageExtractor(int maxShards = 100) : HashCodeMessageExtractor(maxShards)
{
    public override string? EntityId(object message) => message switch
    {
        IWithSessionId { SessionId: { Length: > 0 } id } => id,
        _ => null, // no entity for a message without a session id: the region drops it
    };
}
