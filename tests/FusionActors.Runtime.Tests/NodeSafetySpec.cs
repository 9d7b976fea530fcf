using Akka.Actor;
using FusionActors.Client;
using Xunit;
using FusionActors.Runtime.Hosting;

namespace FusionActors.Runtime.Tests;

public sealed class NodeSafetySpec
{
    [Fact]
    public void A_node_beyond_loopback_without_session_tokens_refuses_to_start_and_says_what_to_set()
    {
        var open = new FusionOptions { Hostname = "10.20.30.40" };
        var e = Assert.Throws<InvalidOperationException>(open.EnsureSafe);
        Assert.Contains("fusion.security.session-tokens", e.Message);
        Assert.Contains("allow-anonymous-sessions", e.Message);
        Assert.Throws<InvalidOperationException>(() => FusionNode.StartAsync(open).GetAwaiter().GetResult());

        var tls = new RemotingTlsOptions("node.pfx", "pw", "ca.crt");
        (open with { SessionTokens = ["t"], TlsOptions = tls }).EnsureSafe();
        (open with { AllowAnonymousSessions = true, TlsOptions = tls }).EnsureSafe();
        (open with { SessionTokens = ["t"], AllowPlaintextRemoting = true }).EnsureSafe();

        // Beyond loopback, remoting without mutual TLS that validates is refused too.
        var plain = Assert.Throws<InvalidOperationException>((open with { SessionTokens = ["t"] }).EnsureSafe);
        Assert.Contains("allow-plaintext-remoting", plain.Message);
        Assert.Throws<InvalidOperationException>((open with { SessionTokens = ["t"], TlsOptions = tls with { RequireMutual = false } }).EnsureSafe);
        Assert.Throws<InvalidOperationException>((open with { SessionTokens = ["t"], TlsOptions = tls with { SuppressValidation = true } }).EnsureSafe);
        new FusionOptions { Hostname = "127.0.0.1" }.EnsureSafe();
        new FusionOptions { Hostname = "localhost" }.EnsureSafe();
        Assert.True(FusionOptions.FromHocon(FusionConfig.DefaultsText + "\nfusion.security.allow-anonymous-sessions = on").AllowAnonymousSessions);
    }
}

public sealed class NodeFullSpec() : Akka.TestKit.Xunit2.TestKit(TestSessions.LocalConfig)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);

    [Fact]
    public void Opens_beyond_the_node_s_maximum_of_sessions_are_answered_node_full_and_succeed_once_one_closes()
    {
        var admission = new FusionActors.Runtime.Sessions.SessionAdmission(2);
        Akka.Actor.IActorRef Session(string id) =>
            Sys.ActorOf(FusionActors.Runtime.Sessions.SessionActor.Props(id, TestSessions.Encoders, TestSessions.FastBackoff, sharded: false, admission: admission));
        var a = Session("full-a");
        a.Tell(new FusionActors.Protocol.OpenSession(TestSessions.Spec("full-a"), 0), TestActor);
        ExpectMsg<FusionActors.Protocol.SessionOpened>(Wait);
        var b = Session("full-b");
        b.Tell(new FusionActors.Protocol.OpenSession(TestSessions.Spec("full-b"), 0), TestActor);
        ExpectMsg<FusionActors.Protocol.SessionOpened>(Wait);

        var c = Session("full-c");
        c.Tell(new FusionActors.Protocol.OpenSession(TestSessions.Spec("full-c"), 0, Nonce: "the-nonce-of-this-open-00000"), TestActor);
        var full = ExpectMsg<FusionActors.Protocol.NodeFull>(Wait);
        Assert.Equal((2, "the-nonce-of-this-open-00000"), (full.OpenSessions, full.Nonce));
        // An invalid spec is told what is wrong with it, not that the node is full, and takes no place.
        c.Tell(new FusionActors.Protocol.OpenSession(TestSessions.Spec("full-c") with { MaxBufferedEvidence = 0 }, 0), TestActor);
        Assert.Contains("maxBufferedEvidence", ExpectMsg<FusionActors.Protocol.CommandRejected>(Wait).Reason);

        Watch(a);
        a.Tell(new FusionActors.Protocol.CloseSession("full-a"), TestActor);
        ExpectMsg<FusionActors.Protocol.SessionClosed>(Wait);
        ExpectTerminated(a, Wait);
        c.Tell(new FusionActors.Protocol.OpenSession(TestSessions.Spec("full-c"), 0), TestActor);
        ExpectMsg<FusionActors.Protocol.SessionOpened>(Wait);
        Assert.Equal(2, admission.Open);
    }
}

public sealed class NodeFullClientSpec : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private FusionNode _node = null!;
    private int _port;

    public async Task InitializeAsync()
    {
        _port = TestSessions.FreePort();
        _node = await TestSessions.StartNodeAsync(_port, "fusion.limits.max-sessions = 1");
    }

    public async Task DisposeAsync() => await _node.DisposeAsync();

    [Fact]
    public async Task A_client_told_the_node_is_full_keeps_trying_and_opens_once_a_session_closes()
    {
        var options = new FusionActors.Client.FusionClientOptions { Contacts = [$"127.0.0.1:{_port}"], RequestTimeout = Wait };
        await using var first = await FusionActors.Client.FusionClient.ConnectAsync(options).OpenSessionAsync(TestSessions.Spec("only-one"));
        var second = FusionActors.Client.FusionClient.ConnectAsync(options).OpenSessionAsync(TestSessions.Spec("one-more"));
        // The second is answered NodeFull and retried; it cannot open while the first holds the node's one place.
        var status = await _node.Sessions.Ask<FusionActors.Protocol.SessionStatus>(new FusionActors.Protocol.GetSessionStatus("one-more"), Wait);
        Assert.False(status.Open);
        Assert.False(second.IsCompleted);
        await first.CloseAsync();
        await using var opened = await second.WaitAsync(Wait);
        Assert.Equal("one-more", opened.SessionId);
    }
}

public sealed class MetricTagSpec
{
    [Fact]
    public void Modality_names_from_clients_cannot_grow_the_metric_tags_without_end()
    {
        var tags = new FusionActors.Runtime.Metrics.BoundedTags(64);
        Assert.Equal("audio", tags.For("audio"));
        var seen = Enumerable.Range(0, 500).Select(i => tags.For($"made-up-modality-{i}")).ToHashSet();
        Assert.Contains(FusionActors.Runtime.Metrics.BoundedTags.Other, seen);
        Assert.Equal(64, seen.Count); // 63 names besides audio, and "other"
        Assert.Equal("audio", tags.For("audio")); // known names keep theirs
    }
}
