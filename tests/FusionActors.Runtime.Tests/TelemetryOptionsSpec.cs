using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using OpenTelemetry.Trace;
using Xunit;
using FusionActors.Runtime.Hosting;
using FusionActors.Runtime.Metrics;

namespace FusionActors.Runtime.Tests;

/// <summary>Trace export options through the node's binding (off by default, aliases, section, values named), and the node's sampler.</summary>
public sealed class TelemetryOptionsSpec
{
    [Fact]
    public void Export_is_off_by_default_and_the_aliases_and_the_section_set_it()
    {
        var d = FusionOptions.FromHocon(FusionConfig.DefaultsText).Telemetry;
        Assert.False(d.Enabled);
        Assert.Null(TraceExport.Start(d));
        Assert.Equal((OtlpOptions.Grpc, 1.0, "fusion-node"), (d.Otlp.CanonicalProtocol, d.SamplingRatio, d.ServiceName));

        var h = FusionOptions.FromHocon(FusionConfig.DefaultsText + """

            fusion.telemetry.otlp { endpoint = "http://127.0.0.1:4318", protocol = "http/protobuf", headers = "api-key=x" }
            fusion.telemetry.sampling-ratio = 0.25
            """).Telemetry;
        Assert.True(h.Enabled);
        Assert.Equal((OtlpOptions.HttpProtobuf, "api-key=x", 0.25), (h.Otlp.CanonicalProtocol, h.Otlp.Headers, h.SamplingRatio));
        Assert.Equal(new Uri("http://127.0.0.1:4318/v1/traces"), h.Otlp.TracesUri()); // a base address gets the signal's path

        var c = FusionOptions.FromConfiguration(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Fusion:Telemetry:Otlp:Endpoint"] = "http://127.0.0.1:4317", ["Fusion:Telemetry:SamplingRatio"] = "0.5",
        }).Build()).Telemetry;
        Assert.Equal((new Uri("http://127.0.0.1:4317"), 0.5), (c.Otlp.TracesUri(), c.SamplingRatio));
        var e = Assert.Throws<InvalidOperationException>(() => FusionOptions.FromConfiguration(new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Fusion:Telemetry:Otlp:Endpoit"] = "http://x" }).Build()));
        Assert.Contains("Fusion:Telemetry", e.Message);
    }

    [Theory]
    [InlineData("fusion.telemetry.sampling-ratio = 1.5", "Fusion:Telemetry:SamplingRatio")]
    [InlineData("fusion.telemetry.sampling-ratio = -0.1", "Fusion:Telemetry:SamplingRatio")]
    [InlineData("fusion.telemetry.otlp.protocol = \"thrift\"", "Fusion:Telemetry:Otlp:Protocol")]
    [InlineData("fusion.telemetry.otlp.endpoint = \"collector:4317\"", "Fusion:Telemetry:Otlp:Endpoint")]
    [InlineData("fusion.telemetry.otlp.endpoint = \"ftp://collector\"", "Fusion:Telemetry:Otlp:Endpoint")]
    [InlineData("fusion.telemetry.otlp.headers = \"no-equals-sign\"", "Fusion:Telemetry:Otlp:Headers")]
    public void A_value_out_of_range_is_refused_naming_its_key(string hocon, string key)
    {
        var e = Assert.Throws<FormatException>(() => FusionOptions.FromHocon(FusionConfig.DefaultsText + "\n" + hocon + "\n"));
        Assert.Contains(key, e.Message);
    }

    [Fact]
    public void A_remote_sampled_flag_does_not_raise_the_nodes_ratio_and_a_window_root_follows_the_encodes_it_links()
    {
        var never = new FusionSampler(0);
        var always = new FusionSampler(1);
        var trace = ActivityTraceId.CreateRandom();
        var remoteSampled = new ActivityContext(trace, ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded, isRemote: true);
        var remoteNotSampled = new ActivityContext(trace, ActivitySpanId.CreateRandom(), ActivityTraceFlags.None, isRemote: true);
        var localSampled = new ActivityContext(trace, ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded);
        SamplingDecision Decide(FusionSampler s, ActivityContext parent, params ActivityLink[] links) =>
            s.ShouldSample(new SamplingParameters(parent, trace, "x", ActivityKind.Internal, links: links)).Decision;

        Assert.Equal(SamplingDecision.Drop, Decide(never, remoteSampled)); // the client's flag cannot force recording
        Assert.Equal(SamplingDecision.RecordAndSample, Decide(always, remoteSampled));
        Assert.Equal(SamplingDecision.Drop, Decide(always, remoteNotSampled)); // a client that did not sample is followed
        Assert.Equal(SamplingDecision.RecordAndSample, Decide(never, localSampled));
        Assert.Equal(SamplingDecision.RecordAndSample, Decide(never, default, new ActivityLink(localSampled)));
        Assert.Equal(SamplingDecision.Drop, Decide(never, default, new ActivityLink(remoteSampled))); // only the node's own spans count
        Assert.Equal(SamplingDecision.Drop, Decide(never, default));
    }
}
