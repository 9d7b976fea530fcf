using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Cluster;
using Akka.Configuration;
using Akka.Event;
using Akka.Remote.Transport.DotNetty;
using FusionActors.Client;
using Xunit;
using FusionActors.Core.Streams;
using FusionActors.Protocol;
using FusionActors.Protocol.Security;
using FusionActors.Runtime.Alignment;
using FusionActors.Runtime.Fusion;
using FusionActors.Runtime.Gateway;
using FusionActors.Runtime.Hosting;
using FusionActors.Runtime.Sessions;
using FusionActors.Runtime.Streams;
using static FusionActors.Runtime.Tests.TestSessions;

namespace FusionActors.Runtime.Tests;

/// <summary>
/// Certificates made by tools/tls/make-ca.sh (a CA, two node certificates, a client certificate, and two
/// certificates of another CA with the same name), and two real nodes on loopback whose remoting runs over
/// mutual TLS validated against that CA, shared by the specs of <see cref="TlsClusterSpec"/>.
/// </summary>
public sealed class TlsCluster : IAsyncLifetime
{
    public const string Password = "pw";
    public string Dir { get; } = Directory.CreateTempSubdirectory("fusion-tls-").FullName;
    public FusionNode A { get; private set; } = null!;
    public FusionNode B { get; private set; } = null!;
    public int PortA { get; private set; }

    /// <summary>Warnings and errors logged by node A (its TLS refusals among them), in order.</summary>
    public ConcurrentQueue<string> LogOfA { get; } = new();

    public string File(string name) => Path.Combine(Dir, name);

    public async Task InitializeAsync()
    {
        await MakeCa("node-a", "node-b");
        await MakeCa("--ca", "other-ca", "--no-client", "rogue-node", "rogue-client");
        var portA = PortA = FreePort();
        A = await FusionNode.StartAsync(FusionOptions.FromHocon(NodeConfig(portA, portA, "node-a.pfx")));
        var collector = A.System.ActorOf(Props.Create(() => new LogCollector(LogOfA)), "tls-log");
        A.System.EventStream.Subscribe(collector, typeof(Warning));
        A.System.EventStream.Subscribe(collector, typeof(Error));
        B = await FusionNode.StartAsync(FusionOptions.FromHocon(NodeConfig(FreePort(), portA, "node-b.pfx")));
    }

    public async Task DisposeAsync()
    {
        if (B is not null) await B.DisposeAsync();
        if (A is not null) await A.DisposeAsync();
        Directory.Delete(Dir, recursive: true);
    }

    /// <summary>The console token both nodes share: the operator credential derives from it.</summary>
    public const string OperatorToken = "operators-of-this-cluster";

    public string NodeConfig(int port, int seed, string pfx) => FusionConfig.DefaultsText + $$"""

        fusion.node.port = {{port}}
        fusion.node.seeds = ["127.0.0.1:{{seed}}"]
        fusion.console.enabled = off
        fusion.console.token = "{{OperatorToken}}"
        fusion.tls.ca = "{{File("ca.crt")}}"
        akka.loglevel = WARNING
        akka.remote.dot-netty.tcp {
          enable-ssl = true
          ssl {
            suppress-validation = off
            require-mutual-authentication = on
            certificate { path = "{{File(pfx)}}", password = "{{Password}}", flags = ["default-key-set"] }
          }
        }
        """;

