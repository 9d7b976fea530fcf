using Akka.Actor;
using FusionActors.Client;
using Xunit;
using FusionActors.Core.Streams;
using FusionActors.Protocol;
using FusionActors.Runtime.Hosting;
using static FusionActors.Runtime.Tests.TestSessions;

namespace FusionActors.Runtime.Tests;

/// <summary>
/// The client library against a real node over Akka remoting on loopback (two actor systems, real TCP):
/// sessions open through the ClusterClient, frames go through the session's SinkRef in binary batches,
/// commits free the client's replay log, and a lost session is reopened and replayed without loss.
/// </summary>
public sealed class ClientSpec : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private FusionNode _node = null!;
    private int _port;

    public async Task InitializeAsync()
    {
        _port = FreePort();
        _node = await StartNodeAsync(_port, """fusion.security.session-tokens = ["sensor-token"]""");
    }

    public async Task DisposeAsync() => await _node.DisposeAsync();

    private FusionClientOptions Options(string? token = "sensor-token") => new()
    {
        Contacts = [$"127.0.0.1:{_port}"],
        Token = token,
        RequestTimeout = Wait,
    };

    [Fact]
    public async Task Frames_pushed_through_the_client_are_fused_committed_and_forgotten()
    {
        await using var session = await FusionClient.ConnectAsync(Options()).OpenSessionAsync(Spec("client-1"));
        Assert.Contains(_port.ToString(), session.Node);
        for (var w = 0; w < 3; w++) await PushWindow(session, w);
        await session.CompleteAsync(Wait);

        var results = await Collect(session, 3);
        Assert.Equal([0L, 1_000_000L, 2_000_000L], results.Select(r => r.WindowStartUs));
        for (var w = 0; w < 3; w++)
        {
            Assert.Equal(FusedStatus.Fused, results[w].Status);
            Assert.Equal(Sample[w].Label, results[w].TopClass);
        }
        var stats = session.Stats;
        Assert.Equal(180, stats.FramesPushed);
        Assert.Equal(180, stats.FramesCommitted);
        Assert.Equal(0, stats.Uncommitted);
        Assert.Equal(long.MaxValue, stats.CommittedThroughUs);
        Assert.Empty(stats.Rejected);

        // What an operator sees (fusionctl sessions show): the commit point and the client's address.
        var status = await _node.Sessions.Ask<SessionStatus>(new GetSessionStatus("client-1"), Wait);
        Assert.Equal(long.MaxValue, status.Alignment!.CommittedThroughUs);
        Assert.Contains("fusion-client@127.0.0.1", status.Client);
        Assert.All(status.Streams, st => Assert.Equal(0, st.Counters.SeqsSkipped));
    }

    [Fact]
    public async Task A_session_lost_on_the_server_is_reopened_where_it_stopped_and_replayed_without_loss_or_repeats()
    {
        await using var session = await FusionClient.ConnectAsync(Options()).OpenSessionAsync(Spec("client-2"));
        await PushWindow(session, 0);
        await PushWindow(session, 1);
        await session.WaitCommittedAsync(1_000_000, Wait); // window 0 is fused; window 1's frames are held

        // The server loses the session (as when its node dies or it passivates): the client notices, reopens
        // with its resume point and replays what was not committed; window 0 must not be fused again.
        var closed = await _node.Sessions.Ask<object>(new CloseSession("client-2"), Wait);
        Assert.IsType<SessionClosed>(closed);
        var deadline = DateTime.UtcNow + Wait;
        while (session.Stats.Opens < 2 && DateTime.UtcNow < deadline) await session.WaitCommittedAsync(long.MaxValue, TimeSpan.FromMilliseconds(100)).ContinueWith(_ => { });
        Assert.Equal(2, session.Stats.Opens);
        Assert.True(session.Stats.EntriesReplayed >= 60, $"replayed {session.Stats.EntriesReplayed}");

        await PushWindow(session, 2);
        await session.CompleteAsync(Wait);
        var results = await Collect(session, 3);
        Assert.Equal([0L, 1_000_000L, 2_000_000L], results.Select(r => r.WindowStartUs));
        // Window 0 from the first incarnation; 1 and 2 fused by the second, which numbers above every earlier one (4096
        // on): the application sees each window's first result as revision 0 all the same.
        Assert.Equal([0, 0, 0], results.Select(r => r.Revision));
        Assert.All(results, r => Assert.Equal(FusedStatus.Fused, r.Status));
        Assert.Equal(Sample[1].Label, results[1].TopClass);
        var stats = session.Stats;
        Assert.Equal(stats.FramesPushed, stats.FramesCommitted);
        Assert.Equal(0, stats.DuplicateResultsDropped);
    }

    [Fact]
    public async Task A_reopen_refused_for_good_ends_the_session_with_the_reason_instead_of_retrying_forever()
    {
        await using var session = await FusionClient.ConnectAsync(Options()).OpenSessionAsync(Spec("client-6"));
        await PushWindow(session, 0);
        // The server loses the session and, before the client can reopen it, another spec takes its id.
        var other = Spec("client-6") with { Window = FusionActors.Protocol.Specs.WindowSpec.Tumbling(500_000) };
        // Usually this open, queued at the shard behind the stopping entity, is served before the client's reopen,
        // which must first hear that the old entity terminated; an open that reaches the entity while it is still
        // stopping is told to retry (the protocol's answer). When the client's reopen wins the race instead, the
        // session is open again with the client's spec: close it again. Each lost reopen backs the client off further.
        object reply;
        do
        {
            // Closed, or already gone: after a lost race the entity that answers may be a fresh one the client's next
            // reopen has not reached yet.
            var closed = await _node.Sessions.Ask<object>(new CloseSession("client-6"), Wait);
            Assert.True(closed is SessionClosed || closed is CommandRejected { Reason: var notOpen } && notOpen.Contains("is not open"), $"the close got {closed}");
            while ((reply = await _node.Sessions.Ask<object>(new OpenSession(other, 0, "sensor-token"), Wait)) is CommandRejected { Reason: var why } && why.Contains("retry")) { }
        } while (reply is CommandRejected { Reason: var taken } && taken.Contains("another spec"));
        Assert.True(reply is SessionOpened, $"the other spec's open got {reply}");
        var ended = await Assert.ThrowsAsync<FusionSessionException>(async () =>
        {
            using var cts = new CancellationTokenSource(Wait);
            await foreach (var _ in session.Results.WithCancellation(cts.Token)) { }
        });
        Assert.Contains("another spec", ended.Message);
        await Assert.ThrowsAsync<FusionSessionException>(async () => await session.Stream(Audio).PushAsync(new float[320], 0));
    }

    [Fact]
    public async Task A_frame_that_could_never_be_taken_is_refused_at_push_with_a_typed_error_and_uses_no_seq()
    {
        await using var session = await FusionClient.ConnectAsync(Options() with { MaxBatchBytes = 64 * 1024 }).OpenSessionAsync(Spec("client-big"));
        var tooBig = await Assert.ThrowsAsync<FrameTooLargeException>(async () => await session.Stream(Audio).PushAsync(new float[20_000], 0));
        Assert.Contains("80000 bytes", tooBig.Message);
        Assert.Equal(0, session.Stats.FramesPushed);
        // The next frame gets seq 0, so the stream has no gap to wait for, and the session fuses as usual.
        await PushWindow(session, 0);
        await session.CompleteAsync(Wait);
        Assert.Equal(FusedStatus.Fused, (await Collect(session, 1))[0].Status);
        Assert.Equal(60, session.Stats.FramesCommitted);
    }

    [Fact]
    public async Task A_frame_the_node_would_refuse_is_refused_at_push_with_its_reason_and_uses_no_seq()
    {
        await using var session = await FusionClient.ConnectAsync(Options()).OpenSessionAsync(Spec("client-refused"));
        var audio = session.Stream(Audio);
        var skew = session.Spec.FindStream(Audio)!.MaxFutureSkewUs;
        async Task<FrameRefusedException> Refused(Func<Task> push) => await Assert.ThrowsAsync<FrameRefusedException>(push);

        var shortFrame = await Refused(async () => await audio.PushAsync(new float[319], 0));
        Assert.Equal(RejectReason.WrongPayloadSize, shortFrame.Reason);
        Assert.Contains("319", shortFrame.Message);
        var nan = new float[320];
        nan[100] = float.NaN;
        var notFinite = await Refused(async () => await audio.PushAsync(nan, 0));
        Assert.Equal(RejectReason.NotFinite, notFinite.Reason);
        Assert.Contains("value 100", notFinite.Message);
        var inf = new float[320];
        inf[319] = float.NegativeInfinity; // in the scalar tail after the vector loop
        Assert.Equal(RejectReason.NotFinite, (await Refused(async () => await audio.PushAsync(inf, 0))).Reason);
        var ahead = session.NowUs + skew + SensorStream.FutureSlackUs + 10_000_000;
        Assert.Equal(RejectReason.TooFarInFuture, (await Refused(async () => await audio.PushAsync(new float[320], ahead))).Reason);
        Assert.Equal(RejectReason.TooFarInFuture, Assert.Throws<FrameRefusedException>(() => audio.Heartbeat(ahead)).Reason);
        var negative = new Frame(session.SessionId, Audio, -1, 0, new float[320]);
        Assert.Equal(RejectReason.SeqOutOfRange, (await Refused(async () => await audio.PushAsync(negative))).Reason);
        Assert.Equal(0, session.Stats.FramesPushed);

        // Nothing was sent: the next frame gets seq 0, the session fuses as usual, and the node rejected nothing.
        await PushWindow(session, 0);
        await session.CompleteAsync(Wait);
        Assert.Equal(FusedStatus.Fused, (await Collect(session, 1))[0].Status);
        Assert.Empty(session.Stats.Rejected);
        var status = await _node.Sessions.Ask<SessionStatus>(new GetSessionStatus("client-refused"), Wait);
        Assert.All(status.Streams, st => Assert.Equal(0, st.Counters.RejectedTotal));
    }

    [Fact]
    public async Task Options_that_would_make_batches_the_transport_drops_are_refused_at_connect()
    {
        // Refused before the client's actor system starts (synchronously).
        var tooBig = Assert.Throws<ArgumentOutOfRangeException>(() => { _ = FusionClient.ConnectAsync(Options() with { MaxBatchBytes = 4 << 20 }); });
        Assert.Equal(nameof(FusionClientOptions.MaxBatchBytes), tooBig.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => { _ = FusionClient.ConnectAsync(Options() with { MaxBatch = 0 }); });
        // The largest allowed batch still reaches the node: 4 audio frames to a batch of at most that many bytes.
        await using var session = await FusionClient.ConnectAsync(Options() with { MaxBatchBytes = FusionClientOptions.MaxBatchBytesLimit })
            .OpenSessionAsync(Spec("client-max-batch"));
        await PushWindow(session, 0);
        await session.CompleteAsync(Wait);
        Assert.Equal(FusedStatus.Fused, (await Collect(session, 1))[0].Status);
    }

    [Fact]
    public async Task A_wrong_or_missing_token_is_refused_with_a_clear_error()
    {
        var wrong = await Assert.ThrowsAsync<FusionSessionException>(() => FusionClient.ConnectAsync(Options("nope")).OpenSessionAsync(Spec("client-3")));
        Assert.Contains("not valid", wrong.Message);
        var missing = await Assert.ThrowsAsync<FusionSessionException>(() => FusionClient.ConnectAsync(Options(null)).OpenSessionAsync(Spec("client-4")));
        Assert.Contains("required", missing.Message);
    }

    [Fact]
    public async Task The_gateway_answers_what_it_does_not_serve_with_a_typed_error_and_keeps_serving()
    {
        await using var client = await FusionClient.ConnectAsync(Options());
        var reply = await client.AskGateway("not a session message");
        var unsupported = Assert.IsType<UnsupportedMessage>(reply);
        Assert.Equal("System.String", unsupported.MessageType);
        var members = await client.MembersAsync();
        Assert.Single(members.Up);
    }

    [Fact]
    public async Task A_message_the_node_cannot_deserialize_is_dropped_and_the_node_keeps_serving()
    {
        // Another system sends, over real remoting, a message in a serializer the node does not have.
        var hocon = $$"""
            akka.actor.provider = remote
            akka.remote.dot-netty.tcp { hostname = 127.0.0.1, port = 0 }
            akka.loglevel = WARNING
            akka.actor.serializers.mystery = "{{typeof(MysterySerializer).AssemblyQualifiedName}}"
            akka.actor.serialization-bindings { "{{typeof(Mystery).AssemblyQualifiedName}}" = mystery }
            akka.actor.serialization-identifiers { "{{typeof(MysterySerializer).AssemblyQualifiedName}}" = 9901 }
            {{FusionActors.Protocol.Serialization.WireConfig.Hocon}}
            """;
        using var stranger = ActorSystem.Create("stranger", hocon);
        var gateway = stranger.ActorSelection($"akka.tcp://fusion@127.0.0.1:{_port}/user/fusion-gateway");
        var identity = await gateway.Ask<ActorIdentity>(new Identify(1), Wait);
        Assert.NotNull(identity.Subject);
        for (var i = 0; i < 3; i++) gateway.Tell(new Mystery($"what is this {i}"));
        // The same connection still works after the bad messages (they were dropped, not fatal) ...
        var again = await gateway.Ask<ActorIdentity>(new Identify(2), Wait);
        Assert.Equal(2, again.MessageId);
        var unsupported = await gateway.Ask<UnsupportedMessage>(42, Wait);
        Assert.Equal("System.Int32", unsupported.MessageType);
        // ... and the node serves sessions.
        await using var session = await FusionClient.ConnectAsync(Options()).OpenSessionAsync(Spec("client-5"));
        await PushWindow(session, 0);
        await session.CompleteAsync(Wait);
        Assert.Equal(FusedStatus.Fused, (await Collect(session, 1))[0].Status);
    }

    private static Task<List<FusedResult>> Collect(FusionSession session, int count) => TestSessions.Collect(session, count, Wait);

}

/// <summary>A message type only the test's own actor system can serialize (serializer id 9901, unknown to nodes).</summary>
public sealed record Mystery(string Text);

public sealed class MysterySerializer(Akka.Actor.ExtendedActorSystem system) : Akka.Serialization.Serializer(system)
{
    public override int Identifier => 9901;
    public override bool IncludeManifest => false;
    public override byte[] ToBinary(object obj) => System.Text.Encoding.UTF8.GetBytes(((Mystery)obj).Text);
    public override object FromBinary(byte[] bytes, Type? type) => new Mystery(System.Text.Encoding.UTF8.GetString(bytes));
}
