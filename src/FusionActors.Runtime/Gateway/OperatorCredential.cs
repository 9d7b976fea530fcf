using System.Security.Cryptography;
using System.Text;
using FusionActors.Core.Streams;
using FusionActors.Protocol;
using FusionActors.Runtime.Alignment;
using FusionActors.Runtime.Fusion;
using FusionActors.Runtime.Sessions;
using FusionActors.Runtime.Streams;

namespace FusionActors.Runtime.Gateway;

/// <summary>
/// What lets an operator command from the wire into a session (the console of one node acting on a session that
/// lives on another). Derived from the console token, which every node of a cluster shares, so a node can check
/// it without asking anyone, and the token itself never travels between nodes. With no console token each
/// process has its own random one: commands then work only on the node whose console took them.
/// </summary>
public sealed class OperatorCredential
{
    private static readonly OperatorCredential Unshared = new(Secrets.New());

    private OperatorCredential(string value) => Value = value;

    /// <summary>What operator commands carry as their <see cref="ICredentialed.Credential"/>.</summary>
    public string Value { get; }

    public static OperatorCredential For(string? consoleToken) =>
        string.IsNullOrEmpty(consoleToken)
            ? Unshared
            : new OperatorCredential(Convert.ToBase64String(
                HMACSHA256.HashData(Encoding.UTF8.GetBytes(consoleToken), "FusionActors operator credential v1"u8)));

    public bool Accepts(string? presented) => Secrets.Equal(presented, Value);
}
