using System.Runtime.Serialization;
using System.Text;
using Akka.Serialization;
using Akka.TestKit.Xunit2;
using Xunit;
using FusionActors.Protocol;
using FusionActors.Protocol.Specs;
using static FusionActors.Runtime.Tests.TestSessions;

using static FusionActors.Runtime.Tests.WireJson;

namespace FusionActors.Runtime.Tests;

/// <summary>
/// A session spec's gates travel in the project's serializer: they survive the wire, a malformed gate is a
/// serialization error, and a gate the spec's validation refuses (out-of-range floor, unknown or endless stream ids)
/// is refused at open with the reason.
/// </summary>
public sealed class GateWireSpec() : TestKit(LocalConfig)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);

    /// <summary>The test session with a third stream that gates the audio (the no-op encoder: this is about the spec).</summary>
    private static SessionSpec Gated(string id, double floor = 0.2) => Spec(id) with
    {
        Streams =
        [
            .. Spec(id).Streams,
            new StreamSpec { StreamId = "voice", Modality = "voice", Model = "noop", FrameLength = 320, MaxFutureSkewUs = 3_600_000_000 },
        ],
        Gates = [new StreamGate { Gate = "voice", Gated = Audio, Floor = floor, Pooling = GatePooling.Mean }],
    };

    private SerializerWithStringManifest Serializer(object message) => (SerializerWithStringManifest)Sys.Serialization.FindSerializerFor(message);

    private (SerializerWithStringManifest Serializer, string Manifest, string Json) Wire(OpenSession open) => WireJson.Of(Sys, open);

    [Fact]
    public void Gates_survive_the_wire()
    {
        var spec = Gated("gw-1");
        var (s, manifest, json) = Wire(new OpenSession(spec, 0));
        var back = (OpenSession)s.FromBinary(Encoding.UTF8.GetBytes(json), manifest);
        var gate = Assert.Single(back.Spec.Gates);
        Assert.Equal(spec.Gates[0], gate);
        Assert.Equal(GatePooling.Mean, gate.Pooling);
        // A spec without gates reads as before, with none.
        var plain = Wire(new OpenSession(Spec("gw-0"), 0));
        Assert.Empty(((OpenSession)plain.Serializer.FromBinary(Encoding.UTF8.GetBytes(plain.Json), plain.Manifest)).Spec.Gates);
    }

    private static FusedResult Result(IReadOnlyDictionary<string, double> gates) =>
        new FusedResult("s", 0, 1, 0, FusedStatus.Fused, [1.0], 0, "0", 1, 0, new Dictionary<string, double>(), [], [], [],
            new Dictionary<string, StreamState>(), 0, "adaptive") { Gates = gates };

    [Fact]
    public void A_results_gate_factors_survive_the_wire()
    {
        var result = Result(new Dictionary<string, double> { ["audio"] = 0.325 });
        var s = Serializer(result);
        var back = (FusedResult)s.FromBinary(s.ToBinary(result), s.Manifest(result));
        Assert.Equal(0.325, Assert.Single(back.Gates, g => g.Key == "audio").Value);
        // A result without gates (and one from a sender that has none) reads with none.
        var plain = Result(new Dictionary<string, double>());
        var json = Encoding.UTF8.GetString(s.ToBinary(plain));
        Assert.Empty(((FusedResult)s.FromBinary(Encoding.UTF8.GetBytes(Replaced(json, ",\"Gates\":{}", "")), s.Manifest(plain))).Gates);
    }

    [Theory]
    [InlineData("\"Gates\":{\"audio\":1.5}")]
    [InlineData("\"Gates\":{\"audio\":-0.1}")]
    [InlineData("\"Gates\":{\"audio\":\"NaN\"}")]
    [InlineData("\"Gates\":{\"\":0.5}")]
    [InlineData("\"Gates\":{\"audio\":null}")]
    [InlineData("\"Gates\":[0.5]")]
    [InlineData("\"Gates\":null")]
    [InlineData("LONG")]
    [InlineData("MANY")]
    public void A_results_gate_factors_out_of_bounds_must_not_deserialize(string gates)
    {
        var valid = Result(new Dictionary<string, double> { ["audio"] = 0.5 });
        var s = Serializer(valid);
        gates = gates switch
        {
            "LONG" => $"\"Gates\":{{\"{new string('m', FusedResult.MaxModalityLength + 1)}\":0.5}}",
            "MANY" => "\"Gates\":{" + string.Join(",", Enumerable.Range(0, FusedResult.MaxGates + 1).Select(i => $"\"m{i}\":0.5")) + "}",
            _ => gates,
        };
        var json = Replaced(Encoding.UTF8.GetString(s.ToBinary(valid)), "\"Gates\":{\"audio\":0.5}", gates);
        Assert.Throws<SerializationException>(() => s.FromBinary(Encoding.UTF8.GetBytes(json), s.Manifest(valid)));
        Assert.Throws<ArgumentException>(() => valid with { Gates = new Dictionary<string, double> { ["audio"] = 2 } });
    }

    public static TheoryData<string, string> Malformed => new()
    {
        { "\"Pooling\":\"Mean\"", "\"Pooling\":\"Median\"" }, // not a defined name
        { "\"Pooling\":\"Mean\"", "\"Pooling\":1" }, // a number, not a name
        { "\"Pooling\":\"Mean\"", "\"Pooling\":\"Mean\",\"$type\":\"System.Object\"" }, // no polymorphism, no unknown field
        { "\"Gate\":\"voice\",", "" }, // required
        { "\"Gate\":\"voice\"", "\"Gate\":null" },
        { "\"Floor\":0.2", "\"Floor\":\"0.2\"" },
        { "\"Floor\":0.2", "\"Floor\":true" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void A_malformed_gate_is_a_serialization_error(string from, string to)
    {
        var (s, manifest, json) = Wire(new OpenSession(Gated("gw-2"), 0));
        var bad = Replaced(json, from, to);
        Assert.Throws<SerializationException>(() => s.FromBinary(Encoding.UTF8.GetBytes(bad), manifest));
    }

    [Fact]
    public void Gates_that_are_null_or_not_a_list_are_a_serialization_error()
    {
        var (s, manifest, json) = Wire(new OpenSession(Gated("gw-3"), 0));
        var start = json.IndexOf("\"Gates\":[", StringComparison.Ordinal);
        Assert.True(start >= 0, json);
        var end = json.IndexOf(']', start);
        foreach (var value in new[] { "null", "{}", "\"voice\"", "[null]" })
        {
            var bad = json[..(start + "\"Gates\":".Length)] + value + json[(end + 1)..];
            if (value == "[null]")
            {
                // A null entry reads (the list is the spec's), and the spec's validation refuses it at open.
                var open = (OpenSession)s.FromBinary(Encoding.UTF8.GetBytes(bad), manifest);
                Assert.Contains("a gate (or its gate or gated stream) is null", Refusal(open with { Spec = open.Spec with { SessionId = "gw-3n" } }));
                continue;
            }
            Assert.Throws<SerializationException>(() => s.FromBinary(Encoding.UTF8.GetBytes(bad), manifest));
        }
    }

    private string Refusal(OpenSession open)
    {
        var session = Sys.ActorOf(SessionProps(open.Spec.SessionId));
        session.Tell(open, TestActor);
        return ExpectMsg<CommandRejected>(Wait).Reason;
    }

    [Fact]
    public void A_gate_that_cannot_work_is_refused_at_open_with_the_reason()
    {
        var (s, manifest, json) = Wire(new OpenSession(Gated("gw-4"), 0));
        // Each attempt on a session of its own id.
        var n = 0;
        string RefusalOf(string from, string to)
        {
            var open = (OpenSession)s.FromBinary(Encoding.UTF8.GetBytes(Replaced(json, from, to)), manifest);
            return Refusal(open with { Spec = open.Spec with { SessionId = $"gw-4-{n++}" } });
        }

        Assert.Contains("floor must be a number in [0, 1]", RefusalOf("\"Floor\":0.2", "\"Floor\":\"NaN\""));
        Assert.Contains("floor must be a number in [0, 1]", RefusalOf("\"Floor\":0.2", "\"Floor\":-1"));
        Assert.Contains("floor must be a number in [0, 1]", RefusalOf("\"Floor\":0.2", "\"Floor\":1e999")); // reads as infinity
        Assert.Contains("the gated stream is not a stream", RefusalOf($"\"Gated\":\"{Audio}\"", "\"Gated\":\"nowhere\""));
        var refused = RefusalOf("\"Gate\":\"voice\"", $"\"Gate\":\"{new string('v', 100_000)}\"");
        Assert.Contains("the gate is not a stream of the session", refused);
        Assert.True(refused.Length < 2_000, $"a refusal of {refused.Length} characters quotes all that the peer sent");
        // The sound one opens.
        var session = Sys.ActorOf(SessionProps("gw-4-ok"));
        session.Tell(new OpenSession(Gated("gw-4-ok"), 0), TestActor);
        ExpectMsg<SessionOpened>(Wait);
    }
}
