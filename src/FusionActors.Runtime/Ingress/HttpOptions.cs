using System.Net;
using System.Text;

namespace FusionActors.Runtime.Ingress;

/// <summary>
/// The node's HTTP port (<c>Fusion:Http</c>; docs/configuration.md, docs/ingress.md): the WebSocket ingress for
/// sensors in any language and the health endpoints, served by Kestrel inside the node process. On loopback it may
/// speak plain HTTP (the dev default); bound to any other address it needs TLS (<see cref="TlsCertificate"/>) and
/// session tokens (Fusion:Security:SessionTokens), so a token never crosses a network in clear.
/// </summary>
public sealed record HttpOptions
{
    /// <summary>Serve the HTTP port at all. Default off.</summary>
    public bool Enabled { get; init; }

    /// <summary>Address Kestrel binds to. Default 127.0.0.1; any other address requires TLS and session tokens.</summary>
    public string Hostname { get; init; } = "127.0.0.1";

    /// <summary>TCP port; 0 = any free port (tests; the bound port is logged). Default 8080.</summary>
    public int Port { get; init; } = 8080;

    /// <summary>PKCS#12 file with the server certificate and its key; set = HTTPS/WSS only. Default none (plain HTTP).</summary>
    public string? TlsCertificate { get; init; }

    /// <summary>Password of the PKCS#12 file. Default none.</summary>
    public string? TlsPassword { get; init; }

    /// <summary>WebSocket connections open at once; one more is answered 503 before the upgrade. Default 256.</summary>
    public int MaxConnections { get; init; } = 256;

    /// <summary>Largest WebSocket message the node reads (a frame batch with its headers); a larger one closes the connection. Default 1 MiB + 64 KiB.</summary>
    public int MaxMessageBytes { get; init; } = (1 << 20) + (64 << 10);

    /// <summary>Messages to the client (results, commits, rejections, pings) waiting for a client that reads too slowly; one more closes the connection. Default 4096.</summary>
    public int MaxQueuedMessages { get; init; } = 4096;

    /// <summary>A send the client does not take for this long closes the connection. Default 30 s.</summary>
    public TimeSpan SendTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The open must arrive this soon after the upgrade, and the session must answer it this soon. Default 15 s.</summary>
    public TimeSpan OpenTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>A connection that sends nothing (no frame, heartbeat or pong) for this long is closed. Default 60 s.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>No ping from the session for this long means it is lost (its node died): the connection is closed as retryable. Default 3 s.</summary>
    public TimeSpan SessionSilence { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>Live feeds of the dashboard (<c>/dashboard/</c>) open at once, node-wide; one more is refused (503, <c>TooManyConnections</c>). Default 8.</summary>
    public int DashboardMaxConnections { get; init; } = 8;

    /// <summary>A dashboard live feed whose reader answers no ping for this long (it stopped reading) is cut. Default 20 s.</summary>
    public TimeSpan DashboardPongTimeout { get; init; } = TimeSpan.FromSeconds(20);

    public bool IsLoopback => Hostname is "localhost" || (IPAddress.TryParse(Hostname, out var ip) && IPAddress.IsLoopback(ip));

    public bool Tls => TlsCertificate is not null;

    /// <summary>Throws when the port must not bind as configured: beyond loopback it needs TLS and session tokens.</summary>
    public void EnsureSafeToBind(bool sessionTokensConfigured)
    {
        if (!Enabled || IsLoopback) return;
        var missing = new List<string>();
        if (!Tls) missing.Add("TLS: Fusion:Http:TlsCertificate (fusion.http.tls.certificate)");
        if (!sessionTokensConfigured) missing.Add("session tokens: Fusion:Security:SessionTokens (FUSION_SESSION_TOKENS, fusion.security.session-tokens)");
        if (missing.Count > 0)
            throw new InvalidOperationException(
                $"the HTTP port (Fusion:Http:Hostname) binds to {Hostname}, which is not loopback: beyond loopback it needs both TLS and session tokens; set {string.Join(" and ", missing)}");
    }

    /// <summary>What is wrong with these options, each naming its key (Fusion:Http:…); empty when they are valid.</summary>
    public IEnumerable<string> Problems()
    {
        if (Port is < 0 or > 65535) yield return $"Fusion:Http:Port (fusion.http.port) must be 0..65535, not {Port}";
        if (string.IsNullOrWhiteSpace(Hostname)) yield return "Fusion:Http:Hostname (fusion.http.hostname) must not be empty";
        if (MaxConnections <= 0) yield return $"Fusion:Http:MaxConnections (fusion.http.max-connections) must be positive, not {MaxConnections}";
        if (MaxMessageBytes is < 4096 or > 64 << 20) yield return $"Fusion:Http:MaxMessageBytes (fusion.http.max-message-bytes) must be 4096..67108864, not {MaxMessageBytes}";
        if (MaxQueuedMessages <= 0) yield return $"Fusion:Http:MaxQueuedMessages (fusion.http.max-queued-messages) must be positive, not {MaxQueuedMessages}";
        if (SendTimeout <= TimeSpan.Zero) yield return $"Fusion:Http:SendTimeout (fusion.http.send-timeout) must be positive, not {SendTimeout}";
        if (OpenTimeout <= TimeSpan.Zero) yield return $"Fusion:Http:OpenTimeout (fusion.http.open-timeout) must be positive, not {OpenTimeout}";
        if (IdleTimeout <= TimeSpan.Zero) yield return $"Fusion:Http:IdleTimeout (fusion.http.idle-timeout) must be positive, not {IdleTimeout}";
        if (DashboardMaxConnections is <= 0 or > 1024) yield return $"Fusion:Http:DashboardMaxConnections must be 1..1024, not {DashboardMaxConnections}";
        if (DashboardPongTimeout < TimeSpan.FromSeconds(1)) yield return $"Fusion:Http:DashboardPongTimeout must be at least 1 s, not {DashboardPongTimeout}";
        if (SessionSilence <= TimeSpan.Zero) yield return $"Fusion:Http:SessionSilence (fusion.http.session-silence) must be positive, not {SessionSilence}";
    }

    // Options get logged: the secret must not be.
    private bool PrintMembers(StringBuilder b)
    {
        b.Append($"Enabled = {Enabled}, Hostname = {Hostname}, Port = {Port}, TlsCertificate = {TlsCertificate ?? "none"}, ");
        b.Append($"TlsPassword = {(TlsPassword is null ? "none" : "***")}, MaxConnections = {MaxConnections}, MaxMessageBytes = {MaxMessageBytes}, ");
        b.Append($"MaxQueuedMessages = {MaxQueuedMessages}, SendTimeout = {SendTimeout}, OpenTimeout = {OpenTimeout}, IdleTimeout = {IdleTimeout}, SessionSilence = {SessionSilence}, ");
        b.Append($"DashboardMaxConnections = {DashboardMaxConnections}, DashboardPongTimeout = {DashboardPongTimeout}");
        return true;
    }
}
