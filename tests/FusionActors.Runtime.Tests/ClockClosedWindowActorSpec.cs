using Akka.Actor;
using Akka.TestKit.Xunit2;
using FusionActors.Client;
using FusionActors.Core.Streams;
using FusionActors.Core.Time;
using FusionActors.Protocol;
using FusionActors.Runtime.Alignment;
using FusionActors.Runtime.Fusion;
using FusionActors.Runtime.Hosting;
using Xunit;
using static FusionActors.Runtime.Tests.TestSessions;

namespace FusionActors.Runtime.Tests;

/// <summary>
/// Windows closed on the clock while no stream was live are revised with a higher revision when their frames arrive
/// (the same incarnation), and a resumed incarnation numbers its results above what the client was given.
/// </summary>
public sealed class ClockClosedWindowActorSpec() : TestKit(LocalConfig)
{
    private const long Sec = 1_000_000;
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    private static Evidence Ev(string stream, long startUs, long lengthUs) =>
        new(stream, stream == Audio ? "audio" : "image", startUs, startUs + lengthUs, [], [], 1.0, 0);

    [Fact]
    public void Evidence_of_a_window_the_clock_closed_revises_it_and_its_frames_are_committed_only_after()
    {
        var clock = new ManualClock(0);
        var fusion = CreateTestProbe();
        var alignment = Sys.ActorOf(AlignmentActor.Props(Spec("c-replay"), fusion.Ref, clockOffsetUs: 0, clock: clock));
        alignment.Tell(new AlignmentActor.StreamHealthChanged(Audio, StreamState.Idle, 1.0, "idle"));
        alignment.Tell(new AlignmentActor.StreamHealthChanged(Camera, StreamState.Idle, 1.0, "idle"));
        clock.Set(2 * Sec + 50_000);
        var closed = new[] { ExpectWindow(fusion, 0, 0), ExpectWindow(fusion, Sec, 0) };
        Assert.All(closed, w => Assert.True(w.Window.IsEmpty));

        // The frames were on their way (a paused node, a cut link): the streams come back with them.
        alignment.Tell(new AlignmentActor.StreamHealthChanged(Audio, StreamState.Active, 1.0, "frames"));
        alignment.Tell(new AlignmentActor.StreamHealthChanged(Camera, StreamState.Active, 1.0, "frames"));
        alignment.Tell(new AlignmentActor.EvidenceBatch(Camera, [Ev(Camera, Sec + 100_000, 100_000)], 2 * Sec, 1.0));
        Assert.Equal(0, Status(alignment).CommittedThroughUs); // not until the revision is out
        alignment.Tell(new AlignmentActor.EvidenceBatch(Audio, [Ev(Audio, Sec, Sec)], 2 * Sec, 1.0));
        var revised = ExpectWindow(fusion, Sec, 1);
        Assert.Single(revised.Window.Evidence[Audio]);
        Assert.Single(revised.Window.Evidence[Camera]);
        Assert.Equal(2 * Sec, fusion.ExpectMsg<FramesCommitted>(Wait).ThroughUs);
        var status = Status(alignment);
        Assert.Equal((2L, 1L, 0L), (status.WindowsClosed, status.Revisions, status.LateEvidence));
    }

    [Fact]
    public void A_resume_naming_too_many_delivered_windows_or_a_bad_revision_is_refused_with_the_reason()
    {
        var many = Enumerable.Range(0, 1025).ToDictionary(i => i * Sec, _ => 0);
        foreach (var (id, delivered, reason) in new[]
                 {
                     ("r-many", many, "more than 1024 delivered windows"),
                     ("r-negative", new Dictionary<long, int> { [0] = -1 }, "delivered revision outside"),
                     ("r-huge", new Dictionary<long, int> { [0] = int.MaxValue }, "delivered revision outside"),
                 })
        {
            var session = Sys.ActorOf(SessionProps(id));
            var resume = new SessionResume(0, new Dictionary<string, long> { [Audio] = 0, [Camera] = 0 }, DeliveredRevisions: delivered);
            session.Tell(new OpenSession(Spec(id), 0, Resume: resume), TestActor);
            var refused = ExpectMsg<CommandRejected>(Wait);
            Assert.Contains(reason, refused.Reason);
        }
        foreach (var generation in new[] { -1, int.MaxValue })
        {
            var id = $"r-generation{generation}";
            var session = Sys.ActorOf(SessionProps(id));
            var resume = new SessionResume(0, new Dictionary<string, long> { [Audio] = 0, [Camera] = 0 }, Generation: generation);
            session.Tell(new OpenSession(Spec(id), 0, Resume: resume), TestActor);
            Assert.Contains("resume generation is outside", ExpectMsg<CommandRejected>(Wait).Reason);
        }
    }

