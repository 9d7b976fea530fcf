using System.Net.Security;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Configuration;
using FusionActors.Runtime.Hosting;
using FusionActors.Runtime.Ingress;
using Xunit;

namespace FusionActors.Ingress.Tests;

/// <summary>Fusion:Http through the node's options binding, the beyond-loopback rule, and the port over TLS.</summary>
public sealed class HttpOptionsSpec
{
    private static FusionOptions Bind(Dictionary<string, string?> keys) =>
        FusionOptions.FromConfiguration(new ConfigurationBuilder().AddInMemoryCollection(keys).Build());

    [Fact]
    public void The_http_keys_bind_from_the_configuration_and_from_hocon_aliases()
    {
        var o = Bind(new() { ["Fusion:Http:Enabled"] = "true", ["Fusion:Http:Port"] = "9000", ["Fusion:Http:MaxQueuedMessages"] = "10",
            ["Fusion:Http:SendTimeout"] = "00:00:02" }).Http;
        Assert.True(o.Enabled);
        Assert.Equal(9000, o.Port);
        Assert.Equal(10, o.MaxQueuedMessages);
        Assert.Equal(TimeSpan.FromSeconds(2), o.SendTimeout);

        var h = FusionOptions.FromHocon(FusionConfig.DefaultsText + "\nfusion.http { enabled = on, port = 9001, idle-timeout = 5s, tls.certificate = \"x.p12\" }").Http;
        Assert.True(h.Enabled);
        Assert.Equal(9001, h.Port);
        Assert.Equal(TimeSpan.FromSeconds(5), h.IdleTimeout);
        Assert.Equal("x.p12", h.TlsCertificate);

        var d = new FusionOptions().Http;
        Assert.False(d.Enabled);
        Assert.Equal("127.0.0.1", d.Hostname);
    }

    [Fact]
    public void An_unknown_or_out_of_range_http_key_is_named()
    {
        var unknown = Assert.Throws<InvalidOperationException>(() => Bind(new() { ["Fusion:Http:Bogus"] = "1" }));
        Assert.Contains("Bogus", unknown.Message);
        var problems = Bind(new() { ["Fusion:Http:Port"] = "70000", ["Fusion:Http:MaxQueuedMessages"] = "0" }).Problems().ToList();
        Assert.Contains(problems, p => p.Contains("Fusion:Http:Port"));
        Assert.Contains(problems, p => p.Contains("Fusion:Http:MaxQueuedMessages"));
    }

    [Fact]
    public void Beyond_loopback_the_http_port_needs_tls_and_session_tokens_or_the_node_does_not_start()
    {
        var open = Bind(new() { ["Fusion:Http:Enabled"] = "true", ["Fusion:Http:Hostname"] = "0.0.0.0" });
        var e = Assert.Throws<InvalidOperationException>(open.EnsureSafe);
        Assert.Contains("Fusion:Http:TlsCertificate", e.Message);
        Assert.Contains("Fusion:Security:SessionTokens", e.Message);

        var tokensOnly = Bind(new() { ["Fusion:Http:Enabled"] = "true", ["Fusion:Http:Hostname"] = "0.0.0.0", ["Fusion:Security:SessionTokens"] = "t0123456789" });
        var e2 = Assert.Throws<InvalidOperationException>(tokensOnly.EnsureSafe);
        Assert.Contains("Fusion:Http:TlsCertificate", e2.Message);
        Assert.DoesNotContain("SessionTokens", e2.Message);

        Bind(new() { ["Fusion:Http:Enabled"] = "true" }).EnsureSafe(); // loopback: plain and tokenless is allowed
        Bind(new() { ["Fusion:Http:Hostname"] = "0.0.0.0" }).EnsureSafe(); // off: nothing binds
    }

    [Fact]
    public async Task With_a_certificate_the_port_speaks_wss_and_the_open_works_over_it()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"fusion-http-tls-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        var pfx = Path.Combine(dir, "http.p12");
        using (var key = RSA.Create(2048))
        {
            var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            var san = new SubjectAlternativeNameBuilder();
            san.AddIpAddress(System.Net.IPAddress.Loopback);
            request.CertificateExtensions.Add(san.Build());
            using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
            await File.WriteAllBytesAsync(pfx, cert.Export(X509ContentType.Pkcs12, "pw"), TestContext.Current.CancellationToken);
        }
        await using var node = await IngressNode.StartAsync(new Dictionary<string, string?>
        {
            ["Fusion:Http:TlsCertificate"] = pfx, ["Fusion:Http:TlsPassword"] = "pw",
        });
        var expected = X509CertificateLoader.LoadPkcs12FromFile(pfx, "pw");
        using var ws = new ClientWebSocket();
        ws.Options.RemoteCertificateValidationCallback = (_, presented, _, errors) =>
            presented is not null && presented.GetCertHashString() == expected.GetCertHashString() && errors == SslPolicyErrors.RemoteCertificateChainErrors;
        await ws.ConnectAsync(new Uri($"wss://127.0.0.1:{node.HttpPort}{IngressService.IngressPath}"), TestContext.Current.CancellationToken);
        var open = WireClient.Open(WireClient.Spec("over-tls"), IngressNode.Token, WireClient.NewNonce());
        await ws.SendAsync(open, WebSocketMessageType.Binary, true, TestContext.Current.CancellationToken);
        var buffer = new byte[1 << 16];
        IngressType type;
        do
        {
            var r = await ws.ReceiveAsync(buffer, TestContext.Current.CancellationToken);
            type = (IngressType)buffer[0];
            Assert.NotEqual(WebSocketMessageType.Close, r.MessageType);
        } while (type == IngressType.Ping);
        Assert.Equal(IngressType.Opened, type);

        // Plain HTTP to a TLS port is not served.
        using var http = new HttpClient();
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => http.GetAsync($"http://127.0.0.1:{node.HttpPort}/healthz/live", TestContext.Current.CancellationToken));
        Directory.Delete(dir, recursive: true);
    }
}
