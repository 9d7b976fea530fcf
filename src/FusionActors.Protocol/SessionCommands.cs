using Akka.Actor;
using FusionActors.Protocol;
using FusionActors.Specs;

namespace FusionActors.Protocol;

// Commands a client or operator sends to a session. They cross the wire, so they live here, together.

/// <summary>Opens a session. <see cref="ClientNowUs"/> is the session clock at send time (clock offset estimate).</summary>
public sealed record OpenSession(SessionSpec Spec, long ClientNowUs, string? Token = null) : IWithSessionId
{
    public string SessionId => Spec.SessionId;
}

/// <param name="Frames">
/// The session's own frame endpoint. Frames may go straight to it instead of through the shard region
/// (the data path of DESIGN §8 does not route frames through the region); a client that does so must
/// watch it and, when it terminates (passivation, rebalance, failover), send through the region again.
/// </param>
public sealed record SessionOpened(string SessionId, IReadOnlyList<string> Streams, long ClockOffsetUs, IActorRef? Frames = null) : IWithSessionId;

public sealed record CloseSession(string SessionId) : IWithSessionId;

public sealed record SessionClosed(string SessionId) : IWithSessionId;

/// <summary>Results, state changes and late evidence of the session go to <see cref="Subscriber"/> until it stops.</summary>
public sealed record Subscribe(string SessionId, IActorRef Subscriber) : IWithSessionId;

public sealed record Unsubscribe(string SessionId, IActorRef Subscriber) : IWithSessionId;

public sealed record Subscribed(string SessionId) : IWithSessionId;

/// <summary>Changes the fusion policy of a running session.</summary>
public sealed record SetFusionPolicy(string SessionId, FusionPolicy Policy) : IWithSessionId;

public sealed record GetSessionStatus(string SessionId) : IWithSessionId;

/// <summary>An operator revives a Failed stream (resets its restart budget).</summary>
public sealed record RestartStream(string SessionId, string StreamId) : IWithSessionId;

/// <summary>An operator takes a stream out of the fusion: it is Failed ("disabled") and its frames are refused until enabled.</summary>
public sealed record DisableStream(string SessionId, string StreamId) : IWithSessionId;

/// <summary>An operator puts a disabled (or Failed) stream back: its encoder restarts and it becomes Active.</summary>
public sealed record EnableStream(string SessionId, string StreamId) : IWithSessionId;
