using FusionActors.Protocol.Specs;

namespace FusionActors.Protocol;

/// <summary>An operator changes the fusion policy of a running session.</summary>
public sealed record SetFusionPolicy(string SessionId, FusionPolicy Policy, string? Credential = null) : ProtocolMessage, IOperatorCommand;
