using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace FusionActors.Soak;

/// <summary>
/// Which nodes are cut off from the rest. A connection is held (no byte passes either way, none is lost) while the node it
/// leads to, or the node that opened it, is partitioned; it carries on when the partition heals, as TCP does after a
/// network outage that ends before its retransmissions give up.
/// <para>
/// A link can also break one way (<see cref="CutOneWay"/>): the bytes a node sends on its connections are held while the
/// bytes sent to it pass, or the other way round, as behind a firewall or a route that lost one direction.
/// </para>
/// </summary>
public sealed class PartitionTable
{
    private readonly object _gate = new();
    private readonly HashSet<int> _cut = [];
    private readonly HashSet<(int Node, LinkDirection Direction)> _oneWay = [];
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Cut(int node) => Change(() => _cut.Add(node));

    public void Heal(int node) => Change(() =>
    {
        _cut.Remove(node);
        _oneWay.Remove((node, LinkDirection.ToNode));
        _oneWay.Remove((node, LinkDirection.FromNode));
    });

    /// <summary>Holds only the bytes that go <paramref name="direction"/> on the connections the node accepts, until <see cref="Heal"/>.</summary>
    public void CutOneWay(int node, LinkDirection direction) => Change(() => _oneWay.Add((node, direction)));

    public bool IsCut(int node)
    {
        lock (_gate) return _cut.Contains(node);
    }

    /// <summary>Returns once neither end of the link is cut off, nor the direction of the bytes waiting.</summary>
    public async Task WaitPassableAsync(int target, Func<int?> origin, CancellationToken cancel, LinkDirection? direction = null)
    {
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                if (!_cut.Contains(target) && !(origin() is { } o && _cut.Contains(o))
                    && !(direction is { } d && _oneWay.Contains((target, d)))) return;
                changed = _changed.Task;
            }
            await changed.WaitAsync(cancel);
        }
    }

    private void Change(Action change)
    {
        TaskCompletionSource previous;
        lock (_gate)
        {
            change();
            previous = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        previous.TrySetResult();
    }
}

/// <summary>The direction of the bytes on a connection a <see cref="LoopbackProxy"/> relays to its node.</summary>
public enum LinkDirection
{
    /// <summary>From the dialler (a peer or a client) to the node.</summary>
    ToNode,

    /// <summary>From the node back to the dialler.</summary>
    FromNode,
}

/// <summary>
/// A TCP proxy on loopback in front of one node's remoting: it listens at the address the node advertises (its canonical
/// address, akka.remote.dot-netty.tcp.public-port) and forwards to the port the node binds. Every peer, node or client,
/// reaches the node through it. The first frame of each connection (the association handshake) tells which node dialled,
/// so a partition can hold the node's own outgoing connections too.
/// </summary>
public sealed class LoopbackProxy : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly int _node;
    private readonly int _targetPort;
    private readonly Func<int, int?> _nodeOfPort;
    private readonly PartitionTable _partitions;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private long _connections;

    /// <param name="nodeOfPort">The node index whose canonical port this is, or null for a client.</param>
    public LoopbackProxy(int node, int listenPort, int targetPort, Func<int, int?> nodeOfPort, PartitionTable partitions)
    {
        _node = node;
        _targetPort = targetPort;
        _nodeOfPort = nodeOfPort;
        _partitions = partitions;
        _listener = new TcpListener(IPAddress.Loopback, listenPort);
        _listener.Start(256);
        _accepting = AcceptLoop();
    }

    public long Connections => Interlocked.Read(ref _connections);

    private async Task AcceptLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient inbound;
            try { inbound = await _listener.AcceptTcpClientAsync(_stop.Token); }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException) { return; }
            Interlocked.Increment(ref _connections);
            _ = Task.Run(() => Relay(inbound));
        }
    }

    private async Task Relay(TcpClient inbound)
    {
        using var upstream = new TcpClient();
        using var linkDone = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        Task up = Task.CompletedTask, down = Task.CompletedTask;
        try
        {
            inbound.NoDelay = true;
            upstream.NoDelay = true;
            using (var connect = CancellationTokenSource.CreateLinkedTokenSource(linkDone.Token))
            {
                connect.CancelAfter(TimeSpan.FromSeconds(10));
                await upstream.ConnectAsync(IPAddress.Loopback, _targetPort, connect.Token); // the node is down: the dialler sees a reset
            }
            var origin = -1; // the dialling node, once its handshake is read; -1 for a client or not yet known
            int? Origin() => Volatile.Read(ref origin) is var o and >= 0 ? o : null;
            var fromDialler = inbound.GetStream();
            var toNode = upstream.GetStream();
            up = Task.Run(async () =>
            {
                // The handshake first: it names the dialler, then the link is gated on both ends.
                var header = new byte[4];
                await fromDialler.ReadExactlyAsync(header, linkDone.Token);
                var length = BinaryPrimitives.ReadInt32LittleEndian(header);
                byte[] frame = [];
                if (length is > 0 and <= Handshake.MaxFrame)
                {
                    frame = new byte[length];
                    await fromDialler.ReadExactlyAsync(frame, linkDone.Token);
                    if (Handshake.OriginPort(frame) is { } port && _nodeOfPort(port) is { } node) Volatile.Write(ref origin, node);
                }
                await _partitions.WaitPassableAsync(_node, Origin, linkDone.Token, LinkDirection.ToNode);
                await toNode.WriteAsync(header, linkDone.Token);
                if (frame.Length > 0) await toNode.WriteAsync(frame, linkDone.Token);
                await Pump(fromDialler, toNode, Origin, LinkDirection.ToNode, linkDone.Token);
            });
            down = Task.Run(() => Pump(toNode, fromDialler, Origin, LinkDirection.FromNode, linkDone.Token));
            await Task.WhenAny(up, down);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
        }
        finally
        {
            // One direction ended (a close, a reset, the soak stopping): the other ends with it.
            await linkDone.CancelAsync();
            inbound.Close();
            upstream.Close();
            try { await Task.WhenAll(up, down); }
            catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or EndOfStreamException or ObjectDisposedException)
            {
            }
            inbound.Dispose();
        }
    }

    private async Task Pump(NetworkStream from, NetworkStream to, Func<int?> origin, LinkDirection direction, CancellationToken cancel)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var n = await from.ReadAsync(buffer, cancel);
                if (n == 0) return;
                await _partitions.WaitPassableAsync(_node, origin, cancel, direction);
                await to.WriteAsync(buffer.AsMemory(0, n), cancel);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try { await _accepting; }
        catch (OperationCanceledException) { }
        _stop.Dispose();
    }
}
