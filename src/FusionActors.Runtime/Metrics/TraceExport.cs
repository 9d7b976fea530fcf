using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace FusionActors.Runtime.Metrics;

/// <summary>The OpenTelemetry tracer provider of a node: the FusionActors source, <see cref="FusionSampler"/>, and the OTLP exporter.</summary>
public static class TraceExport
{
    /// <summary>The node's tracer provider, or null when <see cref="TelemetryOptions.Enabled"/> is not.</summary>
    /// <param name="instance">The <c>service.instance.id</c> resource attribute (the node's address).</param>
    public static TracerProvider? Start(TelemetryOptions options, string? instance = null)
    {
        if (!options.Enabled) return null;
        var otlp = options.Otlp;
        return Sdk.CreateTracerProviderBuilder()
            .SetResourceBuilder(ResourceBuilder.CreateDefault().AddService(options.ServiceName, serviceInstanceId: instance))
            .AddSource(FusionTracing.SourceName)
            .SetSampler(new FusionSampler(options.SamplingRatio))
            .AddOtlpExporter(o =>
            {
                o.Protocol = otlp.CanonicalProtocol == OtlpOptions.HttpProtobuf ? OtlpExportProtocol.HttpProtobuf : OtlpExportProtocol.Grpc;
                o.Endpoint = otlp.TracesUri()!;
                o.TimeoutMilliseconds = (int)Math.Min(int.MaxValue, otlp.Timeout.TotalMilliseconds);
                if (!string.IsNullOrWhiteSpace(otlp.Headers)) o.Headers = otlp.Headers;
            })
            .Build();
    }
}
