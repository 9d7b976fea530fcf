namespace FusionActors.Runtime.Metrics;

/// <summary>Trace export of a node (<c>Fusion:Telemetry</c>; docs/configuration.md, docs/observability.md). Off by default.</summary>
public sealed record TelemetryOptions
{
    /// <summary>The OTLP exporter: traces are exported only when its endpoint is set.</summary>
    public OtlpOptions Otlp { get; init; } = new();

    /// <summary>
    /// Fraction of traces the node records, 0..1, decided by trace id (a trace is kept or dropped whole). A client's
    /// "sampled" flag does not raise it. Default 1 (every trace, once an endpoint is set).
    /// </summary>
    public double SamplingRatio { get; init; } = 1.0;

    /// <summary>The <c>service.name</c> resource attribute of the node's spans. Default fusion-node.</summary>
    public string ServiceName { get; init; } = "fusion-node";

    /// <summary>Whether the node exports traces.</summary>
    public bool Enabled => !string.IsNullOrWhiteSpace(Otlp.Endpoint);

    /// <summary>What is wrong with these options, each naming its key; empty when they are valid.</summary>
    public IEnumerable<string> Problems()
    {
        if (!(SamplingRatio is >= 0 and <= 1)) yield return $"Fusion:Telemetry:SamplingRatio (fusion.telemetry.sampling-ratio) must be 0..1, not {SamplingRatio}";
        if (string.IsNullOrWhiteSpace(ServiceName)) yield return "Fusion:Telemetry:ServiceName (fusion.telemetry.service-name) must not be empty";
        foreach (var p in Otlp.Problems()) yield return p;
    }
}

/// <summary>The OTLP trace exporter (<c>Fusion:Telemetry:Otlp</c>).</summary>
public sealed record OtlpOptions
{
    public const string Grpc = "grpc", HttpProtobuf = "http/protobuf";

    /// <summary>
    /// The collector: http://host:4317 for gRPC, http://host:4318 for http/protobuf (a base address without a path
    /// gets /v1/traces). None by default: no export.
    /// </summary>
    public string? Endpoint { get; init; }

    /// <summary><c>grpc</c> (default) or <c>http/protobuf</c>.</summary>
    public string Protocol { get; init; } = Grpc;

    /// <summary>
    /// Headers sent with every export, <c>key=value</c> pairs separated by commas (an API key). When unset, the
    /// exporter takes <c>OTEL_EXPORTER_OTLP_HEADERS</c> from the environment.
    /// </summary>
    public string? Headers { get; init; }

    /// <summary>How long one export may take. Default 10 s.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The protocol by its canonical name (<c>http-protobuf</c> and <c>httpprotobuf</c> stand for <c>http/protobuf</c>); null when unknown.</summary>
    public string? CanonicalProtocol => Protocol.Trim().ToLowerInvariant() switch
    {
        "grpc" => Grpc,
        "http/protobuf" or "http-protobuf" or "httpprotobuf" => HttpProtobuf,
        _ => null,
    };

    /// <summary>The address spans are posted to: for http/protobuf a base address without a path gets /v1/traces.</summary>
    public Uri? TracesUri()
    {
        if (!Uri.TryCreate(Endpoint, UriKind.Absolute, out var uri)) return null;
        if (CanonicalProtocol != HttpProtobuf || uri.AbsolutePath is not ("" or "/")) return uri;
        return new Uri(uri, "v1/traces");
    }

    public IEnumerable<string> Problems()
    {
        if (CanonicalProtocol is null)
            yield return $"Fusion:Telemetry:Otlp:Protocol (fusion.telemetry.otlp.protocol) must be grpc or http/protobuf, not '{Protocol}'";
        if (!string.IsNullOrWhiteSpace(Endpoint)
            && (!Uri.TryCreate(Endpoint, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")))
            yield return $"Fusion:Telemetry:Otlp:Endpoint (fusion.telemetry.otlp.endpoint) must be an absolute http or https address, not '{Endpoint}'";
        if (Headers is not null && Headers.Split(',', StringSplitOptions.RemoveEmptyEntries).Any(h => h.IndexOf('=') <= 0))
            yield return "Fusion:Telemetry:Otlp:Headers (fusion.telemetry.otlp.headers) must be key=value pairs separated by commas";
        if (Timeout <= TimeSpan.Zero) yield return $"Fusion:Telemetry:Otlp:Timeout must be positive, not {Timeout}";
    }
}
