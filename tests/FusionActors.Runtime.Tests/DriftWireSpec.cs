using System.Runtime.Serialization;
using System.Text;
using Akka.Serialization;
using Akka.TestKit.Xunit2;
using Xunit;
using FusionActors.Core.Specs;
using FusionActors.Protocol;
using FusionActors.Protocol.Specs;
using FusionActors.Runtime.Hosting;
using FusionActors.Runtime.Metrics;
using static FusionActors.Runtime.Tests.TestSessions;

namespace FusionActors.Runtime.Tests;

/// <summary>
/// The drift and selective-prediction fields on the wire: a stream's drift in its status, a result's Uncertain and a
/// spec's UncertainBelow survive the project's serializer; values no node could have sent are refused as malformed;
/// the Fusion:Drift options bind from fusion.drift.* HOCON and refuse out-of-range values.
/// </summary>
public sealed class DriftWireSpec() : TestKit(LocalConfig)
{
    private (SerializerWithStringManifest Serializer, string Manifest, byte[] Bytes) ToWire(object message)
    {
        var serializer = (SerializerWithStringManifest)Sys.Serialization.FindSerializerFor(message);
        return (serializer, serializer.Manifest(message), serializer.ToBinary(message));
    }

    private T RoundTrip<T>(T message) where T : notnull
    {
        var (s, m, b) = ToWire(message);
        return (T)s.FromBinary(b, m);
    }

    private static SessionStatus StatusWith(StreamDrift? drift) => new("w", true,
        [new StreamStatus("w", Camera, "image", StreamState.Active, 1, 0, 0, 0, new StreamCounters()) { Drift = drift }], null, null);

    [Fact]
    public void A_streams_drift_survives_the_wire_with_NaN_before_the_first_input()
    {
        var back = RoundTrip(StatusWith(new StreamDrift(1.5, 1.25, 20, 1.0, true, 2, 300))).Streams[0].Drift;
        Assert.Equal(new StreamDrift(1.5, 1.25, 20, 1.0, true, 2, 300), back);
        var empty = RoundTrip(StatusWith(new StreamDrift(double.NaN, double.NaN, 0, 1.0, false, 0, 0))).Streams[0].Drift!;
        Assert.True(double.IsNaN(empty.Last) && double.IsNaN(empty.Mean));
        Assert.Null(RoundTrip(StatusWith(null)).Streams[0].Drift);
    }

    [Theory]
    [InlineData("\"mean\":1.25", "\"mean\":-1")]
    [InlineData("\"mean\":1.25", "\"mean\":\"Infinity\"")]
    [InlineData("\"last\":1.5", "\"last\":\"-Infinity\"")]
    [InlineData("\"window\":20", "\"window\":-3")]
    [InlineData("\"window\":20", "\"window\":100001")]
    [InlineData("\"threshold\":1", "\"threshold\":0")]
    [InlineData("\"threshold\":1", "\"threshold\":\"NaN\"")]
    [InlineData("\"alerts\":2", "\"alerts\":-1")]
    [InlineData("\"scored\":300", "\"scored\":-5")]
    [InlineData("\"alerting\":true", "\"alerting\":true,\"severity\":9")]
    [InlineData("\"alerting\":true", "")]
    public void A_drift_no_node_could_have_sent_is_refused_as_malformed(string field, string hostile)
    {
        var (s, m, b) = ToWire(StatusWith(new StreamDrift(1.5, 1.25, 20, 1.0, true, 2, 300)));
        var json = Encoding.UTF8.GetString(b);
        Assert.Contains(field, json, StringComparison.OrdinalIgnoreCase);
        // An empty replacement removes the member (a required one: refused as missing).
        var edited = hostile.Length == 0
            ? System.Text.RegularExpressions.Regex.Replace(json, "," + System.Text.RegularExpressions.Regex.Escape(field) + "|" + System.Text.RegularExpressions.Regex.Escape(field) + ",", "",
                System.Text.RegularExpressions.RegexOptions.IgnoreCase)
            : json.Replace(field, hostile, StringComparison.OrdinalIgnoreCase);
        Assert.NotEqual(json, edited);
        var bad = Encoding.UTF8.GetBytes(edited);
        var e = Assert.Throws<SerializationException>(() => s.FromBinary(bad, m));
        Assert.Contains("malformed", e.Message);
    }

    [Fact]
    public void Uncertain_and_UncertainBelow_survive_the_wire_and_a_spec_out_of_range_is_refused_at_validation()
    {
        var result = new FusedResult("w", 0, 1_000_000, 0, FusedStatus.Fused, [0.6, 0.4], 0, "0", 0.6, 0.67,
            new Dictionary<string, double> { ["audio"] = 1 }, [], [], [], new Dictionary<string, StreamState>(), 0, "adaptive") { Uncertain = true };
        Assert.True(RoundTrip(result).Uncertain);
        Assert.False(RoundTrip(result with { Uncertain = false }).Uncertain);
        var (s, m, b) = ToWire(result);
        var bad = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(b).Replace("\"uncertain\":true", "\"uncertain\":\"yes\"", StringComparison.OrdinalIgnoreCase));
        Assert.Throws<SerializationException>(() => s.FromBinary(bad, m));

        var spec = Spec("w") with { UncertainBelow = 0.9 };
        Assert.Equal(0.9, RoundTrip(new OpenSession(spec, 0)).Spec.UncertainBelow);
        foreach (var v in new[] { -0.1, 1.5, double.NaN, double.PositiveInfinity })
            Assert.Contains(SpecValidator.Problems(Spec("w") with { UncertainBelow = v }), p => p.Contains("uncertainBelow"));
        Assert.Empty(SpecValidator.Problems(Spec("w") with { UncertainBelow = 1 }));
    }

    [Fact]
    public void The_drift_options_bind_from_fusion_drift_hocon_and_refuse_out_of_range_values()
    {
        var defaults = FusionOptions.FromHocon(FusionConfig.DefaultsText);
        Assert.Equal(new DriftOptions(), defaults.Drift);
        var set = FusionOptions.FromHocon(FusionConfig.DefaultsText + "\nfusion.drift { window = 7, alert-threshold = 2.5 }\n");
        Assert.Equal((7, 2.5), (set.Drift.Window, set.Drift.AlertThreshold));
        var e = Assert.Throws<FormatException>(() => FusionOptions.FromHocon(FusionConfig.DefaultsText + "\nfusion.drift.window = 0\n"));
        Assert.Contains("fusion.drift.window", e.Message);
        e = Assert.Throws<FormatException>(() => FusionOptions.FromHocon(FusionConfig.DefaultsText + "\nfusion.drift.alert-threshold = -1\n"));
        Assert.Contains("fusion.drift.alert-threshold", e.Message);
    }
}
