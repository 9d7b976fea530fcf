using Akka.Actor;
using Akka.TestKit.Xunit2;
using Xunit;
using FusionActors.Protocol;
using static FusionActors.Runtime.Tests.TestSessions;

namespace FusionActors.Runtime.Tests;

/// <summary>
/// Two incarnations of one session after a pause: an open the client sent while its node was paused reached the shard's
/// new home late and made an incarnation there from that old resume point, while the woken node went on serving the client
/// and committing. When that node goes, the client reopens with its newer resume point and reaches the stale incarnation,
/// which lacks every frame the client had since forgotten.
/// </summary>
public sealed class StaleIncarnationSpec() : TestKit(LocalConfig)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
    private const string Nonce = "the-link-nonce-of-the-one-writer";

    [Fact]
    public void A_reopen_ahead_of_the_incarnation_it_reaches_makes_it_stop_and_a_fresh_one_fuses_no_window_empty()
    {
        const string id = "stale-incarnation";
        var client = CreateTestProbe();

        // The late open: resume point 0 (nothing committed yet when the client sent it), the client's first reopen.
        var stale = Sys.ActorOf(SessionProps(id));
        Watch(stale);
        var old = new SessionResume(0, new Dictionary<string, long> { [Audio] = 0, [Camera] = 0 }, Generation: 1);
        stale.Tell(new OpenSession(Spec(id), 0, Resume: old, Client: client.Ref, Nonce: Nonce), TestActor);
        ExpectMsg<SessionOpened>(Wait);

        // Meanwhile the other incarnation fused and committed windows 0..2 (frames 0..149 of audio, 0..29 of camera), and
        // the client delivered them and forgot their frames. It reopens with that resume point and reaches the stale one.
        var ahead = new SessionResume(3_000_000, new Dictionary<string, long> { [Audio] = 150, [Camera] = 30 }, Generation: 2);
        stale.Tell(new OpenSession(Spec(id), 0, Resume: ahead, Client: client.Ref, Nonce: Nonce), TestActor);
        var refused = ExpectMsg<CommandRejected>(Wait);
        Assert.Equal((nameof(OpenSession), Nonce), (refused.Command, refused.Nonce));
        Assert.Contains("retry", refused.Reason); // the client retries the open: not a refusal for good
        ExpectTerminated(stale, Wait);

        // The retried open makes a fresh incarnation (the shard restarts the entity) from the client's resume point.
        var fresh = Sys.ActorOf(SessionProps(id));
        fresh.Tell(new OpenSession(Spec(id), 0, Resume: ahead, Client: client.Ref, Nonce: Nonce), TestActor);
        var opened = ExpectMsg<SessionOpened>(Wait);
        for (var w = 3; w < 5; w++)
        {
            foreach (var f in AudioFrames(id, w, Sample[w], 150 + (w - 3) * 50)) fresh.Tell(f, TestActor);
            foreach (var f in CameraFrames(id, w, Sample[w], 30 + (w - 3) * 10)) fresh.Tell(f, TestActor);
        }
        fresh.Tell(new CloseStream(id, Audio), TestActor);
        fresh.Tell(new CloseStream(id, Camera), TestActor);
        var results = new List<FusedResult>();
        client.FishForMessage(m =>
        {
            if (m is FusedResult r) results.Add(r);
            return m is FramesCommitted { ThroughUs: long.MaxValue };
        }, Wait);
        // Only the windows the client still held frames of, fused on them, numbered above both earlier incarnations.
        Assert.All(results, r => Assert.Equal(opened.Seal, r.Seal));
        Assert.Equal([3_000_000L, 4_000_000L], results.Select(r => r.WindowStartUs).Distinct().Order());
        Assert.All(results, r => Assert.Equal(FusedStatus.Fused, r.Status));
        Assert.All(results, r => Assert.True(r.Revision >= 2 * FusionActors.Core.Alignment.Aligner.RevisionsPerGeneration, $"revision {r.Revision}"));
    }

    [Fact]
    public void A_reopen_by_the_same_writer_that_is_not_ahead_attaches_to_the_live_incarnation_as_before()
    {
        const string id = "live-incarnation";
        var client = CreateTestProbe();
        var session = Sys.ActorOf(SessionProps(id));
        Watch(session);
        session.Tell(new OpenSession(Spec(id), 0, Client: client.Ref, Nonce: Nonce), TestActor);
        var first = ExpectMsg<SessionOpened>(Wait);
        for (var w = 0; w < 2; w++)
        {
            foreach (var f in AudioFrames(id, w, Sample[w], w * 50)) session.Tell(f, TestActor);
            foreach (var f in CameraFrames(id, w, Sample[w], w * 10)) session.Tell(f, TestActor);
        }
        var commit = (FramesCommitted)client.FishForMessage(m => m is FramesCommitted { ThroughUs: >= 1_000_000 }, Wait);
        // A connection blip: the client reopens at the commit point it was given by this very incarnation.
        var resume = new SessionResume(commit.ThroughUs, new Dictionary<string, long> { [Audio] = 50, [Camera] = 10 }, first.Epoch, first.Capability, Generation: 1);
        session.Tell(new OpenSession(Spec(id), 0, Resume: resume, Client: client.Ref, Nonce: Nonce), TestActor);
        var again = ExpectMsg<SessionOpened>(Wait);
        Assert.Equal((first.Epoch, first.Seal), (again.Epoch, again.Seal));
        ExpectNoMsg(TimeSpan.FromMilliseconds(300)); // not stopped
    }
}
