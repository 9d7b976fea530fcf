using Akka.TestKit.Xunit2;
using Xunit;
using FusionActors.Core.Specs;
using FusionActors.Core.Streams;
using FusionActors.Protocol;
using FusionActors.Protocol.Serialization;
using FusionActors.Protocol.Specs;
using static FusionActors.Runtime.Tests.TestSessions;

namespace FusionActors.Runtime.Tests;

public sealed class ControlMessageSerializationSpec() : TestKit(LocalConfig)
{
    private T RoundTrip<T>(T message) where T : notnull
    {
        var serializer = Sys.Serialization.FindSerializerFor(message);
        var manifest = Akka.Serialization.Serialization.ManifestFor(serializer, message);
        return (T)Sys.Serialization.Deserialize(serializer.ToBinary(message), serializer.Identifier, manifest);
    }

    [Fact]
    public void Status_and_results_of_a_running_session_survive_the_wire()
    {
        var session = Sys.ActorOf(SessionProps("wire-2"));
        session.Tell(new OpenSession(Spec("wire-2"), 0), TestActor);
        RoundTrip(ExpectMsg<SessionOpened>(TimeSpan.FromSeconds(15)));
        var probe = CreateTestProbe();
        session.Tell(new Subscribe("wire-2", probe.Ref), TestActor);
        ExpectMsg<Subscribed>(TimeSpan.FromSeconds(15));
        for (var w = 0; w < 2; w++)
        {
            foreach (var f in AudioFrames("wire-2", w, Sample[w], w * 50)) session.Tell(f, TestActor);
            foreach (var f in CameraFrames("wire-2", w, Sample[w], w * 10)) session.Tell(f, TestActor);
        }
        var result = (FusedResult)probe.FishForMessage(m => m is FusedResult, TimeSpan.FromSeconds(15));
        var back = RoundTrip(result);
        Assert.Equal(result.Posterior, back.Posterior);
        Assert.Equal(result.Weights, back.Weights);
        Assert.Equal(result.States, back.States);
        Assert.Equal((result.WindowStartUs, result.Revision, result.TopClass), (back.WindowStartUs, back.Revision, back.TopClass));

        session.Tell(new GetSessionStatus("wire-2"), TestActor);
        var status = RoundTrip(ExpectMsg<SessionStatus>(TimeSpan.FromSeconds(15)));
        Assert.Equal(2, status.Streams.Count);
        Assert.NotNull(status.Fusion);
        var rejected = RoundTrip(new FrameRejected("wire-2", Camera, 3, RejectReason.OutOfRange, "value 0 is 200"));
        Assert.Equal(RejectReason.OutOfRange, rejected.Reason);
    }

    [Fact]
    public void Every_wire_type_is_bound_to_a_serializer_of_the_project_and_nothing_else_falls_back_to_json()
    {
        foreach (var t in WireTypes.Frames) Assert.IsType<FrameSerializer>(Sys.Serialization.FindSerializerForType(t));
        foreach (var t in WireTypes.Control.Values) Assert.IsType<ProtocolSerializer>(Sys.Serialization.FindSerializerForType(t));
        // Every protocol record that can be sent is in the table (a new one without a binding would not travel).
        var wire = WireTypes.Control.Values.Concat(WireTypes.Frames).ToHashSet();
        Type[] nested = [typeof(SessionResume), typeof(StreamStatus)]; // travel only inside an OpenSession or a SessionStatus
        var records = typeof(ProtocolMessage).Assembly.GetTypes().Where(t => t.IsSubclassOf(typeof(ProtocolMessage)) && !t.IsAbstract && !nested.Contains(t));
        Assert.DoesNotContain(records, t => !wire.Contains(t));
        Assert.Throws<System.Runtime.Serialization.SerializationException>(() => Sys.Serialization.FindSerializerFor(new { Unbound = true }));
    }

    [Fact]
    public void Secrets_never_show_in_a_message_printed_to_a_log()
    {
        var open = new OpenSession(Spec("print"), 0, "the-token-itself", new SessionResume(0, [], 3, "the-capability-itself-00000"), Nonce: "the-nonce-itself-000000000");
        var text = open + " " + new SessionOpened("print", [], 0, Capability: "the-capability-itself-00000", Seal: "the-seal-itself-0000000000") + " " +
            new CloseSession("print", "the-capability-itself-00000");
        Assert.DoesNotContain("itself", text);
        Assert.Contains("print", text);
        Assert.Contains("***", text);
    }

    [Fact]
    public void OpenSession_survives_the_wire()
    {
        var spec = Spec("wire-1", allowedLatenessUs: 5, policy: FusionPolicy.Single("audio")) with
        {
            FixedWeights = new Dictionary<string, double> { ["audio"] = 1, ["image"] = 0.7 },
        };
        var back = RoundTrip(new OpenSession(spec, 123, "tok"));
        Assert.Equal("wire-1", back.SessionId);
        Assert.Equal(spec.Streams, back.Spec.Streams);
        Assert.Equal(spec.Window, back.Spec.Window);
        Assert.Equal(spec.Policy, back.Spec.Policy);
        Assert.Equal(spec.Labels, back.Spec.Labels);
        Assert.Equal(0.7, back.Spec.FixedWeights["image"]);
        Assert.Equal(("tok", 123L), (back.Token, back.ClientNowUs));
    }
}
