using Akka.Cluster.Sharding;
using FusionActors.Core.Streams;
using FusionActors.Protocol;
using FusionActors.Runtime.Alignment;
using FusionActors.Runtime.Fusion;
using FusionActors.Runtime.Gateway;
using FusionActors.Runtime.Streams;

namespace FusionActors.Runtime.Sessions;

/// <summary>Shards sessions by session id: every message implementing <see cref="IWithSessionId"/> finds its session.</summary>
public sealed class SessionMessageExtractor(int maxShards = 100) : HashCodeMessageExtractor(maxShards)
{
    public override string? EntityId(object message) => message switch
    {
        IWithSessionId { SessionId: { Length: > 0 } id } => id,
        _ => null, // no entity for a message without a session id: the region drops it
    };
}
