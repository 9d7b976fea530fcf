using System.Text;
using Xunit;

namespace FusionActors.Fusionctl.Tests;

/// <summary>The control for TlsSpec's wire checks: over plain TCP the recording proxy does see the token.</summary>
[Collection(ConsoleNodeCollection.Name)]
public sealed class PlainWireSpec(ConsoleNode node)
{
    [Fact]
    public async Task Over_plain_TCP_the_proxy_sees_the_hello_and_its_token()
    {
        await using var proxy = new RecordingProxy(node.Port);
        // The plain node has no token of its own, so it lets in a client that presents one.
        var run = await ConsoleNode.CtlAt(proxy.Port, ["--token", "visible-marker-token", "sessions", "list"]);
        Assert.True(run.ExitCode == 0, run.ToString());
        var (toServer, toClient) = await proxy.RecordedAsync();
        Assert.Contains("visible-marker-token", Encoding.UTF8.GetString(toServer));
        Assert.Contains("\"type\":\"welcome\"", Encoding.UTF8.GetString(toClient));
    }
}
