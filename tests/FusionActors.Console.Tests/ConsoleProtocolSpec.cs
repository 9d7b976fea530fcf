using Xunit;
using FusionActors.OperatorConsole.Protocol;

namespace FusionActors.Fusionctl.Tests;

/// <summary>The console host's wire protocol against clients that are not fusionctl.</summary>
[Collection(ConsoleNodeCollection.Name)]
public sealed class ConsoleProtocolSpec(ConsoleNode node)
{
    [Fact]
    public async Task A_client_that_does_not_say_hello_is_refused()
    {
        using var client = new System.Net.Sockets.TcpClient();
        await client.ConnectAsync("127.0.0.1", node.Port);
        var stream = client.GetStream();
        await stream.WriteAsync("{\"type\":\"invoke\",\"id\":1,\"words\":[\"sessions\",\"list\"]}\n"u8.ToArray());
        var reader = new StreamReader(stream);
        var answer = await reader.ReadLineAsync().WaitAsync(ConsoleNode.Wait);
        Assert.Contains("\"type\":\"refused\"", answer);
        Assert.Null(await reader.ReadLineAsync().WaitAsync(ConsoleNode.Wait));
    }

    [Fact]
    public async Task A_line_longer_than_the_bound_closes_the_connection_without_buffering_it()
    {
        using var client = new System.Net.Sockets.TcpClient();
        await client.ConnectAsync("127.0.0.1", node.Port);
        var stream = client.GetStream();
        var chunk = new byte[64 * 1024];
        Array.Fill(chunk, (byte)'x');
        try
        {
            // Never a newline: the host must give up after its bound, not read forever.
            for (var sent = 0; sent < 4 * (1 << 20); sent += chunk.Length) await stream.WriteAsync(chunk).AsTask().WaitAsync(ConsoleNode.Wait);
        }
        catch (IOException) { /* closed while we were still writing: what we want */ }
        var buffer = new byte[256];
        int read;
        try { read = await stream.ReadAsync(buffer).AsTask().WaitAsync(ConsoleNode.Wait); }
        catch (IOException) { read = 0; }
        Assert.Equal(0, read);
    }

    [Fact]
    public async Task Lines_are_split_on_newlines_across_reads()
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes("ab\r\ncé\n\nlast");
        var reader = new LineReader(new MemoryStream(bytes), 10);
        Assert.Equal("ab", await reader.ReadLineAsync(CancellationToken.None));
        Assert.Equal("cé", await reader.ReadLineAsync(CancellationToken.None));
        Assert.Equal("", await reader.ReadLineAsync(CancellationToken.None));
        Assert.Equal("last", await reader.ReadLineAsync(CancellationToken.None));
        Assert.Null(await reader.ReadLineAsync(CancellationToken.None));
    }
}
