namespace FusionActors.Runtime.Metrics;

/// <summary>Metrics export of a node (<c>Fusion:Metrics</c>; docs/configuration.md).</summary>
public sealed record MetricsOptions
{
    /// <summary>Serve a Prometheus scrape endpoint (OpenTelemetry exporter). Default off.</summary>
    public bool PrometheusEnabled { get; init; }

    /// <summary>Address of the scrape endpoint. Default 127.0.0.1.</summary>
    public string PrometheusHostname { get; init; } = "127.0.0.1";

    /// <summary>Port of the scrape endpoint (http://HOST:PORT/metrics). Default 9464.</summary>
    public int PrometheusPort { get; init; } = 9464;

    /// <summary>What is wrong with these options, each naming its key; empty when they are valid.</summary>
    public IEnumerable<string> Problems()
    {
        if (PrometheusPort is <= 0 or > 65535)
            yield return $"Fusion:Metrics:PrometheusPort (fusion.metrics.prometheus.port) must be 1..65535, not {PrometheusPort}";
    }
}
