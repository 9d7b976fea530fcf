using System.Runtime.Serialization;
using System.Text;
using Akka.Serialization;
using Akka.TestKit.Xunit2;
using Xunit;
using FusionActors.Protocol;
using FusionActors.Protocol.Specs;
using FusionActors.Runtime.Hosting;
using static FusionActors.Runtime.Tests.TestSessions;

using static FusionActors.Runtime.Tests.WireJson;

namespace FusionActors.Runtime.Tests;

/// <summary>
/// A session spec's delivery policy, latency budget and stream priorities travel in the project's serializer: they
/// survive the wire; a policy that is not one defined name, or a budget that is not an integer of µs, is a serialization
/// error; a budget or priority the node's limits refuse (negative, zero, huge) is refused at open with the reason, and
/// the session is not opened.
/// </summary>
public sealed class DeliveryWireSpec() : TestKit(LocalConfig)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);

    /// <summary>The test session, latency-constrained with a 40 ms budget, its camera at priority 3.</summary>
    private static SessionSpec Constrained(string id) => Spec(id) with
    {
        Delivery = DeliveryPolicy.LatencyConstrained,
        LatencyBudgetUs = 40_000,
        Streams = [Spec(id).Streams[0], Spec(id).Streams[1] with { Priority = 3 }],
    };

    private (SerializerWithStringManifest Serializer, string Manifest, string Json) Wire(OpenSession open) => WireJson.Of(Sys, open);

    [Fact]
    public void The_delivery_policy_budget_and_priorities_survive_the_wire()
    {
        var (s, manifest, json) = Wire(new OpenSession(Constrained("dw-1"), 0));
        Assert.Contains("\"Delivery\":\"LatencyConstrained\"", json);
        var back = ((OpenSession)s.FromBinary(Encoding.UTF8.GetBytes(json), manifest)).Spec;
        Assert.Equal(DeliveryPolicy.LatencyConstrained, back.Delivery);
        Assert.Equal(40_000, back.LatencyBudgetUs);
        Assert.Equal(3, back.Streams[1].Priority);
        // A spec from a peer that knows nothing of delivery (the fields left out) reads as lossless, 50 ms.
        var old = json.Replace(",\"Delivery\":\"LatencyConstrained\"", "").Replace(",\"LatencyBudgetUs\":40000", "");
        Assert.DoesNotContain("Delivery", old);
        var plain = ((OpenSession)s.FromBinary(Encoding.UTF8.GetBytes(old), manifest)).Spec;
        Assert.Equal(DeliveryPolicy.Lossless, plain.Delivery);
        Assert.Equal(SessionSpec.DefaultLatencyBudgetUs, plain.LatencyBudgetUs);
    }

    public static TheoryData<string, string> Malformed => new()
    {
        { "\"Delivery\":\"LatencyConstrained\"", "\"Delivery\":\"Lossy\"" }, // not a defined name
        { "\"Delivery\":\"LatencyConstrained\"", "\"Delivery\":\"latency-constrained\"" }, // the text name is not the wire's
        { "\"Delivery\":\"LatencyConstrained\"", "\"Delivery\":1" }, // a number, not a name
        { "\"Delivery\":\"LatencyConstrained\"", "\"Delivery\":\"Lossless,LatencyConstrained\"" }, // no combinations
        { "\"Delivery\":\"LatencyConstrained\"", "\"Delivery\":null" },
        { "\"Delivery\":\"LatencyConstrained\"", $"\"Delivery\":\"{new string('L', 100_000)}\"" },
        { "\"Delivery\":\"LatencyConstrained\"", "\"Delivery\":\"LatencyConstrained\",\"$type\":\"System.Object\"" }, // no polymorphism
        { "\"LatencyBudgetUs\":40000", "\"LatencyBudgetUs\":\"NaN\"" },
        { "\"LatencyBudgetUs\":40000", "\"LatencyBudgetUs\":NaN" },
        { "\"LatencyBudgetUs\":40000", "\"LatencyBudgetUs\":\"Infinity\"" },
        { "\"LatencyBudgetUs\":40000", "\"LatencyBudgetUs\":1e999" },
        { "\"LatencyBudgetUs\":40000", "\"LatencyBudgetUs\":40000.5" },
        { "\"LatencyBudgetUs\":40000", "\"LatencyBudgetUs\":99999999999999999999" }, // beyond a 64-bit integer
        { "\"LatencyBudgetUs\":40000", "\"LatencyBudgetUs\":\"40000\"" },
        { "\"LatencyBudgetUs\":40000", "\"LatencyBudgetUs\":null" },
        { "\"Priority\":3", "\"Priority\":3.5" },
        { "\"Priority\":3", "\"Priority\":4294967296" }, // beyond a 32-bit integer
        { "\"Priority\":3", "\"Priority\":\"high\"" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void A_malformed_delivery_field_is_a_serialization_error(string from, string to)
    {
        var (s, manifest, json) = Wire(new OpenSession(Constrained("dw-2"), 0));
        var bad = Encoding.UTF8.GetBytes(Replaced(json, from, to));
        var e = Assert.Throws<SerializationException>(() => s.FromBinary(bad, manifest));
        Assert.True(e.Message.Length < 2_000, $"an error of {e.Message.Length} characters quotes all that the peer sent");
    }

    private int _attempt;

    private string Refusal(SerializerWithStringManifest s, string manifest, string json)
    {
        var open = (OpenSession)s.FromBinary(Encoding.UTF8.GetBytes(json), manifest);
        var id = $"dw-3-{_attempt++}";
        var session = Sys.ActorOf(SessionProps(id));
        session.Tell(open with { Spec = open.Spec with { SessionId = id } }, TestActor);
        return ExpectMsg<CommandRejected>(Wait).Reason;
    }

    [Fact]
    public void A_budget_or_priority_beyond_the_nodes_limits_is_refused_at_open_with_the_reason()
    {
        var (s, manifest, json) = Wire(new OpenSession(Constrained("dw-3"), 0));
        string RefusalOf(string from, string to) => Refusal(s, manifest, Replaced(json, from, to));

        const string budget = "\"LatencyBudgetUs\":40000";
        Assert.Contains("latencyBudget must be in [1000, 60000000] us for latency-constrained delivery, not -1", RefusalOf(budget, "\"LatencyBudgetUs\":-1"));
        Assert.Contains("latencyBudget must be in [1000, 60000000] us", RefusalOf(budget, "\"LatencyBudgetUs\":0"));
        Assert.Contains("latencyBudget must be in [1000, 60000000] us", RefusalOf(budget, "\"LatencyBudgetUs\":9223372036854775807"));
        Assert.Contains("latencyBudget must be in [1000, 60000000] us", RefusalOf(budget, "\"LatencyBudgetUs\":-9223372036854775808"));
        Assert.Contains("latencyBudget must be in [1000, 60000000] us", RefusalOf(budget, "\"LatencyBudgetUs\":60000001"));
        Assert.Contains("latencyBudget must be in [0, 60000000] us for lossless delivery",
            RefusalOf("\"Delivery\":\"LatencyConstrained\",\"LatencyBudgetUs\":40000", "\"Delivery\":\"Lossless\",\"LatencyBudgetUs\":1000000000000"));
        Assert.Contains($"stream '{Camera}': priority must be in [0, 1000]", RefusalOf("\"Priority\":3", "\"Priority\":-1"));
        Assert.Contains($"stream '{Camera}': priority must be in [0, 1000]", RefusalOf("\"Priority\":3", "\"Priority\":2147483647"));
        // The sound one opens.
        var session = Sys.ActorOf(SessionProps("dw-3-ok"));
        session.Tell(new OpenSession(Constrained("dw-3-ok"), 0), TestActor);
        ExpectMsg<SessionOpened>(Wait);
    }

    [Fact]
    public void The_nodes_bounds_bind_from_fusion_limits_HOCON_and_refuse_nonsense_naming_the_key()
    {
        var o = FusionOptions.FromHocon(FusionConfig.DefaultsText + "\nfusion.limits { min-latency-budget = 5ms, max-latency-budget = 2s, max-priority = 7 }\n");
        Assert.Equal(5_000, o.Limits.MinLatencyBudgetUs);
        Assert.Equal(2_000_000, o.Limits.MaxLatencyBudgetUs);
        Assert.Equal(7, o.Limits.MaxPriority);
        var d = FusionOptions.FromHocon(FusionConfig.DefaultsText);
        Assert.Equal((1_000, 60_000_000, 1000), (d.Limits.MinLatencyBudgetUs, d.Limits.MaxLatencyBudgetUs, d.Limits.MaxPriority));
        foreach (var (hocon, key) in new[]
                 {
                     ("fusion.limits.min-latency-budget = 0ms", "fusion.limits.min-latency-budget"),
                     ("fusion.limits { min-latency-budget = 2s, max-latency-budget = 1s }", "max-latency-budget"),
                     ("fusion.limits.max-priority = -1", "fusion.limits.max-priority"),
                 })
        {
            var e = Assert.Throws<FormatException>(() => FusionOptions.FromHocon(FusionConfig.DefaultsText + "\n" + hocon + "\n"));
            Assert.Contains(key, e.Message);
        }
    }
}
