using Xunit;

namespace FusionActors.Fusionctl.Tests;

/// <summary>A watch lives as long as its client: closing the connection stops its handler on the node.</summary>
[Collection(ConsoleNodeCollection.Name)]
public sealed class WatchLifetimeSpec(ConsoleNode node)
{
    [Fact]
    public async Task Closing_the_connection_of_a_watch_stops_its_handler_on_the_node()
    {
        await node.OpenSession("ctl-lifetime");
        var client = new System.Net.Sockets.TcpClient();
        await client.ConnectAsync("127.0.0.1", node.Port);
        var stream = client.GetStream();
        var reader = new StreamReader(stream);
        await stream.WriteAsync("{\"type\":\"hello\"}\n{\"type\":\"invoke\",\"id\":7,\"words\":[\"watch\",\"ctl-lifetime\"]}\n"u8.ToArray());
        Assert.Contains("\"type\":\"welcome\"", await reader.ReadLineAsync().WaitAsync(ConsoleNode.Wait));
        Assert.Contains("watching ctl-lifetime", await reader.ReadLineAsync().WaitAsync(ConsoleNode.Wait));
        Assert.Equal(1, node.Node.Console!.RunningInvocations);

        client.Dispose();
        await ConsoleNode.Eventually(() => Task.FromResult(node.Node.Console!.RunningInvocations == 0), "the watch handler to stop");
    }

    [Fact]
    public async Task Watch_with_a_limit_ends_by_itself_after_that_many_events()
    {
        await node.OpenSession("ctl-limit");
        using var deadline = new CancellationTokenSource(ConsoleNode.Wait * 2);
        var output = new SyncStringWriter();
        var watching = node.Ctl(["--json", "watch", "ctl-limit", "2"], deadline.Token, output);
        await ConsoleNode.Eventually(() => Task.FromResult(output.ToString().Contains("\"kind\":\"subscribed\"")), "the watch to subscribe");
        node.SendWindows("ctl-limit", 0, 4);
        var run = await watching;
        Assert.False(deadline.IsCancellationRequested, "the watch did not end by itself");
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(["subscribed", "end"], run.JsonLines.Select(l => l["kind"]!.GetValue<string>()).Where(k => k is "subscribed" or "end"));
    }
}