    /// <summary>Runs the project's script, as an operator would, into this fixture's directory.</summary>
    private async Task MakeCa(params string[] args)
    {
        var script = Path.Combine(RepoRoot(), "tools", "tls", "make-ca.sh");
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { script, "--out", Dir, "--password", Password }.Concat(args)) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(3));
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"make-ca.sh {string.Join(' ', args)} exited {process.ExitCode}: {await stdout}\n{await stderr}");
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (System.IO.File.Exists(Path.Combine(dir.FullName, "FusionActors.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("FusionActors.sln not found above " + AppContext.BaseDirectory);
    }

    private sealed class LogCollector : ReceiveActor
    {
        public LogCollector(ConcurrentQueue<string> warnings) => Receive<LogEvent>(e => warnings.Enqueue($"{e.Message}\n{e.Cause}"));
    }
}

/// <summary>
/// Remoting TLS verified against the project's CA: two nodes and a client with CA-signed certificates are
/// served, and a peer with another CA's certificate, with no certificate, or without TLS is refused.
/// </summary>
public sealed class TlsClusterSpec(TlsCluster tls) : IClassFixture<TlsCluster>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    /// <summary>How long a refused peer's Identify stays unanswered (a CA-signed peer's is answered well within it).</summary>
    private static readonly TimeSpan Refused = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task Two_nodes_with_mutual_tls_validated_against_the_ca_form_one_cluster_and_serve_sessions_across_it()
    {
        var cluster = Cluster.Get(tls.A.System);
        await Eventually(() => cluster.State.Members.Count(m => m.Status == MemberStatus.Up) == 2, Wait, "two nodes Up");
        Assert.All(cluster.State.Members, m => Assert.Equal("akka.ssl.tcp", m.Address.Protocol));

        // Frames through node B for sessions whose shards live on either node: every one is answered,
        // so messages cross the TLS link both ways (frames in the binary format, replies in the protocol's).
        for (var i = 0; i < 12; i++)
        {
            var reply = await tls.B.Sessions.Ask<FrameRejected>(new Frame($"tls-{i}", Audio, 0, 0, new float[320]), Wait);
            // Made on B, the frame is local there; on A it came from the wire, and A answers as to any peer: not authorized.
            Assert.Contains(reply.Reason, new[] { RejectReason.UnknownSession, RejectReason.Unauthorized });
        }
        var state = await tls.A.Sessions.Ask<Akka.Cluster.Sharding.CurrentShardRegionState>(Akka.Cluster.Sharding.GetShardRegionState.Instance, Wait);
        Assert.True(state.Shards.Count > 0, "no shard was allocated on node A: nothing crossed the TLS link");

        // Sessions opened through node B, wherever their shard lives, serve frames and report status.
        for (var i = 20; i < 26; i++)
        {
            var opened = Assert.IsType<SessionOpened>(await tls.B.Sessions.Ask<object>(new OpenSession(Spec($"tls-{i}"), 0), Wait));
            // The session may live on node A: across the link its status asks for the capability the open gave.
            var status = await tls.B.Sessions.Ask<SessionStatus>(new GetSessionStatus($"tls-{i}", opened.Capability), Wait);
            Assert.True(status.Open);
            Assert.Equal(2, status.Streams.Count);
        }
    }

    [Fact]
    public async Task An_operator_command_reaches_a_session_on_another_node_with_the_operator_credential_only()
    {
        var cluster = Cluster.Get(tls.A.System);
        await Eventually(() => cluster.State.Members.Count(m => m.Status == MemberStatus.Up) == 2, Wait, "two nodes Up");
        // Sessions opened through node B until one lives on node A: what B sends it crosses the wire.
        string? onA = null;
        for (var i = 40; onA is null && i < 80; i++)
        {
            var id = $"ops-{i}";
            Assert.IsType<SessionOpened>(await tls.B.Sessions.Ask<object>(new OpenSession(Spec(id), 0), Wait));
            var state = await tls.A.Sessions.Ask<Akka.Cluster.Sharding.CurrentShardRegionState>(Akka.Cluster.Sharding.GetShardRegionState.Instance, Wait);
            if (state.Shards.Any(sh => sh.EntityIds.Contains(id))) onA = id;
        }
        Assert.NotNull(onA);

        var refused = Assert.IsType<CommandRejected>(await tls.B.Sessions.Ask<object>(new CrashEncoder(onA, Camera), Wait));
        Assert.Contains("operator", refused.Reason);
        var wrong = OperatorCredential.For("another cluster's token").Value;
        Assert.IsType<CommandRejected>(await tls.B.Sessions.Ask<object>(new DisableStream(onA, Camera, wrong), Wait));
        Assert.IsType<CommandRejected>(await tls.B.Sessions.Ask<object>(new GetSessionStatus(onA), Wait));

        var credential = OperatorCredential.For(TlsCluster.OperatorToken).Value;
        Assert.IsType<Status.Success>(await tls.B.Sessions.Ask<object>(new DisableStream(onA, Camera, credential), Wait));
        var status = await tls.B.Sessions.Ask<SessionStatus>(new GetSessionStatus(onA, credential), Wait);
        Assert.Equal(StreamState.Failed, status.Streams.Single(st => st.StreamId == Camera).State);
    }

    [Fact]
    public async Task A_client_with_a_ca_signed_certificate_opens_a_session_over_validated_tls_and_its_frames_are_fused()
    {
        var options = new FusionClientOptions
        {
            Contacts = [$"127.0.0.1:{tls.PortA}"],
            Tls = new ClientTls(tls.File("fusion-client.pfx"), TlsCluster.Password, tls.File("ca.crt")),
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

    [Fact]
    public async Task A_client_whose_certificate_another_ca_signed_cannot_open_a_session()
    {
        var rogue = CaTrust.LoadPfx(tls.File("rogue-client.pfx"), TlsCluster.Password);
        var since = tls.LogOfA.Count;
        var options = new FusionClientOptions
        {
            Contacts = [$"127.0.0.1:{tls.PortA}"],
            Tls = new ClientTls(tls.File("rogue-client.pfx"), TlsCluster.Password, tls.File("ca.crt")),
            RequestTimeout = Refused,
        };
        await Assert.ThrowsAsync<FusionSessionException>(() => FusionClient.ConnectAsync(options).OpenSessionAsync(Spec("tls-rogue-client")));
        await ExpectWarning(since, w => w.Contains("refused") && w.Contains(rogue.Thumbprint), "node A's validator refuses the client");
    }

    [Fact]
    public async Task A_peer_whose_certificate_another_ca_signed_is_refused_while_a_ca_signed_peer_is_answered()
    {
        var rogue = CaTrust.LoadPfx(tls.File("rogue-node.pfx"), TlsCluster.Password);
        // Same issuer name as the project's CA, another key: only a chain to the CA itself tells them apart.
        Assert.Equal(CaTrust.LoadCa(tls.File("ca.crt"))[0].Subject, rogue.Issuer);
        var since = tls.LogOfA.Count;
        // The rogue accepts any node certificate, so only the node can be the one refusing.
        var bad = new DotNettySslSetup(rogue, suppressValidation: true, requireMutualAuthentication: true);
        await using var peer = new Peer("tls-rogue", bad);
        var refused = peer.IdentifyGateway($"akka.ssl.tcp://fusion@127.0.0.1:{tls.PortA}", Refused);

        await ControlPeerIsAnswered();
        Assert.Null(await refused);
        // FusionActors' validator refused it (Akka's own checks the system store, and would refuse the project's certificates too).
        await ExpectWarning(since, w => w.Contains("refused") && w.Contains(rogue.Thumbprint), "node A's validator refuses the peer");
    }

    [Fact]
    public async Task A_peer_without_a_client_certificate_is_refused_by_a_node_requiring_mutual_tls()
    {
        // No certificate and no mutual authentication: the peer offers none when the node asks for one.
        var since = tls.LogOfA.Count;
        var none = new DotNettySslSetup(null!, suppressValidation: true, requireMutualAuthentication: false);
        await using var peer = new Peer("tls-anonymous", none);
        var refused = peer.IdentifyGateway($"akka.ssl.tcp://fusion@127.0.0.1:{tls.PortA}", Refused);

        await ControlPeerIsAnswered();
        Assert.Null(await refused);
        await ExpectWarning(since, w => w.Contains("did not provide a certificate") || w.Contains("presented no certificate"), "node A refuses the peer without a certificate");
    }

    [Fact]
    public async Task A_plaintext_peer_is_refused_by_a_tls_node()
    {
        var since = tls.LogOfA.Count;
        await using var peer = new Peer("tls-plaintext", ssl: null);
        var refused = peer.IdentifyGateway($"akka.tcp://fusion@127.0.0.1:{tls.PortA}", Refused);

        await ControlPeerIsAnswered();
        Assert.Null(await refused);
        await ExpectWarning(since, w => w.Contains("not an SSL/TLS record"), "node A rejects the plaintext connection");
        Assert.DoesNotContain(Cluster.Get(tls.A.System).State.Members, m => m.Address.Protocol == "akka.tcp");
    }

    [Fact]
    public void The_validator_accepts_only_certificates_that_chain_to_the_ca()
    {
        var cas = CaTrust.LoadCa(tls.File("ca.crt"));
        var validate = CaTrust.Validator(cas);
        bool Accepts(X509Certificate2? cert, SslPolicyErrors errors = SslPolicyErrors.None) => validate(cert, null, "peer", errors, NoLogger.Instance);

        // CA-signed node and client certificates, even though the system store (SslStream's verdict) does not know the CA.
        Assert.True(Accepts(CaTrust.LoadPfx(tls.File("node-a.pfx"), TlsCluster.Password), SslPolicyErrors.RemoteCertificateChainErrors));
        Assert.True(Accepts(CaTrust.LoadPfx(tls.File("fusion-client.pfx"), TlsCluster.Password)));
        // Another CA of the same name, a self-signed certificate posing as the CA, a CA-signed one not valid yet, none.
        Assert.False(Accepts(CaTrust.LoadPfx(tls.File("rogue-node.pfx"), TlsCluster.Password)));
        using var key = RSA.Create(2048);
        var request = new CertificateRequest(cas[0].SubjectName, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        Assert.False(Accepts(request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1))));
        using var ca = X509Certificate2.CreateFromPemFile(tls.File("ca.crt"), tls.File("ca.key"));
        var early = new CertificateRequest("CN=early", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            .Create(ca, DateTimeOffset.UtcNow.AddDays(1), DateTimeOffset.UtcNow.AddDays(2), [1, 2, 3, 4]);
        Assert.True(CaTrust.ChainsTo(early, cas, null, out _) is false);
        Assert.False(Accepts(early));
        Assert.False(Accepts(null, SslPolicyErrors.RemoteCertificateNotAvailable));
    }

    [Fact]
    public async Task Tls_without_a_ca_does_not_start_unless_validation_is_suppressed_explicitly()
    {
        var hocon = tls.NodeConfig(0, 1, "node-a.pfx");
        Assert.Throws<ConfigurationException>(() => FusionOptions.FromHocon(hocon + "\nfusion.tls.ca = \"\""));
        Assert.Throws<ConfigurationException>(() => FusionOptions.FromHocon(hocon + "\nakka.remote.dot-netty.tcp.ssl.suppress-validation = on"));
        var dev = FusionOptions.FromHocon(hocon + "\nfusion.tls.ca = \"\"\nakka.remote.dot-netty.tcp.ssl.suppress-validation = on").TlsOptions!;
        Assert.True(dev.SuppressValidation);
        Assert.Null(dev.CreateSetup().CustomValidator);
        var strict = FusionOptions.FromHocon(hocon).TlsOptions!;
        Assert.True(strict.RequireMutual);
        Assert.NotNull(strict.CreateSetup().CustomValidator);

        var client = new FusionClientOptions { Contacts = ["127.0.0.1:1"], Tls = new ClientTls(tls.File("fusion-client.pfx"), TlsCluster.Password) };
        await Assert.ThrowsAsync<ArgumentException>(() => FusionClient.ConnectAsync(client));
    }

    /// <summary>A peer like the refused ones but with the CA-signed client certificate: node A's gateway identifies itself to it.</summary>
    private async Task ControlPeerIsAnswered()
    {
        var good = CaTrust.Setup(CaTrust.LoadPfx(tls.File("fusion-client.pfx"), TlsCluster.Password), CaTrust.LoadCa(tls.File("ca.crt")), requireMutualAuthentication: true);
        await using var control = new Peer("tls-control", good);
        Assert.NotNull(await control.IdentifyGateway($"akka.ssl.tcp://fusion@127.0.0.1:{tls.PortA}", Wait));
    }

    /// <summary>Node A logs a warning matching <paramref name="match"/> after the first <paramref name="since"/> it had logged.</summary>
    private Task ExpectWarning(int since, Func<string, bool> match, string what) =>
        Eventually(() => tls.LogOfA.Skip(since).Any(match), Wait, what);

    private static async Task Eventually(Func<bool> condition, TimeSpan within, string what)
    {
        var deadline = DateTime.UtcNow + within;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"not within {within}: {what}");
            await Task.Delay(50);
        }
    }

    /// <summary>A bare actor system with remoting on loopback, TLS as <paramref name="ssl"/> says (null = plain TCP).</summary>
    private sealed class Peer(string name, DotNettySslSetup? ssl) : IAsyncDisposable
    {
        private readonly ActorSystem _system = Create(name, ssl);

        private static ActorSystem Create(string name, DotNettySslSetup? ssl)
        {
            var config = ConfigurationFactory.ParseString($$"""
                akka.loglevel = WARNING
                akka.actor.provider = remote
                akka.remote.dot-netty.tcp { hostname = "127.0.0.1", port = 0, enable-ssl = {{(ssl is null ? "off" : "on")}} }
                """);
            var bootstrap = BootstrapSetup.Create().WithConfig(config);
            return ActorSystem.Create(name, ssl is null ? ActorSystemSetup.Create(bootstrap) : bootstrap.And(ssl));
        }

        /// <summary>
        /// The node's gateway as it identifies itself; null when it does not within <paramref name="timeout"/>
        /// (no answer, or the empty answer of dead letters once the peer's remoting gives the association up).
        /// </summary>
        public async Task<IActorRef?> IdentifyGateway(string node, TimeSpan timeout)
        {
            try
            {
                var selection = _system.ActorSelection($"{node}/user/{FusionActors.Runtime.Gateway.SessionGateway.Name}");
                return (await selection.Ask<ActorIdentity>(new Identify(name), timeout)).Subject;
            }
            catch (AskTimeoutException)
            {
                return null;
            }
        }

        public async ValueTask DisposeAsync() => await _system.Terminate().WaitAsync(TimeSpan.FromSeconds(10)).ContinueWith(_ => { }, TaskScheduler.Default);
    }
}
