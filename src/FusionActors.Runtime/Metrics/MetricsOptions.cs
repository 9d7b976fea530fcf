using Akka.Configuration;

namespace FusionActors.Runtime.Metrics;

/// <summary>Metrics export of a node (<c>fusion.metrics</c> in config/fusion.hocon).</summary>
public sealed record MetricsOptions
{
    /// <summary>Serve a Prometheus scrape endpoint (OpenTelemetry exporter). Default off.</summary>
    public bool PrometheusEnabled { get; init; }

    /// <summary>Address of the scrape endpoint. Default 127.0.0.1.</summary>
    public string PrometheusHostname { get; init; } = "127.0.0.1";

    /// <summary>Port of the scrape endpoint (http://HOST:PORT/metrics). Default 9464.</summary>
    public int PrometheusPort { get; init; } = 9464;

    public static MetricsOptions FromConfig(Config fusion) => new()
    {
        PrometheusEnabled = fusion.GetBoolean("metrics.prometheus.enabled", false),
        PrometheusHostname = fusion.GetString("metrics.prometheus.hostname", "127.0.0.1"),
        PrometheusPort = fusion.GetInt("metrics.prometheus.port", 9464),
    };
}
