using Akka.Actor;

namespace FusionActors.Protocol;

/// <summary>Results, state changes and late evidence of the session go to <see cref="Subscriber"/> until it stops.</summary>
public sealed record Subscribe(string SessionId, IActorRef Subscriber, string? Credential = null) : ProtocolMessage, ICredentialed;

public sealed record Unsubscribe(string SessionId, IActorRef Subscriber, string? Credential = null) : ProtocolMessage, ICredentialed;
