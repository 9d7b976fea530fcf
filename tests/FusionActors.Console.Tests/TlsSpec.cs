using System.Net;
using System.Net.Sockets;
using System.Text;
using Xunit;

namespace FusionActors.Fusionctl.Tests;

/// <summary>
/// The console over TLS with a token: fusionctl with the right CA gets in, the wire carries no plaintext and never
/// the token, a plaintext client gets nothing, and fusionctl sends nothing to a server whose certificate it does
/// not trust.
/// </summary>
public sealed class TlsSpec(TlsNode node) : IClassFixture<TlsNode>
{
    private static readonly byte[] TokenBytes = Encoding.UTF8.GetBytes(TlsNode.ConsoleToken);

    private string[] Trusting(string caPem, params string[] args) => ["--tls-ca", caPem, "--token", TlsNode.ConsoleToken, .. args];

    [Fact]
    public async Task Fusionctl_with_the_CA_and_the_token_runs_a_command_over_TLS()
    {
        await node.OpenSession("tls-list");
        var run = await node.Ctl(Trusting(node.Ca.CaPem, "--json", "sessions", "list"));
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains(run.Json.AsArray(), s => s!["sessionId"]!.GetValue<string>() == "tls-list");
    }

    [Fact]
    public async Task The_token_never_appears_on_the_wire_and_neither_does_any_JSON()
    {
        await using var proxy = new RecordingProxy(node.Port);
        var run = await ConsoleNode.CtlAt(proxy.Port, Trusting(node.Ca.CaPem, "sessions", "list"));
        Assert.True(run.ExitCode == 0, run.ToString());

        var (toServer, toClient) = await proxy.RecordedAsync();
        // The client spoke first, a TLS handshake record (content type 22, version 3.x).
        Assert.True(toServer.Length > 0 && toServer[0] == 0x16 && toServer[1] == 0x03, $"first bytes to the node: {Convert.ToHexString(toServer.Take(8).ToArray())}");
        Assert.True(toClient.Length > 0, "the node answered nothing");
        Assert.Equal(-1, toServer.AsSpan().IndexOf(TokenBytes));
        Assert.Equal(-1, toClient.AsSpan().IndexOf(TokenBytes));
        foreach (var plain in new[] { "\"type\"", "hello", "welcome", "sessions" })
        {
            Assert.Equal(-1, toServer.AsSpan().IndexOf(Encoding.UTF8.GetBytes(plain)));
            Assert.Equal(-1, toClient.AsSpan().IndexOf(Encoding.UTF8.GetBytes(plain)));
        }
    }

