using Akka.TestKit.Xunit2;
using Xunit;
using FusionActors.Core.Streams;
using FusionActors.Protocol;
using static FusionActors.Runtime.Tests.TestSessions;

namespace FusionActors.Runtime.Tests;

/// <summary>Writer epochs of one session: a writer's own reopens keep its epoch; a new writer fences it.</summary>
public sealed class WriterEpochSpec() : TestKit(LocalConfig)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);
    private const string FirstNonce = "nonce-of-the-first-writer-link", SecondNonce = "nonce-of-the-second-writer-link";

    [Fact]
    public void An_open_retried_by_the_same_writer_keeps_its_epoch_and_a_new_writer_fences_it()
    {
        var session = Sys.ActorOf(SessionProps("epochs"));
        var writer = CreateTestProbe();
        session.Tell(new OpenSession(Spec("epochs"), 0, Client: writer.Ref, Nonce: FirstNonce), TestActor);
        var first = ExpectMsg<SessionOpened>(Wait);
        Assert.Equal(FirstNonce, first.Nonce);
        Assert.True(Secrets.Plausible(first.Capability) && Secrets.Plausible(first.Seal));

        // A retry of the same link (its answer had not come yet) is the same writer: same epoch, capability, seal.
        session.Tell(new OpenSession(Spec("epochs"), 0, Client: writer.Ref, Nonce: FirstNonce), TestActor);
        var again = ExpectMsg<SessionOpened>(Wait);
        Assert.Equal((first.Epoch, first.Capability, first.Seal), (again.Epoch, again.Capability, again.Seal));

        // Another writer: a new epoch with a new capability and seal; the first is told, under its own seal.
        var other = CreateTestProbe();
        session.Tell(new OpenSession(Spec("epochs"), 0, Client: other.Ref, Nonce: SecondNonce), TestActor);
        var second = ExpectMsg<SessionOpened>(Wait);
        Assert.True(second.Epoch > first.Epoch);
        Assert.NotEqual(first.Capability, second.Capability);
        Assert.NotEqual(first.Seal, second.Seal);
        var fenced = (SessionFenced)writer.FishForMessage(m => m is SessionFenced, Wait);
        Assert.Equal((first.Epoch, second.Epoch, first.Seal), (fenced.Epoch, fenced.CurrentEpoch, fenced.Seal));

        // The first writer reopening with its stale epoch is fenced, not let back in (it would fence the second).
        session.Tell(new OpenSession(Spec("epochs"), 0, Resume: new SessionResume(0, [], first.Epoch, first.Capability), Client: writer.Ref, Nonce: FirstNonce), TestActor);
        Assert.Equal(FirstNonce, ExpectMsg<SessionFenced>(Wait).Nonce);

        // Another link, even with the current epoch and capability (a subscriber holds it), is another writer: it fences
        // the current one instead of writing beside it.
        var third = CreateTestProbe();
        session.Tell(new OpenSession(Spec("epochs"), 0, Resume: new SessionResume(0, [], second.Epoch, second.Capability), Client: third.Ref,
            Nonce: "a-third-link-nonce-0000000"), TestActor);
        var thirdOpened = ExpectMsg<SessionOpened>(Wait);
        Assert.True(thirdOpened.Epoch > second.Epoch);
        Assert.Equal(second.Seal, ((SessionFenced)other.FishForMessage(m => m is SessionFenced, Wait)).Seal);
    }

    [Fact]
    public void A_new_incarnation_takes_the_epoch_its_writer_resumes_with_and_gives_it_a_capability_of_its_own()
    {
        var session = Sys.ActorOf(SessionProps("reborn"));
        var capability = Secrets.New();
        session.Tell(new OpenSession(Spec("reborn"), 0, Resume: new SessionResume(0, [], 7, capability), Nonce: FirstNonce), TestActor);
        var opened = ExpectMsg<SessionOpened>(Wait);
        Assert.Equal(7L, opened.Epoch);
        Assert.NotEqual(capability, opened.Capability); // never one a peer chose
        // A writer of an older epoch, which the new incarnation never saw, is fenced all the same.
        session.Tell(new OpenSession(Spec("reborn"), 0, Resume: new SessionResume(0, [], 6, Secrets.New()), Nonce: SecondNonce), TestActor);
        Assert.Equal((6L, 7L), (ExpectMsg<SessionFenced>(Wait) is var f ? (f.Epoch, f.CurrentEpoch) : default));
        // An epoch no writer could have (it would overflow the next one) is refused.
        session.Tell(new OpenSession(Spec("reborn"), 0, Resume: new SessionResume(0, [], long.MaxValue, Secrets.New()), Nonce: SecondNonce), TestActor);
        Assert.Contains("outside", ExpectMsg<CommandRejected>(Wait).Reason);
    }
}

