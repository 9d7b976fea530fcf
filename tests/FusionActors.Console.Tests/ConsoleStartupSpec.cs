using Akka.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;
using FusionActors.Runtime.OperatorConsole;

namespace FusionActors.Fusionctl.Tests;

/// <summary>
/// What a console may be started with, checked before it binds (nothing listens on a non-loopback address here),
/// and what fusionctl refuses before it connects.
/// </summary>
public sealed class ConsoleStartupSpec
{
    private static ConsoleHost Start(ConsoleOptions options) => ConsoleHost.Start(options, null!, [], "node", NullLogger.Instance);

    [Fact]
    public void A_console_beyond_loopback_without_TLS_does_not_start()
    {
        var e = Assert.Throws<InvalidOperationException>(() => Start(new ConsoleOptions { Hostname = "0.0.0.0", Port = 0, Token = "t" }));
        Assert.Contains("0.0.0.0, which is not loopback", e.Message);
        Assert.Contains("both TLS and a token", e.Message);
        Assert.Contains("fusion.console.tls.certificate (or FUSION_CONSOLE_TLS_CERT)", e.Message);
        Assert.DoesNotContain("fusion.console.token", e.Message);
    }

    [Fact]
    public void A_console_beyond_loopback_without_a_token_does_not_start()
    {
        // The certificate file does not exist: the address is refused before the certificate is even loaded.
        var e = Assert.Throws<InvalidOperationException>(() =>
            Start(new ConsoleOptions { Hostname = "0.0.0.0", Port = 0, TlsCertificate = "/nonexistent/console.pfx" }));
        Assert.Contains("0.0.0.0, which is not loopback", e.Message);
        Assert.Contains("fusion.console.token (or FUSION_CONSOLE_TOKEN)", e.Message);
        Assert.DoesNotContain("fusion.console.tls.certificate", e.Message);
    }

    [Fact]
    public void A_console_beyond_loopback_without_either_names_both_settings()
    {
        var e = Assert.Throws<InvalidOperationException>(() => Start(new ConsoleOptions { Hostname = "10.0.0.7", Port = 0 }));
        Assert.Contains("fusion.console.tls.certificate", e.Message);
        Assert.Contains("fusion.console.token", e.Message);
    }

    [Fact]
    public void Beyond_loopback_TLS_and_a_token_together_pass_the_check_and_on_loopback_plaintext_does()
    {
        new ConsoleOptions { Hostname = "0.0.0.0", Token = "t", TlsCertificate = "console.pfx" }.EnsureSafeToBind();
        new ConsoleOptions { Hostname = "127.0.0.1" }.EnsureSafeToBind();
        new ConsoleOptions { Hostname = "localhost", Token = "t" }.EnsureSafeToBind();
        new ConsoleOptions { Hostname = "::1", Token = "t" }.EnsureSafeToBind();
    }

    [Fact]
    public void A_certificate_that_cannot_be_loaded_stops_the_console_from_starting()
    {
        var missing = Assert.Throws<InvalidOperationException>(() =>
            Start(new ConsoleOptions { Port = 0, TlsCertificate = Path.Combine(Path.GetTempPath(), Guid.NewGuid() + ".pfx") }));
        Assert.Contains("fusion.console.tls.certificate", missing.Message);

        using var pki = new TestPki("startup-ca", TestPki.NewDirectory());
        var pfx = pki.IssueServerCertificate("console.pfx", "right", ["localhost"], [System.Net.IPAddress.Loopback]);
        var wrongPassword = Assert.Throws<InvalidOperationException>(() =>
            Start(new ConsoleOptions { Port = 0, TlsCertificate = pfx, TlsPassword = "wrong" }));
        Assert.Contains("fusion.console.tls.password", wrongPassword.Message);
    }

    [Fact]
    public void The_tls_section_is_read_from_the_config_and_the_secrets_are_not_printed()
    {
        var options = ConsoleOptions.FromConfig(ConfigurationFactory.ParseString(
            "console { token = \"tok-123\", tls { certificate = \"/etc/fusion/console.pfx\", password = \"pw-456\" } }"));
        Assert.Equal("/etc/fusion/console.pfx", options.TlsCertificate);
        Assert.Equal("pw-456", options.TlsPassword);
        Assert.True(options.Tls);
        Assert.DoesNotContain("tok-123", options.ToString());
        Assert.DoesNotContain("pw-456", options.ToString());

        var defaults = FusionActors.Runtime.Hosting.FusionOptions.Load().OperatorConsole;
        Assert.False(defaults.Tls);
        Assert.Null(defaults.TlsPassword);
    }

    [Fact]
    public void The_console_limits_are_read_from_the_config_with_their_defaults_and_must_be_positive()
    {
        var options = ConsoleOptions.FromConfig(ConfigurationFactory.ParseString(
            "console { max-connections = 5, idle-timeout = 30s, max-queued-responses = 7 }"));
        Assert.Equal(5, options.MaxConnections);
        Assert.Equal(TimeSpan.FromSeconds(30), options.IdleTimeout);
        Assert.Equal(7, options.MaxQueuedResponses);

        var defaults = FusionActors.Runtime.Hosting.FusionOptions.Load().OperatorConsole;
        Assert.Equal(64, defaults.MaxConnections);
        Assert.Equal(TimeSpan.FromMinutes(5), defaults.IdleTimeout);
        Assert.Equal(1000, defaults.MaxQueuedResponses);

        Assert.Throws<FormatException>(() => ConsoleOptions.FromConfig(ConfigurationFactory.ParseString("console.max-connections = 0")));
        Assert.Throws<FormatException>(() => ConsoleOptions.FromConfig(ConfigurationFactory.ParseString("console.idle-timeout = 0s")));
        Assert.Throws<FormatException>(() => ConsoleOptions.FromConfig(ConfigurationFactory.ParseString("console.max-queued-responses = -1")));
    }

    private static async Task<CtlRun> Ctl(params string[] args)
    {
        var output = new SyncStringWriter();
        var error = new SyncStringWriter();
        var code = await FusionCtl.RunAsync(args, output, error);
        return new CtlRun(code, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task Fusionctl_does_not_send_a_token_without_TLS_beyond_loopback()
    {
        // Refused before connecting: nothing is sent to this address.
        var run = await Ctl("--host", "192.0.2.10:9110", "--token", "t", "sessions", "list");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("only over TLS", run.Error);
    }

    [Fact]
    public async Task Fusionctl_tls_options_are_checked_before_connecting()
    {
        var insecureAlone = await Ctl("--host", "127.0.0.1:1", "--tls-insecure", "sessions", "list");
        Assert.Equal(2, insecureAlone.ExitCode);
        Assert.Contains("--tls-insecure", insecureAlone.Error);

        var missingCa = await Ctl("--host", "127.0.0.1:1", "--tls-ca", Path.Combine(Path.GetTempPath(), Guid.NewGuid() + ".pem"), "sessions", "list");
        Assert.Equal(2, missingCa.ExitCode);
        Assert.Contains("--tls-ca", missingCa.Error);
    }
}
