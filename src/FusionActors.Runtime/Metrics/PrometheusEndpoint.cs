using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace FusionActors.Runtime.Metrics;

/// <summary>The OpenTelemetry meter provider with the Prometheus HTTP listener exporter: http://HOST:PORT/metrics.</summary>
public static class PrometheusEndpoint
{
    public static MeterProvider? Start(MetricsOptions options)
    {
        if (!options.PrometheusEnabled) return null;
        return Sdk.CreateMeterProviderBuilder()
            .AddMeter(FusionMetrics.MeterName)
            // The runtime's own meter: managed heap by generation, GC pauses, working set, thread pool.
            .AddMeter("System.Runtime")
            .AddPrometheusHttpListener(o =>
            {
                o.Host = options.PrometheusHostname;
                o.Port = options.PrometheusPort;
                o.ScrapeEndpointPath = "/metrics";
            })
            .Build();
    }
}