    [Fact]
    public void A_resumed_session_numbers_its_results_of_delivered_windows_above_the_client_revisions()
    {
        var session = Sys.ActorOf(SessionProps("r-above"));
        var resume = new SessionResume(0, new Dictionary<string, long> { [Audio] = 0, [Camera] = 0 },
            DeliveredRevisions: new Dictionary<long, int> { [0] = 0, [Sec] = 5000 }, Generation: 1);
        session.Tell(new OpenSession(Spec("r-above"), 0, Resume: resume), TestActor);
        ExpectMsg<SessionOpened>(Wait);
        var subscriber = CreateTestProbe();
        session.Tell(new Subscribe("r-above", subscriber.Ref), TestActor);
        ExpectMsg<Subscribed>(Wait);
        for (var w = 0; w < 3; w++)
        {
            foreach (var f in AudioFrames("r-above", w, Sample[w], w * 50)) session.Tell(f, TestActor);
            foreach (var f in CameraFrames("r-above", w, Sample[w], w * 10)) session.Tell(f, TestActor);
        }
        var results = Enumerable.Range(0, 2).Select(_ => subscriber.FishForMessage<FusedResult>(_ => true, Wait)).ToList();
        // Above everything an earlier incarnation gave the client: its generation's floor, or what it named.
        Assert.Equal(new[] { (0L, 4096), (Sec, 5001) }, results.Select(r => (r.WindowStartUs, r.Revision)));
        Assert.All(results, r => Assert.Equal(FusedStatus.Fused, r.Status));
    }

    [Fact]
    public void The_delivered_revisions_of_a_resume_survive_the_wire()
    {
        var resume = new SessionResume(7, new Dictionary<string, long> { [Audio] = 3 }, 2, "cap",
            DeliveredRevisions: new Dictionary<long, int> { [-5] = 0, [long.MaxValue - 1] = 9 }, Generation: 7);
        var open = new OpenSession(Spec("r-wire"), 1, Resume: resume);
        var serializer = Sys.Serialization.FindSerializerFor(open);
        var manifest = Akka.Serialization.Serialization.ManifestFor(serializer, open);
        var back = (OpenSession)Sys.Serialization.Deserialize(serializer.ToBinary(open), serializer.Identifier, manifest);
        Assert.Equal(resume.DeliveredRevisions, back.Resume!.DeliveredRevisions);
        Assert.Equal(7, back.Resume.Generation);
    }

    private static FusionActor.FuseWindow ExpectWindow(Akka.TestKit.TestProbe fusion, long startUs, int revision) =>
        (FusionActor.FuseWindow)fusion.FishForMessage(m => m is FusionActor.FuseWindow w && w.Window.StartUs == startUs && w.Window.Revision == revision, Wait);

    private AlignmentStatus Status(IActorRef alignment)
    {
        alignment.Tell(AlignmentActor.GetStatus.Instance, TestActor);
        return ExpectMsg<AlignmentStatus>(Wait);
    }
}

/// <summary>
/// Through the client library and a real node: a sensor that starts pushing after its streams went idle (its windows
/// closed empty on the clock) still gets every window fused, as a higher revision, and nothing is dropped as late.
/// </summary>
public sealed class LateStartingSensorSpec : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private FusionNode _node = null!;
    private int _port;

    public async Task InitializeAsync()
    {
        _port = FreePort();
        _node = await StartNodeAsync(_port);
    }

    public async Task DisposeAsync() => await _node.DisposeAsync();

    [Fact]
    public async Task Windows_closed_empty_before_the_sensor_started_are_fused_as_a_higher_revision_when_its_frames_arrive()
    {
        await using var session = await FusionClient.ConnectAsync(new FusionClientOptions { Contacts = [$"127.0.0.1:{_port}"], RequestTimeout = Wait })
            .OpenSessionAsync(Spec("late-start"));
        // Nothing pushed: after the idle timeout the clock closes windows 0 and 1 with no evidence.
        var empty = await TestSessions.Collect(session, 2, Wait);
        Assert.Equal(new[] { (0L, 0, FusedStatus.NoEvidence), (1_000_000L, 0, FusedStatus.NoEvidence) },
            empty.Select(r => (r.WindowStartUs, r.Revision, r.Status)));

        await PushWindow(session, 0);
        await PushWindow(session, 1);
        await session.CompleteAsync(Wait);
        var fused = new Dictionary<long, FusedResult>();
        using var cts = new CancellationTokenSource(Wait);
        await foreach (var r in session.Results.WithCancellation(cts.Token))
        {
            if (r.Status == FusedStatus.Fused) fused[r.WindowStartUs] = r;
            if (fused.Count == 2) break;
        }
        for (var w = 0; w < 2; w++)
        {
            var r = fused[w * 1_000_000L];
            Assert.Equal(1, r.Revision);
            Assert.Equal(Sample[w].Label, r.TopClass);
        }
        var stats = session.Stats;
        Assert.Equal((120L, 0), (stats.FramesCommitted, stats.Uncommitted));
        Assert.Equal(0, stats.DuplicateResultsDropped);
        var status = await _node.Sessions.Ask<SessionStatus>(new GetSessionStatus("late-start"), Wait);
        Assert.Equal(0, status.Alignment!.LateEvidence);
    }
}
