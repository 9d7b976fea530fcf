using System.Collections.Concurrent;
using System.Runtime.Serialization;
using System.Text;
using Akka.Actor;
using Akka.Dispatch.SysMsg;
using FusionActors.Client;
using Xunit;
using FusionActors.Core.Specs;
using FusionActors.Core.Streams;
using FusionActors.Protocol;
using FusionActors.Protocol.Serialization;
using FusionActors.Protocol.Specs;
using FusionActors.Runtime.Hosting;
using static FusionActors.Runtime.Tests.TestSessions;

namespace FusionActors.Runtime.Tests;

/// <summary>
/// A real node over real remoting on loopback, a legitimate client of it, and a stranger: a separate actor
/// system that speaks the protocol but holds no token and no capability. Whatever the stranger sends is refused
/// with a typed answer or dropped, and the legitimate session goes on as if nothing had been sent.
/// </summary>
public sealed class HostilePeerSpec : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private const string Token = "sensor-token";
    private FusionNode _node = null!;
    private ActorSystem _stranger = null!;
    private int _port;

    public async Task InitializeAsync()
    {
        _port = FreePort();
        _node = await StartNodeAsync(_port, $"""fusion.security.session-tokens = ["{Token}"]""");
        _stranger = ActorSystem.Create("stranger", StrangerConfig(WireConfig.Hocon));
    }

    public async Task DisposeAsync()
    {
        await _stranger.Terminate();
        await _node.DisposeAsync();
    }

    private static string StrangerConfig(string extra) => $"""
        akka.actor.provider = remote
        akka.remote.dot-netty.tcp {"{"} hostname = 127.0.0.1, port = 0 {"}"}
        akka.loglevel = ERROR
        {extra}
        """;

    private FusionClientOptions Options() => new() { Contacts = [$"127.0.0.1:{_port}"], Token = Token, RequestTimeout = Wait };

    private ActorSelection Gateway(ActorSystem from) => from.ActorSelection($"akka.tcp://fusion@127.0.0.1:{_port}/user/fusion-gateway");

    private ActorSelection Region(ActorSystem from) => from.ActorSelection($"akka.tcp://fusion@127.0.0.1:{_port}/system/sharding/sessions");

    [Fact]
    public async Task Without_a_capability_no_session_operation_from_a_peer_takes_effect()
    {
        await using var victim = await FusionClient.ConnectAsync(Options()).OpenSessionAsync(Spec("victim"));
        for (var w = 0; w < 2; w++) await PushWindow(victim, w);
        Assert.Equal(0L, (await Collect(victim, 1))[0].WindowStartUs);
        var before = await _node.Sessions.Ask<SessionStatus>(new GetSessionStatus("victim"), Wait);

        var gateway = Gateway(_stranger);
        var region = Region(_stranger);
        var spy = _stranger.ActorOf(Props.Create(() => new Recorder()), "spy");
        var attempted = new HashSet<Type>();
        const string forged = "not-the-capability-of-this-session-at-all";

        async Task<object> Attempt(ActorSelection to, object message)
        {
            attempted.Add(message.GetType());
            return await to.Ask<object>(message, Wait);
        }

        void Refused(object reply, string command) =>
            Assert.Contains("not authorized", Assert.IsType<CommandRejected>(reply).Reason);

        foreach (var to in new[] { gateway, region })
        {
            Refused(await Attempt(to, new GetSessionStatus("victim")), nameof(GetSessionStatus));
            Refused(await Attempt(to, new GetSessionStatus("victim", forged)), nameof(GetSessionStatus));
            Refused(await Attempt(to, new Subscribe("victim", spy)), nameof(Subscribe));
            Refused(await Attempt(to, new Unsubscribe("victim", spy)), nameof(Unsubscribe));
            Refused(await Attempt(to, new CloseStream("victim", Audio)), nameof(CloseStream));
            Refused(await Attempt(to, new StreamHeartbeat("victim", Audio, 50_000_000)), nameof(StreamHeartbeat));
            Refused(await Attempt(to, new FrameBatch("victim", [new Frame("victim", Camera, 900, 5_000_000, Sample[0].Image)], forged)), nameof(FrameBatch));
            var frame = Assert.IsType<FrameRejected>(await Attempt(to, new Frame("victim", Camera, 901, 5_000_000, Sample[0].Image)));
            Assert.Equal(RejectReason.Unauthorized, frame.Reason);
            Refused(await Attempt(to, new CloseSession("victim")), nameof(CloseSession));
            var open = Assert.IsType<CommandRejected>(await Attempt(to, new OpenSession(Spec("victim"), 0, Resume: new SessionResume(0, [], 99, forged))));
            Assert.Contains("token is required", open.Reason);
            to.Tell(new ClockPong("victim", 0, 123_456_789_000, forged)); // a pong is never answered: it moves nothing or nothing at all
            attempted.Add(typeof(ClockPong));
        }

        // Operator and chaos commands: the gateway never serves them; the region refuses them without the operator credential.
        IOperatorCommand[] operatorCommands =
        [
            new SetFusionPolicy("victim", FusionPolicy.Fixed), new CrashEncoder("victim", Camera), new DropFrames("victim", Audio, TimeSpan.FromHours(1)),
            new DisableStream("victim", Audio), new EnableStream("victim", Audio), new RestartStream("victim", Camera),
            new SetRecording("victim", true),
        ];
        foreach (var command in operatorCommands)
        {
            Assert.IsType<UnsupportedMessage>(await Attempt(gateway, command));
            Assert.Contains("operator", Assert.IsType<CommandRejected>(await Attempt(region, command)).Reason);
        }

        // A capability works from the wire, for its own session only, and is no operator credential.
        var own = Assert.IsType<SessionOpened>(await _node.Sessions.Ask<object>(new OpenSession(Spec("own"), 0, Token), Wait));
        Assert.True(Assert.IsType<SessionStatus>(await region.Ask<object>(new GetSessionStatus("own", own.Capability), Wait)).Open);
        Refused(await region.Ask<object>(new GetSessionStatus("victim", own.Capability), Wait), nameof(GetSessionStatus));
        Assert.Contains("operator", Assert.IsType<CommandRejected>(await region.Ask<object>(new CrashEncoder("own", Camera, own.Capability), Wait)).Reason);

        // Every session operation of the protocol was tried.
        var operations = WireTypes.Control.Values.Concat(WireTypes.Frames).Where(t => typeof(ICredentialed).IsAssignableFrom(t)).Append(typeof(OpenSession)).Append(typeof(Frame));
        Assert.Empty(operations.Except(attempted));

        // The victim's session goes on as if nothing had been sent: same client, policy, streams, counts.
        for (var w = 2; w < 4; w++) await PushWindow(victim, w);
        await victim.CompleteAsync(Wait);
        var results = await Collect(victim, 3);
        Assert.Equal([1_000_000L, 2_000_000L, 3_000_000L], results.Select(r => r.WindowStartUs));
        Assert.All(results, r => Assert.Equal(("adaptive", FusedStatus.Fused), (r.Policy, r.Status)));
        Assert.All(results, r => Assert.DoesNotContain(r.States.Values, s => s is StreamState.Failed or StreamState.Restarting));
        for (var w = 1; w < 4; w++) Assert.Equal(Sample[w].Label, results[w - 1].TopClass);
        Assert.Equal(victim.Stats.FramesPushed, victim.Stats.FramesCommitted);
        var after = await _node.Sessions.Ask<SessionStatus>(new GetSessionStatus("victim"), Wait);
        Assert.Equal(before.Client, after.Client);
        Assert.Equal("adaptive", after.Fusion!.Policy);
        foreach (var stream in after.Streams)
        {
            Assert.Equal(stream.StreamId == Audio ? 200 : 40, stream.Counters.FramesAccepted);
            Assert.Equal(0, stream.Counters.RejectedTotal);
            Assert.Equal(0, stream.Counters.EncoderFailures);
        }
        Assert.DoesNotContain(Recorder.Seen(spy), m => m is FusedResult or Subscribed);
    }

    [Fact]
    public async Task A_sessions_own_actors_take_nothing_from_the_wire_that_the_session_did_not_admit()
    {
        await using var victim = await FusionClient.ConnectAsync(Options()).OpenSessionAsync(Spec("children"));
        await PushWindow(victim, 0); // window 0 stays open: its frames are held until it is fused
        await AcceptedAsync("children", audio: 50, camera: 10);
        // The session's path is no secret (shard and entity names come from the session id); the stranger aims at its children.
        var session = await _node.System.ActorSelection("/system/sharding/sessions/*/children").ResolveOne(Wait);
        var root = $"akka.tcp://fusion@127.0.0.1:{_port}{session.Path.ToStringWithoutAddress()}";
        var fusion = _stranger.ActorSelection(root + "/fusion");
        var alignment = _stranger.ActorSelection(root + "/alignment");
        var camera = _stranger.ActorSelection(root + "/stream-1");
        var spy = _stranger.ActorOf(Props.Create(() => new Recorder()), "child-spy");
        Assert.NotNull((await fusion.Ask<ActorIdentity>(new Identify(1), Wait)).Subject); // reachable, so the guard is what stops it

        fusion.Tell(new Subscribe("children", spy));
        fusion.Tell(new SetFusionPolicy("children", FusionPolicy.Single("image")));
        fusion.Tell(new FramesCommitted("children", long.MaxValue));
        alignment.Tell(new StreamStateChanged("children", Camera, StreamState.Active, StreamState.Failed, "forged"));
        camera.Tell(new CrashEncoder("children", Camera));
        camera.Tell(new DisableStream("children", Camera));
        camera.Tell(new Frame("children", Camera, 10, 1_000_000, Sample[5].Image));
        camera.Tell(new CloseStream("children", Camera));
        // Each child handles its mailbox in order: once these are answered, the forgeries before them were dealt with.
        foreach (var child in new[] { fusion, alignment, camera }) Assert.NotNull((await child.Ask<ActorIdentity>(new Identify(2), Wait)).Subject);

        Assert.NotEqual(long.MaxValue, victim.Stats.CommittedThroughUs);
        Assert.Equal(60, victim.Stats.Uncommitted);
        var status = await _node.Sessions.Ask<SessionStatus>(new GetSessionStatus("children"), Wait);
        Assert.Equal("adaptive", status.Fusion!.Policy);
        var cameraStatus = status.Streams.Single(st => st.StreamId == Camera);
        Assert.Equal((StreamState.Active, 10L, 0L), (cameraStatus.State, cameraStatus.Counters.FramesAccepted, cameraStatus.Counters.EncoderFailures));

        for (var w = 1; w < 3; w++) await PushWindow(victim, w);
        await victim.CompleteAsync(Wait);
        var results = await Collect(victim, 3);
        Assert.All(results, r => Assert.Equal(("adaptive", FusedStatus.Fused), (r.Policy, r.Status)));
        Assert.Equal(victim.Stats.FramesPushed, victim.Stats.FramesCommitted);
        Assert.DoesNotContain(Recorder.Seen(spy), m => m is FusedResult or Subscribed);
    }

    [Fact]
    public async Task A_wildcard_selection_from_a_peer_reaches_nothing()
    {
        var node = $"akka.tcp://fusion@127.0.0.1:{_port}";
        Assert.NotNull((await Gateway(_stranger).Ask<ActorIdentity>(new Identify(1), Wait)).Subject);
        foreach (var pattern in new[] { "/system/sharding/sessions/*/*", "/system/sharding/sessions/*", "/user/*", "/user/fusion-gateway/.." })
            await Assert.ThrowsAsync<AskTimeoutException>(() => _stranger.ActorSelection(node + pattern).Ask<ActorIdentity>(new Identify(pattern), TimeSpan.FromSeconds(2)));
        // The connection goes on.
        Assert.NotNull((await Gateway(_stranger).Ask<ActorIdentity>(new Identify(2), Wait)).Subject);
    }

    [Fact]
    public async Task A_spec_beyond_the_node_s_limits_is_refused_at_open_with_the_reasons_and_nothing_is_built()
    {
        var gateway = Gateway(_stranger);
        var huge = Spec("huge") with
        {
            Streams = [.. Spec("huge").Streams.Select(st => st.StreamId == Audio
                ? st with { Framing = Framing.Windowed(1_000_000, 1), MaxSeqAhead = int.MaxValue }
                : st with { PriorWeight = double.PositiveInfinity })],
            Window = WindowSpec.Sliding(3_600_000_000, 1),
        };
        var refused = Assert.IsType<CommandRejected>(await gateway.Ask<object>(new OpenSession(huge, 0, Token), Wait));
        foreach (var reason in new[] { "shorter than one sample", "maxSeqAhead", "priorWeight", "window hop" }) Assert.Contains(reason, refused.Reason);
        var status = Assert.IsType<CommandRejected>(await gateway.Ask<object>(new GetSessionStatus("huge"), Wait));
        Assert.Contains("not authorized", status.Reason);
        Assert.False((await _node.Sessions.Ask<SessionStatus>(new GetSessionStatus("huge"), Wait)).Open);
        await using var session = await FusionClient.ConnectAsync(Options()).OpenSessionAsync(Spec("after-huge"));
        await PushWindow(session, 0);
        await session.CompleteAsync(Wait);
        Assert.Equal(FusedStatus.Fused, (await Collect(session, 1))[0].Status);
    }

    [Fact]
    public async Task A_json_payload_naming_a_type_never_builds_it_on_a_node()
    {
        Canary.Reset();
        // The stranger puts a payload in Akka's Newtonsoft serializer (id 1) whose $type names the canary.
        using var attacker = ActorSystem.Create("attacker", StrangerConfig($$"""
            akka.actor.serializers.evil = "{{typeof(TypeNamingJson).AssemblyQualifiedName}}"
            akka.actor.serialization-bindings { "{{typeof(TypeNamingPayload).AssemblyQualifiedName}}" = evil }
            """));
        var gateway = Gateway(attacker);
        Assert.NotNull((await gateway.Ask<ActorIdentity>(new Identify(1), Wait)).Subject);
        for (var i = 0; i < 3; i++) gateway.Tell(new TypeNamingPayload());
        // The connection is ordered: once this is answered, the node has dealt with the payloads before it.
        Assert.Equal(2, (await gateway.Ask<ActorIdentity>(new Identify(2), Wait)).MessageId);
        Assert.Equal(0, Canary.Built);

        // The same bytes, read by the serializer the node refuses, do build it: the attack is real.
        using var unguarded = ActorSystem.Create("unguarded");
        var json = new Akka.Serialization.NewtonSoftJsonSerializer((ExtendedActorSystem)unguarded);
        var built = json.FromBinary(TypeNamingJson.Bytes, typeof(TypeNamingPayload));
        Assert.IsType<Canary>(Assert.IsType<TypeNamingPayload>(built).Content);
        Assert.Equal(1, Canary.Built);
    }

    [Fact]
    public async Task A_failure_naming_an_exception_type_is_refused_unread()
    {
        CanaryException.Reset();
        using var attacker = ActorSystem.Create("attacker", StrangerConfig(""));
        var gateway = Gateway(attacker);
        Assert.NotNull((await gateway.Ask<ActorIdentity>(new Identify(1), Wait)).Subject);
        gateway.Tell(new Status.Failure(new CanaryException("built from the wire")));
        Assert.Equal(2, (await gateway.Ask<ActorIdentity>(new Identify(2), Wait)).MessageId);
        Assert.Equal(0, CanaryException.Built);

        // Akka's own misc serializer, unguarded, calls the constructor of whatever type the payload names.
        var misc = new Akka.Remote.Serialization.MiscMessageSerializer((ExtendedActorSystem)attacker);
        var failure = new Status.Failure(new CanaryException("built from the wire"));
        misc.FromBinary(misc.ToBinary(failure), misc.Manifest(failure));
        Assert.Equal(1, CanaryException.Built);
    }

    [Fact]
    public async Task PoisonPill_Kill_and_Terminate_from_a_peer_stop_nothing()
    {
        var gateway = Gateway(_stranger);
        var target = (await gateway.Ask<ActorIdentity>(new Identify(1), Wait)).Subject!;
        var region = (await Region(_stranger).Ask<ActorIdentity>(new Identify(2), Wait)).Subject!;
        foreach (var actor in new[] { target, region })
        {
            actor.Tell(PoisonPill.Instance);
            actor.Tell(Kill.Instance);
        }
        // Refused and dropped: the same connection goes on, and the same actors answer it.
        Assert.Equal(target, (await gateway.Ask<ActorIdentity>(new Identify(3), Wait)).Subject);
        Assert.Equal(region, (await Region(_stranger).Ask<ActorIdentity>(new Identify(4), Wait)).Subject);

        // A system message that would stop them is refused too (remoting then gives up on that peer's connection).
        foreach (var actor in new[] { target, region }) ((IInternalActorRef)actor).SendSystemMessage(new Terminate());
        using var other = ActorSystem.Create("other", StrangerConfig(WireConfig.Hocon));
        Assert.Equal(target.Path, (await Gateway(other).Ask<ActorIdentity>(new Identify(5), Wait)).Subject!.Path);
        Assert.Equal(region.Path, (await Region(other).Ask<ActorIdentity>(new Identify(6), Wait)).Subject!.Path);
        Assert.Equal(target.Path.Uid, (await Gateway(other).Ask<ActorIdentity>(new Identify(7), Wait)).Subject!.Path.Uid);
        await using var session = await FusionClient.ConnectAsync(Options()).OpenSessionAsync(Spec("after-pills"));
        await PushWindow(session, 0);
        await session.CompleteAsync(Wait);
        Assert.Equal(FusedStatus.Fused, (await Collect(session, 1))[0].Status);
    }

    [Fact]
    public async Task Forged_commits_results_pings_and_answers_to_a_client_are_dropped()
    {
        await using var session = await FusionClient.ConnectAsync(Options()).OpenSessionAsync(Spec("forged"));
        await PushWindow(session, 0); // window 0 stays open: its frames are held until it is fused
        var status = await _node.Sessions.Ask<SessionStatus>(new GetSessionStatus("forged"), Wait);
        var link = _stranger.ActorSelection(status.Client!);
        var fake = new FusedResult("forged", 77_000_000, 78_000_000, 0, FusedStatus.Fused, [1.0], 0, "0", 1, 0,
            new Dictionary<string, double>(), [], [], [], new Dictionary<string, StreamState>(), 0, "adaptive") { Seal = "a-seal-that-nobody-was-ever-given" };
        object[] forgeries =
        [
            new FramesCommitted("forged", long.MaxValue),
            new FramesCommitted("forged", long.MaxValue, "a-seal-that-nobody-was-ever-given"),
            fake,
            new ClockPing("forged", 0, "a-seal-that-nobody-was-ever-given"),
            new SessionOpened("forged", [Audio], 0, Capability: "x", Nonce: "a-nonce-that-nobody-was-ever-given"),
            new CommandRejected("forged", nameof(OpenSession), "refused for good", "a-nonce-that-nobody-was-ever-given"),
            new SessionFenced("forged", 1, 2, "you are fenced", "a-seal-that-nobody-was-ever-given"),
        ];
        foreach (var m in forgeries) link.Tell(m);
        await Eventually(() => session.Stats.ForgedDropped >= forgeries.Length, "the client dropped every forgery");

        var stats = session.Stats;
        Assert.Equal(60, stats.Uncommitted);
        Assert.NotEqual(long.MaxValue, stats.CommittedThroughUs);
        Assert.Equal(1, stats.Opens);
        await PushWindow(session, 1);
        await session.CompleteAsync(Wait);
        var results = await Collect(session, 2);
        Assert.Equal([0L, 1_000_000L], results.Select(r => r.WindowStartUs));
        Assert.Equal(session.Stats.FramesPushed, session.Stats.FramesCommitted);
    }

    [Fact]
    public async Task A_second_writer_fences_the_first_and_the_first_can_write_no_more()
    {
        await using var first = await FusionClient.ConnectAsync(Options()).OpenSessionAsync(Spec("shared"));
        for (var w = 0; w < 2; w++) await PushWindow(first, w);
        await Eventually(() => first.Stats.CommittedThroughUs >= 1_000_000, "the first writer's window 0 is committed");
        await using var second = await FusionClient.ConnectAsync(Options()).OpenSessionAsync(Spec("shared"));

        var fenced = await Assert.ThrowsAsync<FusionSessionFencedException>(async () => await Collect(first, 100));
        Assert.True(fenced.CurrentEpoch > fenced.Epoch);
        await Assert.ThrowsAnyAsync<Exception>(async () => await first.Stream(Audio).PushAsync(new float[320], 2_000_000));

        // The second writer carries on from the seqs the session has taken. What the first had sent but the session had
        // not taken when it was fenced is the first writer's to account for (it was never committed to it).
        foreach (var f in AudioFrames("shared", 2, Sample[2], 100)) await second.Stream(Audio).PushAsync(f);
        foreach (var f in CameraFrames("shared", 2, Sample[2], 20)) await second.Stream(Camera).PushAsync(f);
        await second.CompleteAsync(Wait);
        using var cts = new CancellationTokenSource(Wait);
        FusedResult? window2 = null;
        await foreach (var r in second.Results.WithCancellation(cts.Token))
            if (r.WindowStartUs == 2_000_000) { window2 = r; break; }
        Assert.Equal((FusedStatus.Fused, Sample[2].Label), (window2!.Status, window2.TopClass));
        var status = await _node.Sessions.Ask<SessionStatus>(new GetSessionStatus("shared"), Wait);
        Assert.InRange(status.Streams.Single(s => s.StreamId == Audio).Counters.FramesAccepted, 100, 150);
        Assert.Equal(0, status.Streams.Single(s => s.StreamId == Audio).Counters.RejectedTotal);
    }

    /// <summary>Waits until the node has taken this many frames of each stream (a push returns once the client holds a frame).</summary>
    private async Task AcceptedAsync(string sessionId, long audio, long camera)
    {
        using var cts = new CancellationTokenSource(Wait);
        while (true)
        {
            var status = await _node.Sessions.Ask<SessionStatus>(new GetSessionStatus(sessionId), Wait);
            var accepted = status.Streams.ToDictionary(st => st.StreamId, st => st.Counters.FramesAccepted);
            if (accepted[Audio] >= audio && accepted[Camera] >= camera) return;
            if (cts.IsCancellationRequested) Assert.Fail($"the node took {accepted[Audio]} audio and {accepted[Camera]} camera frames of {sessionId}");
            await Task.Delay(20);
        }
    }

    private static Task<List<FusedResult>> Collect(FusionSession session, int count) => TestSessions.Collect(session, count, Wait);

    private static async Task Eventually(Func<bool> condition, string what)
    {
        using var cts = new CancellationTokenSource(Wait);
        while (!condition())
        {
            if (cts.IsCancellationRequested) Assert.Fail($"timed out waiting until {what}");
            await Task.Delay(20);
        }
    }

    /// <summary>Keeps what it receives, for a look afterwards.</summary>
    private sealed class Recorder : ReceiveActor
    {
        private static readonly ConcurrentDictionary<string, ConcurrentQueue<object>> Inboxes = new();

        public Recorder()
        {
            var inbox = Inboxes.GetOrAdd(Self.Path.ToString(), _ => new ConcurrentQueue<object>());
            ReceiveAny(inbox.Enqueue);
        }

        public static IReadOnlyCollection<object> Seen(IActorRef recorder) => Inboxes.TryGetValue(recorder.Path.ToString(), out var q) ? q : [];
    }
}

