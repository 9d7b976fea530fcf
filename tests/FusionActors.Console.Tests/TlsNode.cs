using System.Net;
using FusionActors.Runtime.OperatorConsole;

namespace FusionActors.Fusionctl.Tests;

/// <summary>
/// A node whose console speaks TLS (a server certificate for 127.0.0.1 and localhost, issued by a test CA) and
/// requires a token. <see cref="OtherCa"/> is a second, unrelated CA.
/// </summary>
public sealed class TlsNode : ConsoleNode
{
    public const string ConsoleToken = "tls-s3cret-token-7f3a9c";
    private const string Password = "console-pfx-password";

    public TlsNode()
    {
        var directory = TestPki.NewDirectory();
        Ca = new TestPki("fusion-test-ca", directory);
        OtherCa = new TestPki("other-test-ca", directory);
        CertificatePath = Ca.IssueServerCertificate("console.pfx", Password, ["localhost"], [IPAddress.Loopback]);
    }

    public TestPki Ca { get; }

    public TestPki OtherCa { get; }

    public string CertificatePath { get; }

    protected override string? Token => ConsoleToken;

    protected override ConsoleOptions ConsoleOptions => base.ConsoleOptions with { TlsCertificate = CertificatePath, TlsPassword = Password };

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        OtherCa.Dispose();
        Ca.Dispose();
    }
}
