using System.Net.Sockets;
using System.Text.Json.Nodes;
using Xunit;

namespace FusionActors.Fusionctl.Tests;

/// <summary>A raw console client over a real loopback socket: frames as JSON lines, no fusionctl.</summary>
internal sealed class RawClient : IDisposable
{
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;
    private readonly StreamReader _reader;
    private Task<string?>? _next; // one read at a time: a read that outlived a wait is the next one's

    private RawClient(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
        _reader = new StreamReader(_stream);
    }

    public static async Task<RawClient> ConnectAsync(int port, int? receiveBuffer = null)
    {
        var tcp = new TcpClient();
        if (receiveBuffer is { } size) tcp.ReceiveBufferSize = size;
        await tcp.ConnectAsync("127.0.0.1", port).WaitAsync(ConsoleNode.Wait);
        return new RawClient(tcp);
    }

    public static async Task<RawClient> HelloAsync(int port, int? receiveBuffer = null)
    {
        var client = await ConnectAsync(port, receiveBuffer);
        await client.SendAsync("{\"type\":\"hello\"}");
        var welcome = await client.ReadAsync();
        Assert.Equal("welcome", welcome?["type"]?.GetValue<string>());
        return client;
    }

    public Task SendAsync(string frame) => SendRawAsync(frame + "\n");

    public async Task SendBytesAsync(byte[] bytes) => await _stream.WriteAsync(bytes).AsTask().WaitAsync(ConsoleNode.Wait);

    /// <summary>Half-closes the connection: the node reads its end, this client can still read.</summary>
    public void ShutdownSend() => _tcp.Client.Shutdown(SocketShutdown.Send);

    public async Task SendRawAsync(string text) =>
        await _stream.WriteAsync(System.Text.Encoding.UTF8.GetBytes(text)).AsTask().WaitAsync(ConsoleNode.Wait);

    /// <summary>The next frame; null when the node closed the connection.</summary>
    public async Task<JsonNode?> ReadAsync()
    {
        var line = await NextLine().WaitAsync(ConsoleNode.Wait);
        _next = null;
        return line is null ? null : JsonNode.Parse(line);
    }

    /// <summary>Reads until the final response of invocation <paramref name="id"/>.</summary>
    public async Task<JsonNode> ReadFinalAsync(int id)
    {
        while (await ReadAsync() is { } frame)
            if (frame["id"]?.GetValue<int>() == id && frame["body"]!["final"]!.GetValue<bool>()) return frame;
        throw new Xunit.Sdk.XunitException($"the connection closed before the final response of {id}");
    }

    /// <summary>True when the node closes the connection (no frame arrives) within <paramref name="within"/>; false when it stays open.</summary>
    public async Task<bool> ClosedAsync(TimeSpan within)
    {
        try { return await NextLine().WaitAsync(within) is null; } // a line stays for ReadAsync
        catch (TimeoutException) { return false; }
        catch (IOException) { return true; }
    }

    /// <summary>Every frame the node sends until it closes the connection (a reset counts as a close).</summary>
    public async Task<List<JsonNode>> FramesUntilClosedAsync()
    {
        var frames = new List<JsonNode>();
        try
        {
            while (await ReadAsync() is { } frame) frames.Add(frame);
        }
        catch (IOException) { /* reset: closed with data unread */ }
        return frames;
    }

    private Task<string?> NextLine() => _next ??= _reader.ReadLineAsync();

    public void Dispose() => _tcp.Dispose();
}
