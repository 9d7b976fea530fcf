namespace FusionActors.Protocol;

/// <summary>Asks a node's gateway for the cluster's members.</summary>
public sealed record GetClusterMembers : ProtocolMessage
{
    public static readonly GetClusterMembers Instance = new();
}

/// <summary>Addresses of the members that are up, and of those the answering node cannot reach.</summary>
public sealed record ClusterMembers(string[] Up, string[] Unreachable) : ProtocolMessage;
