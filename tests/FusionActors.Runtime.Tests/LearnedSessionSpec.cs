using Akka.Actor;
using Akka.TestKit.Xunit2;
using Xunit;
using FusionActors.Core.Fusion;
using FusionActors.Core.Specs;
using FusionActors.Protocol;
using FusionActors.Protocol.Specs;
using FusionActors.Runtime.Encoders;
using static FusionActors.Runtime.Tests.TestSessions;

namespace FusionActors.Runtime.Tests;

/// <summary>The learned policy in a session's actor tree, with the real ONNX encoders and the committed head.</summary>
public sealed class LearnedSessionSpec() : TestKit(LocalConfig)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);

    /// <summary>The node's encoders with no models/fusion.json: a node that has not loaded a head.</summary>
    private sealed class WithoutFusionModels(IEncoderProvider inner) : IEncoderProvider
    {
        public ResolvedEncoder Resolve(StreamSpec stream, int classCount) => inner.Resolve(stream, classCount);
        public FusionModels Fusion => FusionModels.None;
    }

    private void Feed(IActorRef session, string id, int windows)
    {
        long audioSeq = 0, cameraSeq = 0;
        for (var w = 0; w < windows; w++)
        {
            var item = Sample[w % Sample.Count];
            foreach (var f in AudioFrames(id, w, item, audioSeq)) session.Tell(f, TestActor);
            foreach (var f in CameraFrames(id, w, item, cameraSeq)) session.Tell(f, TestActor);
            audioSeq += 50;
            cameraSeq += 10;
        }
    }

    [Fact]
    public void A_learned_session_fuses_live_streams_with_the_committed_head()
    {
        Assert.NotNull(TestSessions.Encoders.Fusion.Learned);
        var spec = Spec("s-learned", policy: FusionPolicy.Learned);
        var session = Sys.ActorOf(SessionProps(spec.SessionId));
        session.Tell(new OpenSession(spec, 0), TestActor);
        ExpectMsg<SessionOpened>(Wait);
        var results = CreateTestProbe();
        session.Tell(new Subscribe(spec.SessionId, results.Ref), TestActor);
        ExpectMsg<Subscribed>(Wait);
        Feed(session, spec.SessionId, 4);
        for (var w = 0; w < 2; w++)
        {
            var r = (FusedResult)results.FishForMessage(m => m is FusedResult x && x.WindowStartUs == w * 1_000_000L, Wait);
            Assert.Equal(FusedStatus.Fused, r.Status);
            Assert.Equal("learned", r.Policy);
            Assert.Equal(Sample[w].Label, r.TopClass);
            Assert.Empty(r.Missing);
            Assert.Equal(1.0, r.Weights.Values.Sum(), 9);
            Assert.All(r.Weights.Values, v => Assert.InRange(v, 0.01, 0.99));
        }
    }

    [Fact]
    public void A_node_whose_fusion_json_is_broken_refuses_sessions_with_the_reason_instead_of_crashing()
    {
        var dir = Directory.CreateTempSubdirectory("broken-fusion-").FullName;
        try
        {
            var models = Path.GetDirectoryName(FusionActors.Inference.ModelCatalog.FindDefaultPath())!;
            foreach (var f in new[] { "models.json", "audio-digits.onnx", "image-digits.onnx" }) File.Copy(Path.Combine(models, f), Path.Combine(dir, f));
            File.WriteAllText(Path.Combine(dir, "fusion.json"), "{\"calibration\": {\"adaptive\": {\"audio\": -2}}}");
            using var registry = new FusionActors.Inference.ModelRegistry(FusionActors.Inference.ModelCatalog.Load(Path.Combine(dir, "models.json")));
            var spec = Spec("s-broken");
            var session = Sys.ActorOf(SessionProps(spec.SessionId, new RegistryEncoderProvider(registry)));
            session.Tell(new OpenSession(spec, 0), TestActor);
            var rejected = ExpectMsg<CommandRejected>(Wait);
            Assert.Contains("fusion.json is unusable", rejected.Reason);
            Assert.Contains("outside", rejected.Reason);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void A_node_without_a_head_refuses_learned_at_open_and_as_a_policy_change()
    {
        var encoders = new WithoutFusionModels(TestSessions.Encoders);
        var spec = Spec("s-nohead", policy: FusionPolicy.Learned);
        var refused = Sys.ActorOf(SessionProps(spec.SessionId, encoders));
        refused.Tell(new OpenSession(spec, 0), TestActor);
        Assert.Contains("learned head", ExpectMsg<CommandRejected>(Wait).Reason);

        var adaptive = Spec("s-nohead-2");
        var session = Sys.ActorOf(SessionProps(adaptive.SessionId, encoders));
        session.Tell(new OpenSession(adaptive, 0), TestActor);
        ExpectMsg<SessionOpened>(Wait);
        session.Tell(new SetFusionPolicy(adaptive.SessionId, FusionPolicy.Learned), TestActor);
        Assert.Contains("learned head", ExpectMsg<CommandRejected>(Wait).Reason);
    }
}