/// <summary>A type whose constructor records that it ran: it must never run on a node because a peer named it.</summary>
public sealed class Canary
{
    private static int _built;

    public Canary() => Interlocked.Increment(ref _built);

    public static int Built => Volatile.Read(ref _built);

    public static void Reset() => Interlocked.Exchange(ref _built, 0);

    public string? Note { get; set; }
}

/// <summary>What the attacker sends: an envelope whose content names its own type.</summary>
public sealed class TypeNamingPayload
{
    public object? Content { get; set; }
}

/// <summary>The attacker's side of serializer id 1: JSON with <c>$type</c> naming the canary, as Newtonsoft reads it.</summary>
public sealed class TypeNamingJson(ExtendedActorSystem system) : Akka.Serialization.Serializer(system)
{
    private static readonly string PayloadType = $"{typeof(TypeNamingPayload).FullName}, {typeof(TypeNamingPayload).Assembly.GetName().Name}";
    private static readonly string CanaryType = $"{typeof(Canary).FullName}, {typeof(Canary).Assembly.GetName().Name}";

    public static readonly byte[] Bytes = Encoding.UTF8.GetBytes(
        "{\"$type\":\"" + PayloadType + "\",\"Content\":{\"$type\":\"" + CanaryType + "\",\"Note\":\"built from the wire\"}}");

    public override int Identifier => 1;
    public override bool IncludeManifest => true;
    public override byte[] ToBinary(object obj) => Bytes;
    public override object FromBinary(byte[] bytes, Type? type) => throw new NotSupportedException("the attacker only sends");
}

/// <summary>An exception whose serialization constructor records that it ran.</summary>
public sealed class CanaryException : Exception
{
    private static int _built;

    public CanaryException(string message) : base(message) { }

#pragma warning disable SYSLIB0051 // the constructor Akka's exception support invokes
    private CanaryException(SerializationInfo info, StreamingContext context) : base(info, context) => Interlocked.Increment(ref _built);
#pragma warning restore SYSLIB0051

    public static int Built => Volatile.Read(ref _built);

    public static void Reset() => Interlocked.Exchange(ref _built, 0);
}
