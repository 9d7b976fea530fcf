using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using FusionActors.Soak;
using Xunit;

namespace FusionActors.Cluster.Tests;

/// <summary>The soak's proxy: it names the node that dialled from the handshake, and a partition holds bytes without losing them.</summary>
public sealed class SoakProxySpec
{
    [Fact]
    public void The_origin_port_is_read_from_an_association_handshake()
    {
        var frame = Handshake(originPort: 4053);
        Assert.Equal(4053, FusionActors.Soak.Handshake.OriginPort(frame));
        Assert.Null(FusionActors.Soak.Handshake.OriginPort(Encoding.UTF8.GetBytes("GET / HTTP/1.1")));
        Assert.Null(FusionActors.Soak.Handshake.OriginPort(frame.AsSpan(0, frame.Length - 3)));
    }

    [Fact]
    public async Task A_partition_holds_the_bytes_of_a_link_and_delivers_them_when_it_heals()
    {
        using var node = new TcpListener(IPAddress.Loopback, 0);
        node.Start();
        var nodePort = ((IPEndPoint)node.LocalEndpoint).Port;
        var proxyPort = FreePort();
        var partitions = new PartitionTable();
        await using var proxy = new LoopbackProxy(0, proxyPort, nodePort, p => p == 5000 ? 1 : null, partitions);

        // A peer (node 1, by its handshake) dials node 0 through the proxy.
        using var dialler = new TcpClient();
        await dialler.ConnectAsync(IPAddress.Loopback, proxyPort);
        using var accepted = await node.AcceptTcpClientAsync();
        var hello = Handshake(originPort: 5000);
        var header = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(header, hello.Length);
        await dialler.GetStream().WriteAsync(header.Concat(hello).ToArray());
        var received = new byte[4 + hello.Length];
        await accepted.GetStream().ReadExactlyAsync(received).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(header.Concat(hello), received);

        // Cut the dialling node off: what it sends now is held, in either direction.
        partitions.Cut(1);
        await dialler.GetStream().WriteAsync("held"u8.ToArray());
        var held = new byte[4];
        var read = accepted.GetStream().ReadExactlyAsync(held).AsTask();
        Assert.NotSame(read, await Task.WhenAny(read, Task.Delay(TimeSpan.FromSeconds(1))));

        partitions.Heal(1);
        await read.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("held"u8.ToArray(), held);
    }

    /// <summary>An AkkaProtocolMessage with an associate instruction whose origin has the given port.</summary>
    private static byte[] Handshake(int originPort)
    {
        static byte[] Field(int number, byte[] value) => [(byte)(number << 3 | 2), (byte)value.Length, .. value];
        static byte[] Varint(int number, int value)
        {
            var bytes = new List<byte> { (byte)(number << 3) };
            for (var v = (uint)value; ; v >>= 7)
            {
                if (v < 0x80) { bytes.Add((byte)v); break; }
                bytes.Add((byte)(v & 0x7f | 0x80));
            }
            return [.. bytes];
        }
        byte[] address = [.. Field(1, "fusion"u8.ToArray()), .. Field(2, "127.0.0.1"u8.ToArray()), .. Varint(3, originPort), .. Field(4, "tcp"u8.ToArray())];
        byte[] info = [.. Field(1, address), 0x11, 1, 2, 3, 4, 5, 6, 7, 8]; // origin, then uid (field 2, fixed64)
        byte[] control = [.. Varint(1, 1), .. Field(2, info)];
        return Field(2, control);
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}
