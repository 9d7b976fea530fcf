using System.Security.Cryptography;
using System.Text;
using FusionActors.Runtime.Alignment;
using FusionActors.Runtime.Fusion;
using FusionActors.Runtime.Sessions;
using FusionActors.Runtime.Streams;

namespace FusionActors.Runtime.Gateway;

/// <summary>
/// The tokens clients may present at session open (fusion.security.session-tokens, or FUSION_SESSION_TOKENS,
/// comma-separated). With none configured every open is accepted (a one-node server on loopback); with
/// some, a missing or unknown token is refused. Compared in constant time.
/// </summary>
public sealed class SessionTokens
{
    public static readonly SessionTokens None = new([]);
    private readonly byte[][] _tokens;

    public SessionTokens(IEnumerable<string> tokens) =>
        _tokens = tokens.Where(t => !string.IsNullOrWhiteSpace(t)).Select(t => Encoding.UTF8.GetBytes(t.Trim())).ToArray();

    public bool Required => _tokens.Length > 0;

    public bool Accepts(string? token)
    {
        if (!Required) return true;
        if (token is null) return false;
        var presented = Encoding.UTF8.GetBytes(token);
        var ok = false;
        foreach (var t in _tokens) ok |= CryptographicOperations.FixedTimeEquals(t, presented);
        return ok;
    }
}
