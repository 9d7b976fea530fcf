using Akka.Actor;
using Akka.Cluster.Tools.Client;
using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.TestKit.Xunit2;
using Xunit;
using FusionActors.Client;
using FusionActors.Protocol;
using static FusionActors.Runtime.Tests.TestSessions;

namespace FusionActors.Runtime.Tests;

/// <summary>
/// The client's side of two incarnations of one session alive at once: what it hands the application per window, and
/// which incarnation it attaches to. The session side is <see cref="StaleIncarnationSpec"/>.
/// </summary>
public sealed class TwoIncarnationsSpec() : TestKit(LocalConfig)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    private static FusedResult Result(long start, int revision, FusedStatus status) =>
        new("two", start, start + 1_000_000, revision, status, [0.5, 0.5], status == FusedStatus.NoEvidence ? -1 : 1, null, 0.5, 0.7,
            new Dictionary<string, double>(), status == FusedStatus.NoEvidence ? [Audio, Camera] : [], [], [], new Dictionary<string, StreamState>(), 0, "adaptive");

    private static List<FusedResult> Drain(SessionState state)
    {
        var list = new List<FusedResult>();
        while (state.Results.TryRead(out var r)) list.Add(r);
        return list;
    }

    [Fact]
    public void Per_window_the_application_gets_results_in_rank_order_numbered_from_0_and_never_NoEvidence_after_evidence()
    {
        var state = new SessionState(0, 100);
        state.OnResult(Result(0, 0, FusedStatus.Fused));                // the old incarnation fused window 0
        state.OnResult(Result(0, 4096, FusedStatus.NoEvidence));        // a newer one, without its frames, closed it empty
        state.OnResult(Result(0, 0, FusedStatus.Fused));                // the same result again
        state.OnResult(Result(1_000_000, 4096, FusedStatus.NoEvidence)); // a window closed empty on the clock first...
        state.OnResult(Result(1_000_000, 4097, FusedStatus.Fused));     // ...then revised with its evidence
        state.OnResult(Result(1_000_000, 1, FusedStatus.Fused));        // an older incarnation's, arriving late: outranked
        state.OnResult(Result(1_000_000, 8192, FusedStatus.Fused));     // a later incarnation's revision

        var delivered = Drain(state);
        Assert.Equal([(0L, 0, FusedStatus.Fused), (1_000_000L, 0, FusedStatus.NoEvidence), (1_000_000L, 1, FusedStatus.Fused), (1_000_000L, 2, FusedStatus.Fused)],
            delivered.Select(r => (r.WindowStartUs, r.Revision, r.Status)));
        var stats = state.Snapshot(new ReplayLog(16));
        Assert.Equal((4L, 1L, 2L), (stats.Results, stats.DuplicateResultsDropped, stats.OutrankedResultsDropped));
        // A resume names the revisions as the session numbered them, so the next incarnation numbers above them.
        Assert.Equal(new Dictionary<long, int> { [0] = 0, [1_000_000] = 8192 }, state.DeliveredRevisions());
    }

    [Fact]
    public async Task An_answer_from_an_incarnation_behind_the_clients_commit_point_is_not_attached_to_and_the_client_opens_again_at_once()
    {
        var spec = Spec("behind");
        var router = CreateTestProbe();
        var log = new ReplayLog(1024);
        var state = new SessionState(spec.StartUs, 100);
        var first = new TaskCompletionSource<SessionOpened>();
        var options = new FusionClientOptions { Contacts = ["127.0.0.1:1"], RetryInterval = TimeSpan.FromSeconds(20) };
        var link = Sys.ActorOf(SessionLink.Props(spec, options, router.Ref, log, state, first));
        var materializer = Sys.Materializer();
        ISinkRef<IWithSessionId> NewSink() => StreamRefs.SinkRef<IWithSessionId>().To(Sink.Ignore<IWithSessionId>()).Run(materializer).WaitAsync(Wait).GetAwaiter().GetResult();
        OpenSession NextOpen() => (OpenSession)router.ExpectMsg<ClusterClient.Send>(Wait).Message;

        var open = NextOpen();
        var incarnation = CreateTestProbe();
        link.Tell(new SessionOpened("behind", [Audio, Camera], 0, incarnation.Ref, NewSink(), "capability-of-epoch-1-000000", 1, "seal-of-the-first-incarnation", open.Nonce, long.MinValue));
        await first.Task.WaitAsync(Wait);
        link.Tell(new FramesCommitted("behind", 3_000_000, "seal-of-the-first-incarnation"));
        AwaitCondition(() => state.CommittedThroughUs == 3_000_000, Wait);

        // The first incarnation goes; an open the client sent then is answered by an incarnation made from a resume at 1 s.
        Sys.Stop(incarnation.Ref);
        var reopen = NextOpen();
        Assert.Equal(3_000_000, reopen.Resume!.CommittedThroughUs);
        var stale = CreateTestProbe();
        link.Tell(new SessionOpened("behind", [Audio, Camera], 0, stale.Ref, NewSink(), "capability-of-epoch-1-000000", 1, "seal-of-a-stale-incarnation", open.Nonce, 1_000_000));
        // Not attached: it opens again at once (the retry interval is 20 s) with its resume point, which stops that incarnation.
        var again = NextOpen();
        Assert.Equal(3_000_000, again.Resume!.CommittedThroughUs);
        Assert.Equal((1, 1), (state.Opens, state.BehindAnswers));

        // An incarnation at the client's commit point is attached to.
        var fresh = CreateTestProbe();
        link.Tell(new SessionOpened("behind", [Audio, Camera], 0, fresh.Ref, NewSink(), "capability-of-epoch-1-000000", 1, "seal-of-a-fresh-incarnation", open.Nonce, 3_000_000));
        AwaitCondition(() => state.Opens == 2, Wait);
        Assert.Equal(fresh.Ref.Path.Address.ToString(), state.Node);
    }

    [Fact]
    public async Task A_client_that_reaches_an_incarnation_made_from_its_older_resume_gets_every_window_fused_once_each_revision()
    {
        const string id = "two-incarnations";
        var spec = Spec(id);
        var router = CreateTestProbe();
        var log = new ReplayLog(4096);
        var state = new SessionState(spec.StartUs, 10_000);
        var first = new TaskCompletionSource<SessionOpened>();
        var options = new FusionClientOptions { Contacts = ["127.0.0.1:1"], RetryInterval = TimeSpan.FromMilliseconds(300) };
        var link = Sys.ActorOf(SessionLink.Props(spec, options, router.Ref, log, state, first));
        // The next open the link sends with its current resume point (older retries may still be queued).
        OpenSession NextOpen() => (OpenSession)((ClusterClient.Send)router.FishForMessage(m => m is ClusterClient.Send { Message: OpenSession o }
            && (o.Resume?.CommittedThroughUs ?? long.MinValue) >= state.CommittedThroughUs, Wait)).Message;
        void Route(OpenSession o, IActorRef to) => to.Tell(o, link);
        async Task Push(int from, int to)
        {
            for (var w = from; w < to; w++)
            {
                foreach (var f in AudioFrames(id, w, Sample[w], w * 50)) await log.AppendAsync(f);
                foreach (var f in CameraFrames(id, w, Sample[w], w * 10)) await log.AppendAsync(f);
            }
        }

        // The first incarnation fuses windows 0..2.
        var a = Sys.ActorOf(SessionProps(id));
        Route(NextOpen(), a);
        await first.Task.WaitAsync(Wait);
        await Push(0, 3).WaitAsync(Wait);
        AwaitCondition(() => state.CommittedThroughUs >= 2_000_000, Wait);

        // Its node goes. The client's first reopen is held up (a region buffering it for the shard's next home); a retry
        // reaches a second incarnation, which fuses windows 3..5 from the replayed and the new frames.
        Watch(a);
        Sys.Stop(a);
        ExpectTerminated(a, Wait);
        var late = NextOpen();
        var second = Sys.ActorOf(SessionProps(id));
        Watch(second);
        Route(NextOpen(), second);
        AwaitCondition(() => state.Opens == 2, Wait);
        await Push(3, 6).WaitAsync(Wait);
        AwaitCondition(() => state.CommittedThroughUs >= 5_000_000, Wait);
        Assert.True(state.CommittedThroughUs > late.Resume!.CommittedThroughUs);

        // The held-up open arrives and makes a third incarnation from the old resume point; the client is attached elsewhere.
        var stale = Sys.ActorOf(SessionProps(id));
        Watch(stale);
        Route(late, stale);

        // The second incarnation's node goes too: the client's reopen reaches the stale one, which stops for a fresh one.
        Sys.Stop(second);
        ExpectTerminated(second, Wait);
        Route(NextOpen(), stale);
        ExpectTerminated(stale, Wait);
        var fresh = Sys.ActorOf(SessionProps(id));
        Route(NextOpen(), fresh);
        AwaitCondition(() => state.Opens == 3, Wait);
        await Push(6, 8).WaitAsync(Wait);
        await log.AppendAsync(new CloseStream(id, Audio));
        await log.AppendAsync(new CloseStream(id, Camera));
        AwaitCondition(() => state.CommittedThroughUs == long.MaxValue, Wait);

        var results = Drain(state);
        // The played windows (later ones closed empty as the session clock ran on while the test waited).
        var latest = results.Where(r => r.WindowStartUs < 8_000_000).GroupBy(r => r.WindowStartUs).ToDictionary(g => g.Key, g => g.Last());
        Assert.Equal(Enumerable.Range(0, 8).Select(w => w * 1_000_000L), latest.Keys.Order());
        Assert.All(latest.Values, r => Assert.Equal(FusedStatus.Fused, r.Status));
        // Each window's results come numbered 0, 1, ... in the order delivered: none twice.
        foreach (var g in results.GroupBy(r => r.WindowStartUs))
            Assert.Equal(Enumerable.Range(0, g.Count()), g.Select(r => r.Revision));
        link.Tell(PoisonPill.Instance);
    }
}
