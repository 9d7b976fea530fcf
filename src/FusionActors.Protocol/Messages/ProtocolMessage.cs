using System.Reflection;
using System.Text;
using System.Text.Json.Serialization;

namespace FusionActors.Protocol;

/// <summary>
/// A message that may cross a process boundary. An instance rebuilt from bytes by one of the project's
/// serializers is marked <see cref="FromWire"/>; one made in this process is not. Only those serializers set
/// the mark, and no other serializer may build application messages from the wire, so no peer can pass a
/// message off as local. A session authorizes whatever comes from the wire (see <see cref="ICredentialed"/>).
/// </summary>
public abstract record ProtocolMessage
{
    [JsonIgnore]
    public bool FromWire { get; internal set; }

    /// <summary>
    /// The session that authorized this message from the wire admits it to its own actors, which drop anything
    /// from the wire that was not admitted (a peer can address them by path).
    /// </summary>
    public void Admit() => FromWire = false;

    // The mark says where an instance came from, not what it says: it takes no part in equality.
    public virtual bool Equals(ProtocolMessage? other) => other is not null && EqualityContract == other.EqualityContract;

    public override int GetHashCode() => EqualityContract.GetHashCode();

    private static readonly HashSet<string> Secret = ["Token", "Credential", "Capability", "Seal", "Nonce"];

    /// <summary>
    /// Like a record's own, but secrets show as *** : messages end up in logs (dead letters, refusals, exceptions).
    /// Sealed, so no derived record makes its own.
    /// </summary>
    public sealed override string ToString()
    {
        var b = new StringBuilder(GetType().Name).Append(" { ");
        var first = true;
        foreach (var p in GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (p.Name == nameof(FromWire) || p.GetIndexParameters().Length > 0) continue;
            if (!first) b.Append(", ");
            first = false;
            var value = p.GetValue(this);
            b.Append(p.Name).Append(" = ").Append(Secret.Contains(p.Name) && value is not null ? "***" : value);
        }
        return b.Append(" }").ToString();
    }
}

/// <summary>
/// A session operation that must prove its right when it comes from the wire: <see cref="Credential"/> is the
/// session capability (<see cref="SessionOpened.Capability"/>) or, for operator commands, the operator credential.
/// </summary>
public interface ICredentialed : IWithSessionId
{
    string? Credential { get; }
}

/// <summary>
/// What a session sends its own client in the session's name (results, commits, pings, state changes, late evidence):
/// the client takes it only with the seal of the incarnation it opened (<see cref="SessionOpened.Seal"/>).
/// </summary>
public interface ISealed
{
    string? Seal { get; }
}