/// <summary>A resumed session takes the seqs its client still holds, however far below the resume point they lie.</summary>
public sealed class ResumeSeqsSpec() : TestKit(LocalConfig)
{
    [Fact]
    public void A_resume_with_a_frame_held_far_below_its_resume_point_refuses_no_later_seq()
    {
        var session = Sys.ActorOf(SessionProps("held-apart"));
        // The client held camera seq 0 (stamped far ahead) while seqs 1..2999 were committed and freed.
        var resume = new SessionResume(0, new Dictionary<string, long> { [Audio] = 0, [Camera] = 3000 }, HeldBelow: new Dictionary<string, long[]> { [Camera] = [0] });
        session.Tell(new OpenSession(Spec("held-apart"), 0, Resume: resume), TestActor);
        ExpectMsg<SessionOpened>(TimeSpan.FromSeconds(15));
        session.Tell(new Frame("held-apart", Camera, 0, 500_000, Sample[0].Image), TestActor);
        session.Tell(new Frame("held-apart", Camera, 1, 500_000, Sample[0].Image), TestActor);
        Assert.Equal(RejectReason.Duplicate, ExpectMsg<FrameRejected>(TimeSpan.FromSeconds(15)).Reason); // seq 1: committed before
        // Far more than a seq window (1024) above the held seq: every one is taken.
        for (var seq = 3000; seq < 5100; seq++) session.Tell(new Frame("held-apart", Camera, seq, 600_000 + seq, Sample[0].Image), TestActor);
        session.Tell(new GetSessionStatus("held-apart"), TestActor);
        var camera = ExpectMsg<SessionStatus>(TimeSpan.FromSeconds(15)).Streams.Single(s => s.StreamId == Camera);
        Assert.Equal((1 + 2100L, 1L), (camera.Counters.FramesAccepted, camera.Counters.RejectedTotal));
    }
}

/// <summary>A fusion actor restarted by a failure keeps the session's subscribers and its client.</summary>
public sealed class FusionRestartSpec() : TestKit(LocalConfig)
{
    [Fact]
    public void After_the_fusion_actor_fails_and_restarts_results_and_commits_still_reach_the_client_and_the_subscribers()
    {
        var wait = TimeSpan.FromSeconds(15);
        var session = Sys.ActorOf(SessionProps("refused-to-die"), "refused-to-die");
        var client = CreateTestProbe();
        var subscriber = CreateTestProbe();
        session.Tell(new OpenSession(Spec("refused-to-die"), 0, Client: client.Ref, Nonce: "the-client-link-nonce-000000"), TestActor);
        var opened = ExpectMsg<SessionOpened>(wait);
        session.Tell(new Subscribe("refused-to-die", subscriber.Ref), TestActor);
        ExpectMsg<Subscribed>(wait);

        // A real failure inside the fusion actor: a window it cannot fuse.
        EventFilter.Exception<NullReferenceException>().ExpectOne(() =>
            Sys.ActorSelection(session.Path / "fusion").Tell(new FusionActors.Runtime.Fusion.FusionActor.FuseWindow(null!, null!)));

        for (var w = 0; w < 2; w++)
        {
            foreach (var f in AudioFrames("refused-to-die", w, Sample[w], w * 50)) session.Tell(f, TestActor);
            foreach (var f in CameraFrames("refused-to-die", w, Sample[w], w * 10)) session.Tell(f, TestActor);
        }
        var toSubscriber = (FusedResult)subscriber.FishForMessage(m => m is FusedResult, wait);
        Assert.Equal(0, toSubscriber.WindowStartUs);
        var toClient = (FusedResult)client.FishForMessage(m => m is FusedResult, wait);
        Assert.Equal((0L, opened.Seal), (toClient.WindowStartUs, toClient.Seal));
        var commit = (FramesCommitted)client.FishForMessage(m => m is FramesCommitted, wait);
        Assert.Equal(opened.Seal, commit.Seal);
    }
}
