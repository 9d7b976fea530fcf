using FusionActors.Runtime.Gateway;

namespace FusionActors.Runtime.Dashboard;

/// <summary>
/// Who may read the dashboard: whoever presents the node's operator token (the console token, <c>Fusion:Console:Token</c>).
/// The presented token is turned into an <see cref="OperatorCredential"/> the way every node derives its own, and the two
/// are compared in constant time (<see cref="OperatorCredential.Accepts"/>), so neither the token's length nor where it
/// differs shows in the time taken. Without a configured token nothing is accepted: the dashboard is off.
/// </summary>
internal sealed class DashboardAccess
{
    /// <summary>Longest token read from a request.</summary>
    public const int MaxTokenLength = 1024;

    private readonly OperatorCredential? _credential;

    public DashboardAccess(string? operatorToken) =>
        _credential = string.IsNullOrEmpty(operatorToken) ? null : OperatorCredential.For(operatorToken);

    public bool Enabled => _credential is not null;

    /// <summary>What the dashboard's session queries and commands carry (the console's own credential).</summary>
    public string Credential => _credential?.Value ?? throw new InvalidOperationException("the dashboard is off");

    public bool Accepts(string? presented) =>
        _credential is not null && presented is { Length: > 0 and <= MaxTokenLength } && _credential.Accepts(OperatorCredential.For(presented).Value);
}
