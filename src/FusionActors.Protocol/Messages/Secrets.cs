using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace FusionActors.Protocol;

/// <summary>The secrets sessions and clients exchange: capabilities, seals and nonces.</summary>
public static class Secrets
{
    /// <summary>Shortest and longest secret taken from a peer (a new one is 43 characters).</summary>
    public const int MinLength = 22, MaxLength = 128;

    /// <summary>256 random bits, URL-safe base64 without padding.</summary>
    public static string New() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>
    /// Whether <paramref name="presented"/> is <paramref name="expected"/>, in time that does not depend on where they
    /// differ. Something too short to be a secret (an empty string) equals nothing.
    /// </summary>
    public static bool Equal(string? presented, string? expected) =>
        presented is { Length: >= MinLength } && expected is { Length: >= MinLength } &&
        CryptographicOperations.FixedTimeEquals(MemoryMarshal.AsBytes(presented.AsSpan()), MemoryMarshal.AsBytes(expected.AsSpan()));

    /// <summary>A secret of a peer's that is long enough to be one, and short enough to keep.</summary>
    public static bool Plausible(string? s) => s is { Length: >= MinLength and <= MaxLength };
}
