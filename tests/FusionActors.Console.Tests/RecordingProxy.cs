using System.Net;
using System.Net.Sockets;

namespace FusionActors.Fusionctl.Tests;

/// <summary>
/// A loopback TCP proxy in front of a port that records every byte it passes on, both ways: what an observer on
/// the wire between fusionctl and a node sees.
/// </summary>
public sealed class RecordingProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _target;
    private readonly MemoryStream _toServer = new();
    private readonly MemoryStream _toClient = new();
    private readonly List<Task> _connections = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;

    public RecordingProxy(int targetPort)
    {
        _target = targetPort;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>
    /// What went through, once every connection so far has ended on both sides (the client closed, the proxy
    /// passed that on, the server closed): nothing is still in flight.
    /// </summary>
    public async Task<(byte[] ToServer, byte[] ToClient)> RecordedAsync()
    {
        Task[] connections;
        lock (_connections) connections = [.. _connections];
        await Task.WhenAll(connections).WaitAsync(ConsoleNode.Wait);
        lock (_toServer)
        lock (_toClient)
            return (_toServer.ToArray(), _toClient.ToArray());
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try { client = await _listener.AcceptSocketAsync(_stop.Token); }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException) { return; }
            lock (_connections) _connections.Add(RelayAsync(client));
        }
    }

    private async Task RelayAsync(Socket client)
    {
        using var _ = client;
        using var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await server.ConnectAsync(IPAddress.Loopback, _target);
        await Task.WhenAll(PumpAsync(client, server, _toServer), PumpAsync(server, client, _toClient));
    }

    /// <summary>Copies until the sender's end of stream, which it passes on as a half-close; a reset ends both directions.</summary>
    private static async Task PumpAsync(Socket from, Socket to, MemoryStream record)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var n = await from.ReceiveAsync(buffer, SocketFlags.None);
                if (n == 0) break;
                lock (record) record.Write(buffer, 0, n);
                await to.SendAsync(buffer.AsMemory(0, n), SocketFlags.None);
            }
            to.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // One side reset: unblock the other direction too.
            from.Close();
            to.Close();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        await _accepting;
        _stop.Dispose();
    }
}
