using FusionActors.Hosting;
using Xunit;

namespace FusionActors.Runtime.Tests;

public sealed class NodeSafetySpec
{
    [Fact]
    public void A_node_beyond_loopback_without_session_tokens_refuses_to_start_and_says_what_to_set()
    {
        var open = new FusionOptions { Hostname = "10.20.30.40" };
        var e = Assert.Throws<InvalidOperationException>(open.EnsureSafe);
        Assert.Contains("fusion.security.session-tokens", e.Message);
        Assert.Contains("allow-anonymous-sessions", e.Message);
        Assert.Throws<InvalidOperationException>(() => FusionNode.StartAsync(open).GetAwaiter().GetResult());

        var tls = new RemotingTlsOptions("node.pfx", "pw", "ca.crt");
        (open with { SessionTokens = ["t"], TlsOptions = tls }).EnsureSafe();
        (open with { AllowAnonymousSessions = true, TlsOptions = tls }).EnsureSafe();
        (open with { SessionTokens = ["t"], AllowPlaintextRemoting = true }).EnsureSafe();

        // Beyond loopback, remoting without mutual TLS that validates is refused too.
        var plain = Assert.Throws<InvalidOperationException>((open with { SessionTokens = ["t"] }).EnsureSafe);
        Assert.Contains("allow-plaintext-remoting", plain.Message);
        Assert.Throws<InvalidOperationException>((open with { SessionTokens = ["t"], TlsOptions = tls with { RequireMutual = false } }).EnsureSafe);
        Assert.Throws<InvalidOperationException>((open with { SessionTokens = ["t"], TlsOptions = tls with { SuppressValidation = true } }).EnsureSafe);
        new FusionOptions { Hostname = "127.0.0.1" }.EnsureSafe();
        new FusionOptions { Hostname = "localhost" }.EnsureSafe();
        Assert.True(FusionOptions.FromHocon(FusionConfig.DefaultsText + "\nfusion.security.allow-anonymous-sessions = on").AllowAnonymousSessions);
    }
}