    [Fact]
    public async Task A_plaintext_hello_gets_no_JSON_back_and_the_connection_is_closed()
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, node.Port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.UTF8.GetBytes($"{{\"type\":\"hello\",\"token\":\"{TlsNode.ConsoleToken}\",\"version\":1}}\n"));
        var received = new MemoryStream();
        var buffer = new byte[4096];
        try
        {
            // Until the node closes the connection (end of stream or a reset); the wait bounds a node that would hang.
            while (await stream.ReadAsync(buffer).AsTask().WaitAsync(ConsoleNode.Wait) is var n and > 0) received.Write(buffer, 0, n);
        }
        catch (IOException) { /* reset: closed too */ }
        var answer = received.ToArray();
        Assert.Equal(-1, answer.AsSpan().IndexOf((byte)'{'));
        Assert.Equal(-1, answer.AsSpan().IndexOf("welcome"u8));
    }

    [Fact]
    public async Task Fusionctl_without_tls_is_refused_with_a_hint_and_exit_code_3()
    {
        var run = await node.Ctl("sessions", "list");
        Assert.Equal(3, run.ExitCode);
        Assert.Contains("--tls", run.Error);
    }

    [Fact]
    public async Task A_wrong_token_over_TLS_is_refused_with_exit_code_3()
    {
        var run = await node.Ctl("--tls-ca", node.Ca.CaPem, "--token", "guess", "sessions", "list");
        Assert.Equal(3, run.ExitCode);
        Assert.Contains("refused the connection: invalid token", run.Error);
    }

    [Fact]
    public async Task Fusionctl_trusting_another_CA_refuses_the_node_and_nothing_of_the_token_crosses_the_wire()
    {
        await using var proxy = new RecordingProxy(node.Port);
        var run = await ConsoleNode.CtlAt(proxy.Port, Trusting(node.OtherCa.CaPem, "sessions", "list"));
        Assert.Equal(3, run.ExitCode);
        Assert.Contains("TLS certificate", run.Error);
        Assert.Contains("not trusted", run.Error);
        Assert.Contains("--tls-ca", run.Error);

        var (toServer, _) = await proxy.RecordedAsync();
        Assert.True(toServer.Length > 0, "fusionctl did not even start a handshake");
        Assert.Equal(-1, toServer.AsSpan().IndexOf(TokenBytes));
    }

    [Fact]
    public async Task A_server_with_a_certificate_from_another_CA_receives_nothing_after_the_handshake()
    {
        var pfx = node.OtherCa.IssueServerCertificate("impostor.pfx", "pw", ["localhost"], [IPAddress.Loopback]);
        await using var impostor = new ImpostorConsole(pfx, "pw");
        var run = await ConsoleNode.CtlAt(impostor.Port, Trusting(node.Ca.CaPem, "sessions", "list"));
        Assert.Equal(3, run.ExitCode);
        Assert.Contains("not trusted", run.Error);

        // The server's side of the handshake may complete (on Linux the client validates the certificate once OpenSSL
        // is done), but no byte of application data, so no hello and no token, follows it.
        var (handshakes, failed, received) = await impostor.ServedAsync();
        Assert.Equal(1, handshakes + failed);
        Assert.Equal("", received);
    }

    [Fact]
    public async Task A_certificate_that_does_not_name_the_host_is_refused_unless_tls_insecure()
    {
        // Issued by the trusted CA, but for another name: only the host-name check can catch it.
        var pfx = node.Ca.IssueServerCertificate("other-name.pfx", "pw", ["console.example"], []);
        await using var impostor = new ImpostorConsole(pfx, "pw");

        var strict = await ConsoleNode.CtlAt(impostor.Port, Trusting(node.Ca.CaPem, "help"));
        Assert.Equal(3, strict.ExitCode);
        Assert.Contains("not for '127.0.0.1'", strict.Error);
        Assert.Contains("console.example", strict.Error);
        var (handshakes, failed, received) = await impostor.ServedAsync();
        Assert.Equal(1, handshakes + failed);
        Assert.Equal("", received);

        var insecure = await ConsoleNode.CtlAt(impostor.Port, ["--tls-insecure", .. Trusting(node.Ca.CaPem, "help")]);
        Assert.True(insecure.ExitCode == 0, insecure.ToString());
        (_, _, received) = await impostor.ServedAsync();
        Assert.Contains("\"type\":\"hello\"", received);
        Assert.Contains(TlsNode.ConsoleToken, received);
    }

    [Fact]
    public async Task A_self_signed_certificate_given_as_the_CA_is_trusted_and_no_other_one()
    {
        var (pfx, pem) = TestPki.SelfSignedServerCertificate(node.Ca.Directory, "self-signed-console", "pw");
        await using var server = new ImpostorConsole(pfx, "pw");

        var trusted = await ConsoleNode.CtlAt(server.Port, Trusting(pem, "help"));
        Assert.True(trusted.ExitCode == 0, trusted.ToString());

        var other = await ConsoleNode.CtlAt(server.Port, Trusting(node.Ca.CaPem, "help"));
        Assert.Equal(3, other.ExitCode);
        Assert.Contains("not trusted", other.Error);
        var (_, _, received) = await server.ServedAsync();
        Assert.Equal(1, received.Split('\n', StringSplitOptions.RemoveEmptyEntries).Count(l => l.Contains("\"type\":\"hello\"")));
    }
}
