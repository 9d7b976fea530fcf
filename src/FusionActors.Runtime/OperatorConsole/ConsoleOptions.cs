using System.Net;
using System.Text;
using Akka.Configuration;

namespace FusionActors.Runtime.OperatorConsole;

/// <summary>
/// The operator console host of a node (<c>Fusion:Console</c>; docs/configuration.md). On loopback the console
/// may speak plain TCP (the dev default); bound to any other address it needs both TLS
/// (<see cref="TlsCertificate"/>) and a <see cref="Token"/>, so the token never crosses a network in clear.
/// </summary>
public sealed record ConsoleOptions
{
    public const string TokenVariable = "FUSION_CONSOLE_TOKEN";
    public const string PortVariable = "FUSION_CONSOLE_PORT";
    public const string TlsCertificateVariable = "FUSION_CONSOLE_TLS_CERT";
    public const string TlsPasswordVariable = "FUSION_CONSOLE_TLS_PASSWORD";

    /// <summary>Serve the console at all. Default on.</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>Address the listener binds to. Default 127.0.0.1 (loopback only); any other address requires TLS and a token.</summary>
    public string Hostname { get; init; } = "127.0.0.1";

    /// <summary>TCP port; 0 = any free port (tests). Default 9110 (or FUSION_CONSOLE_PORT).</summary>
    public int Port { get; init; } = 9110;

    /// <summary>
    /// Shared secret clients must present; required when not bound to loopback. Default none (or FUSION_CONSOLE_TOKEN).
    /// Without TLS it travels in clear, which is allowed on loopback only.
    /// </summary>
    public string? Token { get; init; }

    /// <summary>
    /// PKCS#12 file (.pfx/.p12) with the console's server certificate and its private key
    /// (<c>fusion.console.tls.certificate</c>). Set: the console speaks TLS 1.2/1.3 only, and a client's hello
    /// (with its token) arrives only after the handshake. Required when not bound to loopback.
    /// Default none: plain TCP (or FUSION_CONSOLE_TLS_CERT).
    /// </summary>
    public string? TlsCertificate { get; init; }

    /// <summary>Password of the PKCS#12 file (<c>fusion.console.tls.password</c>). Default none (or FUSION_CONSOLE_TLS_PASSWORD).</summary>
    public string? TlsPassword { get; init; }

    /// <summary>A port that is taken makes the node fail to start (on) or run without a console, with a warning (off). Default off.</summary>
    public bool FailIfPortTaken { get; init; }

    /// <summary>
    /// Connections open at once (<c>fusion.console.max-connections</c>), from the accept until the close, whether or
    /// not they said hello. One beyond it is closed at once, before anything is read, logged and counted
    /// (<see cref="ConsoleHost.RefusedConnections"/>); the open ones keep working. Default 64.
    /// </summary>
    public int MaxConnections { get; init; } = 64;

    /// <summary>
    /// A connection after its hello that has sent no complete frame and has had no command running for this long
    /// is closed (<c>fusion.console.idle-timeout</c>); bytes of a line that never ends do not count as a frame.
    /// Also, a write the client does not accept for this long (it reads nothing) closes the connection, commands
    /// running or not. Default 5 minutes. (Before the hello, the hello timeout of 10 s applies.)
    /// </summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Responses of one invocation waiting for a slow reader (<c>fusion.console.max-queued-responses</c>). Beyond
    /// it the oldest waiting non-final response is dropped (a watch keeps its newest events), and the client gets
    /// a warning line counting the dropped ones (JSON data <c>{"kind":"dropped","dropped":N}</c>) before the next
    /// response it receives; the final response is never dropped. Default 1000.
    /// </summary>
    public int MaxQueuedResponses { get; init; } = 1000;

    public bool IsLoopback => Hostname is "localhost" || (IPAddress.TryParse(Hostname, out var ip) && IPAddress.IsLoopback(ip));

    /// <summary>The console speaks TLS.</summary>
    public bool Tls => TlsCertificate is not null;

    /// <summary>
    /// Throws when the listener must not bind as configured: beyond loopback it needs both TLS and a token.
    /// Called before binding.
    /// </summary>
    public void EnsureSafeToBind()
    {
        if (IsLoopback) return;
        var missing = new List<string>();
        if (!Tls) missing.Add($"TLS: Fusion:Console:TlsCertificate, fusion.console.tls.certificate (or {TlsCertificateVariable})");
        if (Token is null) missing.Add($"a token: Fusion:Console:Token, fusion.console.token (or {TokenVariable})");
        if (missing.Count > 0)
            throw new InvalidOperationException(
                $"the console (Fusion:Console:Hostname) binds to {Hostname}, which is not loopback: a console beyond loopback needs both TLS and a token; set {string.Join(" and ", missing)}");
    }

    /// <summary>The console options of a <c>fusion</c> HOCON object (with the FUSION_CONSOLE_* variables); invalid values throw <see cref="FormatException"/>.</summary>
    public static ConsoleOptions FromConfig(Config fusion)
    {
        var options = FusionActors.Runtime.Hosting.FusionOptions.FromFusionHocon(fusion).OperatorConsole;
        var problems = options.Problems().ToList();
        return problems.Count == 0 ? options : throw new FormatException(string.Join("; ", problems));
    }

    /// <summary>What is wrong with these options, each naming its key (Fusion:Console:…); empty when they are valid.</summary>
    public IEnumerable<string> Problems()
    {
        if (Port is < 0 or > 65535) yield return $"Fusion:Console:Port (FUSION_CONSOLE_PORT, fusion.console.port) must be 0..65535, not {Port}";
        if (MaxConnections <= 0) yield return $"Fusion:Console:MaxConnections (fusion.console.max-connections) must be positive, not {MaxConnections}";
        if (IdleTimeout <= TimeSpan.Zero) yield return $"Fusion:Console:IdleTimeout (fusion.console.idle-timeout) must be positive, not {IdleTimeout}";
        if (MaxQueuedResponses <= 0) yield return $"Fusion:Console:MaxQueuedResponses (fusion.console.max-queued-responses) must be positive, not {MaxQueuedResponses}";
    }

    // Options get logged: the secrets must not be.
    private bool PrintMembers(StringBuilder b)
    {
        b.Append($"Enabled = {Enabled}, Hostname = {Hostname}, Port = {Port}, Token = {(Token is null ? "none" : "***")}, ");
        b.Append($"TlsCertificate = {TlsCertificate ?? "none"}, TlsPassword = {(TlsPassword is null ? "none" : "***")}, FailIfPortTaken = {FailIfPortTaken}, ");
        b.Append($"MaxConnections = {MaxConnections}, IdleTimeout = {IdleTimeout}, MaxQueuedResponses = {MaxQueuedResponses}");
        return true;
    }
}
