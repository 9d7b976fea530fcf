using Akka.Actor;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using Xunit;
using FusionActors.Core.Alignment;
using FusionActors.Core.Fusion;
using FusionActors.Core.Streams;
using FusionActors.Protocol;
using FusionActors.Protocol.Specs;
using FusionActors.Runtime.Fusion;
using static FusionActors.Runtime.Tests.TestSessions;

namespace FusionActors.Runtime.Tests;

/// <summary>
/// The fusion actor alone: the test plays the alignment actor (windows of hand-made evidence) and the session
/// (policy changes, the client's attach and detach); probes subscribe. The actor reads no clock: what it decides
/// depends only on the windows and the streams' health it is sent.
/// </summary>
public sealed class FusionActorSpec() : TestKit(LocalConfig)
{
    private const long Sec = 1_000_000;
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);

    private static readonly IReadOnlyDictionary<string, StreamSnapshot> Healthy = new Dictionary<string, StreamSnapshot>
    {
        [Audio] = new(StreamState.Active, 1.0),
        [Camera] = new(StreamState.Active, 1.0),
    };

    /// <summary>Calibrated log-probabilities that put <paramref name="p"/> on <paramref name="label"/>, the rest evenly.</summary>
    private static double[] LogP(int label, double p = 0.7)
    {
        var logp = new double[Labels.Length];
        for (var k = 0; k < logp.Length; k++) logp[k] = Math.Log(k == label ? p : (1 - p) / (logp.Length - 1));
        return logp;
    }

    private static Evidence Ev(string stream, long startUs, double[] logp) =>
        new(stream, stream == Audio ? "audio" : "image", startUs, startUs + 100_000, [], logp, 1.0, 0);

    private static FusionActor.FuseWindow Window(long startUs, Evidence? audio, Evidence? camera, int revision = 0,
        IReadOnlyDictionary<string, StreamSnapshot>? streams = null) =>
        new(new AlignedWindow(startUs, startUs + Sec, revision, new Dictionary<string, IReadOnlyList<Evidence>>
        {
            [Audio] = audio is null ? [] : [audio],
            [Camera] = camera is null ? [] : [camera],
        }, startUs + Sec, 0), streams ?? Healthy);

    /// <summary>Audio says 3, the camera says 5 more surely.</summary>
    private static FusionActor.FuseWindow Disagreeing(long startUs) =>
        Window(startUs, Ev(Audio, startUs, LogP(3, 0.6)), Ev(Camera, startUs, LogP(5, 0.9)));

    private (IActorRef Fusion, TestProbe Subscriber) Start(SessionSpec spec)
    {
        var fusion = Sys.ActorOf(FusionActor.Props(spec));
        var subscriber = CreateTestProbe();
        fusion.Tell(new Subscribe(spec.SessionId, subscriber.Ref), TestActor);
        ExpectMsg<Subscribed>(Wait);
        return (fusion, subscriber);
    }

    private FusionStatus StatusOf(IActorRef fusion)
    {
        fusion.Tell(FusionActor.GetStatus.Instance, TestActor);
        return ExpectMsg<FusionStatus>(Wait);
    }

    [Fact]
    public void A_window_with_both_modalities_is_fused_and_published()
    {
        var (fusion, subscriber) = Start(Spec("f-fuse"));
        fusion.Tell(Window(0, Ev(Audio, 0, LogP(3)), Ev(Camera, 0, LogP(3, 0.9))));
        var r = subscriber.ExpectMsg<FusedResult>(Wait);
        Assert.Equal(("f-fuse", 0L, Sec, FusedStatus.Fused, 3, "3", "adaptive"), (r.SessionId, r.WindowStartUs, r.WindowEndUs, r.Status, r.TopClass, r.TopLabel, r.Policy));
        Assert.Empty(r.Missing);
        Assert.Equal(1.0, r.Weights["audio"] + r.Weights["image"], 12);
        Assert.True(r.Weights["image"] > r.Weights["audio"], "the surer camera weighs more");
        Assert.Equal(1.0, r.Posterior.Sum(), 9);
        Assert.Null(r.Seal);
    }

    [Fact]
    public void A_missing_modality_gets_no_weight_and_stream_state_changes_reach_subscribers()
    {
        var (fusion, subscriber) = Start(Spec("f-missing"));
        var change = new StreamStateChanged("f-missing", Camera, StreamState.Active, StreamState.Idle, "idle");
        fusion.Tell(change);
        Assert.Equal(change, subscriber.ExpectMsg<StreamStateChanged>(Wait));

        var idle = new Dictionary<string, StreamSnapshot> { [Audio] = new(StreamState.Active, 1.0), [Camera] = new(StreamState.Idle, 0.5) };
        fusion.Tell(Window(0, Ev(Audio, 0, LogP(3)), null, streams: idle));
        var r = subscriber.ExpectMsg<FusedResult>(Wait);
        Assert.Equal(new[] { "image" }, r.Missing);
        Assert.Equal((1.0, 0.0), (r.Weights["audio"], r.Weights["image"]));
        Assert.Equal((FusedStatus.Fused, 3, StreamState.Idle), (r.Status, r.TopClass, r.States[Camera]));

        fusion.Tell(Window(Sec, null, null, streams: idle));
        var none = subscriber.ExpectMsg<FusedResult>(Wait);
        Assert.Equal(FusedStatus.NoEvidence, none.Status);
        Assert.Equal(new[] { "audio", "image" }, none.Missing);

        var status = StatusOf(fusion);
        Assert.Equal((2L, 1L, 2L), (status.Results, status.NoEvidence, status.WindowsWithMissingModality));
    }

    [Fact]
    public void A_late_revision_is_fused_again_and_late_evidence_is_published()
    {
        var (fusion, subscriber) = Start(Spec("f-late"));
        fusion.Tell(Window(0, Ev(Audio, 0, LogP(3)), null));
        Assert.Equal(new[] { "image" }, subscriber.ExpectMsg<FusedResult>(Wait).Missing);

        // The camera's evidence came late, within the allowed lateness: the window is decided again.
        fusion.Tell(Window(0, Ev(Audio, 0, LogP(3, 0.6)), Ev(Camera, 600_000, LogP(5, 0.95)), revision: 1));
        var revised = subscriber.ExpectMsg<FusedResult>(Wait);
        Assert.Equal((0L, 1, 5), (revised.WindowStartUs, revised.Revision, revised.TopClass));
        Assert.Empty(revised.Missing);

        var late = new LateEvidence("f-late", Camera, 300_000, 3, -1, 2 * Sec);
        fusion.Tell(late);
        Assert.Equal(late, subscriber.ExpectMsg<LateEvidence>(Wait));

        // A revision with a modality missing is not another window with a missing modality.
        fusion.Tell(Window(0, Ev(Audio, 0, LogP(3)), null, revision: 2));
        subscriber.ExpectMsg<FusedResult>(Wait);
        var status = StatusOf(fusion);
        Assert.Equal((3L, 1L), (status.Results, status.WindowsWithMissingModality));
    }

    [Fact]
    public void A_policy_switch_applies_from_the_next_window_on()
    {
        var spec = Spec("f-policy") with { FixedWeights = new Dictionary<string, double> { ["audio"] = 3, ["image"] = 1 } };
        var (fusion, subscriber) = Start(spec);
        fusion.Tell(Disagreeing(0));
        var adaptive = subscriber.ExpectMsg<FusedResult>(Wait);
        Assert.Equal(("adaptive", 5), (adaptive.Policy, adaptive.TopClass));

        fusion.Tell(new SetFusionPolicy("f-policy", FusionPolicy.Single("audio")), TestActor);
        Assert.Equal("single:audio", ExpectMsg<Akka.Actor.Status.Success>(Wait).Status);
        Assert.Equal("single:audio", StatusOf(fusion).Policy);
        fusion.Tell(Disagreeing(Sec));
        var single = subscriber.ExpectMsg<FusedResult>(Wait);
        Assert.Equal(("single:audio", 3, 1.0, 0.0), (single.Policy, single.TopClass, single.Weights["audio"], single.Weights["image"]));

        fusion.Tell(new SetFusionPolicy("f-policy", FusionPolicy.Fixed), TestActor);
        Assert.Equal("fixed", ExpectMsg<Akka.Actor.Status.Success>(Wait).Status);
        fusion.Tell(Disagreeing(2 * Sec));
        var fixedResult = subscriber.ExpectMsg<FusedResult>(Wait);
        Assert.Equal(("fixed", 0.75, 0.25), (fixedResult.Policy, fixedResult.Weights["audio"], fixedResult.Weights["image"]));
    }

    [Fact]
    public void A_detached_client_gets_nothing_more_and_a_restart_keeps_the_client_and_the_subscribers()
    {
        var (fusion, subscriber) = Start(Spec("f-attach"));
        var client = CreateTestProbe();
        fusion.Tell(new FusionActor.Attach(client.Ref, "seal-1"));
        fusion.Tell(Disagreeing(0));
        Assert.Equal("seal-1", client.ExpectMsg<FusedResult>(Wait).Seal);
        Assert.Null(subscriber.ExpectMsg<FusedResult>(Wait).Seal);

        // A window the engine cannot fuse (no finite log-probability) fails the actor; it restarts.
        var impossible = Enumerable.Repeat(double.NegativeInfinity, Labels.Length).ToArray();
        EventFilter.Exception<ArgumentException>().ExpectOne(() => fusion.Tell(Window(Sec, Ev(Audio, Sec, impossible), null)));
        // Windows sent while it restarts may be handled before it has its subscribers back; one after is published.
        var start = 2 * Sec;
        AwaitAssert(() =>
        {
            fusion.Tell(Disagreeing(start += Sec));
            var at = start;
            subscriber.FishForMessage(m => m is FusedResult r && r.WindowStartUs == at, TimeSpan.FromMilliseconds(500));
        }, Wait, TimeSpan.FromMilliseconds(10));
        Assert.Equal("seal-1", ((FusedResult)client.FishForMessage(m => m is FusedResult r && r.WindowStartUs == start, Wait)).Seal);

        fusion.Tell(new FusionActor.Detach(client.Ref));
        fusion.Tell(Disagreeing(start + Sec));
        Assert.Equal(start + Sec, ((FusedResult)subscriber.FishForMessage(m => m is FusedResult r && r.WindowStartUs == start + Sec, Wait)).WindowStartUs);
        // Published to subscribers and client in one step: had the client been sent it, it would be there now.
        client.ExpectNoMsg(TimeSpan.Zero);
    }
}
