using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Akka.Actor;
using Akka.Cluster;
using FusionActors.Client;
using FusionActors.Hosting;
using FusionActors.Protocol;
using Xunit;
using static FusionActors.Runtime.Tests.TestSessions;

namespace FusionActors.Runtime.Tests;

/// <summary>
/// Two real nodes whose Akka remoting runs over TLS on loopback form one cluster, and a session opened
/// through one node's region is served across the TLS link, control messages included.
/// </summary>
public sealed class TlsClusterSpec : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private readonly string _dir = Directory.CreateTempSubdirectory("fusion-tls-").FullName;
    private FusionNode? _a, _b;
    private int _portA;

    public async Task InitializeAsync()
    {
        var pfx = Path.Combine(_dir, "node.pfx");
        using (var rsa = RSA.Create(2048))
        {
            var request = new CertificateRequest("CN=fusionactors-test", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
            await File.WriteAllBytesAsync(pfx, cert.Export(X509ContentType.Pfx, "pw"));
        }
        var portA = _portA = FreePort();
        string Config(int port, string seed) => FusionConfig.DefaultsText + $$"""

            fusion.node.port = {{port}}
            fusion.node.seeds = ["127.0.0.1:{{seed}}"]
            fusion.console.enabled = off
            akka.loglevel = WARNING
            akka.remote.dot-netty.tcp {
              enable-ssl = true
              ssl {
                suppress-validation = on
                certificate { path = "{{pfx.Replace("\\", "/")}}", password = "pw", flags = ["default-key-set"] }
              }
            }
            """;
        _a = await FusionNode.StartAsync(FusionOptions.FromHocon(Config(portA, portA.ToString())));
        _b = await FusionNode.StartAsync(FusionOptions.FromHocon(Config(FreePort(), portA.ToString())));
    }

    public async Task DisposeAsync()
    {
        if (_b is not null) await _b.DisposeAsync();
        if (_a is not null) await _a.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task Two_nodes_over_tls_form_one_cluster_and_serve_sessions_across_it()
    {
        var cluster = Cluster.Get(_a!.System);
        var deadline = DateTime.UtcNow + Wait;
        while (cluster.State.Members.Count(m => m.Status == MemberStatus.Up) < 2 && DateTime.UtcNow < deadline)
            await Task.Delay(100);
        Assert.Equal(2, cluster.State.Members.Count(m => m.Status == MemberStatus.Up));
        Assert.All(cluster.State.Members, m => Assert.Equal("akka.ssl.tcp", m.Address.Protocol));

        // Frames through node B for sessions whose shards live on either node: every one is answered,
        // so messages cross the TLS link both ways (frames in the binary format, replies in the default one).
        var onA = 0;
        for (var i = 0; i < 12; i++)
        {
            var reply = await _b!.Sessions.Ask<FrameRejected>(new Frame($"tls-{i}", Audio, 0, 0, new float[320]), Wait);
            Assert.Equal(RejectReason.UnknownSession, reply.Reason);
        }
        var state = await _a!.Sessions.Ask<Akka.Cluster.Sharding.CurrentShardRegionState>(Akka.Cluster.Sharding.GetShardRegionState.Instance, Wait);
        onA = state.Shards.Count;
        Assert.True(onA > 0, "no shard was allocated on node A: nothing crossed the TLS link");

        // Sessions opened through node B, wherever their shard lives, serve frames and report status.
        for (var i = 20; i < 26; i++)
        {
            Assert.IsType<SessionOpened>(await _b!.Sessions.Ask<object>(new OpenSession(Spec($"tls-{i}"), 0), Wait));
            var status = await _b!.Sessions.Ask<SessionStatus>(new GetSessionStatus($"tls-{i}"), Wait);
            Assert.True(status.Open);
            Assert.Equal(2, status.Streams.Count);
        }
    }

    [Fact]
    public async Task A_client_over_tls_opens_a_session_and_its_frames_are_fused()
    {
        var options = new FusionClientOptions
        {
            Contacts = [$"127.0.0.1:{_portA}"],
            Tls = new ClientTls(Path.Combine(_dir, "node.pfx"), "pw", SuppressValidation: true),
            RequestTimeout = Wait,
        };
        await using var session = await FusionClient.ConnectAsync(options).OpenSessionAsync(Spec("tls-client"));
        Assert.StartsWith("akka.ssl.tcp://", session.Node);
        foreach (var f in AudioFrames("tls-client", 0, Sample[0], 0)) await session.Stream(Audio).PushAsync(f);
        foreach (var f in CameraFrames("tls-client", 0, Sample[0], 0)) await session.Stream(Camera).PushAsync(f);
        await session.CompleteAsync(Wait);
        using var cts = new CancellationTokenSource(Wait);
        await foreach (var r in session.Results.WithCancellation(cts.Token))
        {
            Assert.Equal(FusedStatus.Fused, r.Status);
            Assert.Equal(Sample[0].Label, r.TopClass);
            break;
        }
        Assert.Equal(60, session.Stats.FramesCommitted);
    }

}
