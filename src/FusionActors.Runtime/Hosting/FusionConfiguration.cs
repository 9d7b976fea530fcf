using Akka.Configuration;
using Microsoft.Extensions.Configuration;

namespace FusionActors.Runtime.Hosting;

/// <summary>
/// Where a node's options come from, lowest precedence first: the <c>fusion.*</c> keys of its HOCON file
/// (aliases kept for existing files), the <c>FUSION_*</c> environment variables (aliases kept for existing
/// deployments), then the application's <see cref="IConfiguration"/> (appsettings.json, <c>Fusion__*</c>
/// environment variables, the command line). Every key lives under the <see cref="Section"/> section;
/// docs/configuration.md lists them.
/// </summary>
public static class FusionConfiguration
{
    /// <summary>The configuration section of a node's options.</summary>
    public const string Section = "Fusion";

    /// <summary>The key of the HOCON file layered over the embedded Akka settings (FUSION_CONFIG, --config).</summary>
    public const string ConfigFileKey = "Fusion:Config";

    private enum Kind { Text, Int, Bool, List, Duration, Micros, Double }

    private sealed record Alias(string Hocon, string Key, Kind Kind);

    // fusion.* HOCON paths (relative to "fusion") and the keys they stand for.
    private static readonly Alias[] HoconAliases =
    [
        new("node.hostname", "Fusion:Node:Hostname", Kind.Text),
        new("node.port", "Fusion:Node:Port", Kind.Int),
        new("node.roles", "Fusion:Node:Roles", Kind.List),
        new("node.seeds", "Fusion:Node:Seeds", Kind.List),
        new("models", "Fusion:Models", Kind.Text),
        new("sharding.shards", "Fusion:Sharding:Shards", Kind.Int),
        new("sharding.passivate-idle-after", "Fusion:Sharding:PassivateIdleAfter", Kind.Duration),
        new("sessions.hibernate-after", "Fusion:Sessions:HibernateAfter", Kind.Duration),
        new("streams.repeat-cache-entries", "Fusion:Streams:RepeatCacheEntries", Kind.Int),
        new("streams.repeat-cache-max-input-bytes", "Fusion:Streams:RepeatCacheMaxInputBytes", Kind.Int),
        new("security.session-tokens", "Fusion:Security:SessionTokens", Kind.List),
        new("security.allow-anonymous-sessions", "Fusion:Security:AllowAnonymousSessions", Kind.Bool),
        new("security.allow-plaintext-remoting", "Fusion:Security:AllowPlaintextRemoting", Kind.Bool),
        new("tls.ca", "Fusion:Tls:Ca", Kind.Text),
        new("limits.max-sessions", "Fusion:Limits:MaxSessions", Kind.Int),
        new("limits.max-streams", "Fusion:Limits:MaxStreams", Kind.Int),
        new("limits.max-labels", "Fusion:Limits:MaxLabels", Kind.Int),
        new("limits.max-id-length", "Fusion:Limits:MaxIdLength", Kind.Int),
        new("limits.max-frame-bytes", "Fusion:Limits:MaxFrameBytes", Kind.Int),
        new("limits.max-input-samples", "Fusion:Limits:MaxInputSamples", Kind.Int),
        new("limits.max-inputs-per-frame", "Fusion:Limits:MaxInputsPerFrame", Kind.Int),
        new("limits.max-windows-per-instant", "Fusion:Limits:MaxWindowsPerInstant", Kind.Int),
        new("limits.min-window-hop", "Fusion:Limits:MinWindowHopUs", Kind.Micros),
        new("limits.max-duration", "Fusion:Limits:MaxDurationUs", Kind.Micros),
        new("limits.max-future-skew", "Fusion:Limits:MaxFutureSkewUs", Kind.Micros),
        new("limits.max-sample-rate-hz", "Fusion:Limits:MaxSampleRateHz", Kind.Double),
        new("limits.max-pending-inputs", "Fusion:Limits:MaxPendingInputs", Kind.Int),
        new("limits.max-batch", "Fusion:Limits:MaxBatch", Kind.Int),
        new("limits.max-pending-encoder-inputs", "Fusion:Limits:MaxPendingEncoderInputs", Kind.Int),
        new("limits.max-seq-ahead", "Fusion:Limits:MaxSeqAhead", Kind.Int),
        new("limits.max-buffered-evidence", "Fusion:Limits:MaxBufferedEvidence", Kind.Int),
        new("limits.max-retained-input-bytes", "Fusion:Limits:MaxRetainedInputBytes", Kind.Int),
        new("limits.max-weight", "Fusion:Limits:MaxWeight", Kind.Double),
        new("limits.min-latency-budget", "Fusion:Limits:MinLatencyBudgetUs", Kind.Micros),
        new("limits.max-latency-budget", "Fusion:Limits:MaxLatencyBudgetUs", Kind.Micros),
        new("limits.max-priority", "Fusion:Limits:MaxPriority", Kind.Int),
        new("encoder.restart-min-backoff", "Fusion:Encoder:Min", Kind.Duration),
        new("encoder.restart-max-backoff", "Fusion:Encoder:Max", Kind.Duration),
        new("encoder.restart-jitter", "Fusion:Encoder:Jitter", Kind.Double),
        new("encoder.max-restarts", "Fusion:Encoder:MaxRestarts", Kind.Int),
        new("encoder.restart-window", "Fusion:Encoder:Within", Kind.Duration),
        new("encoder.failed-cooldown", "Fusion:Encoder:FailedCooldown", Kind.Duration),
        new("encoder.deadline", "Fusion:Encoder:EncodeDeadline", Kind.Duration),
        new("encoder.batching.enabled", "Fusion:Batching:Enabled", Kind.Bool),
        new("encoder.batching.max-batch", "Fusion:Batching:MaxBatch", Kind.Int),
        new("encoder.batching.max-call-values", "Fusion:Batching:MaxCallValues", Kind.Int),
        new("encoder.batching.max-queue-delay", "Fusion:Batching:MaxQueueDelay", Kind.Duration),
        new("encoder.batching.max-in-flight-per-session", "Fusion:Batching:MaxInFlightPerSession", Kind.Int),
        new("encoder.batching.threads", "Fusion:Batching:Threads", Kind.Int),
        new("encoder.batching.max-stalled-threads", "Fusion:Batching:MaxStalledThreads", Kind.Int),
        new("console.enabled", "Fusion:Console:Enabled", Kind.Bool),
        new("console.hostname", "Fusion:Console:Hostname", Kind.Text),
        new("console.port", "Fusion:Console:Port", Kind.Int),
        new("console.token", "Fusion:Console:Token", Kind.Text),
        new("console.tls.certificate", "Fusion:Console:TlsCertificate", Kind.Text),
        new("console.tls.password", "Fusion:Console:TlsPassword", Kind.Text),
        new("console.fail-if-port-taken", "Fusion:Console:FailIfPortTaken", Kind.Bool),
        new("console.max-connections", "Fusion:Console:MaxConnections", Kind.Int),
        new("console.idle-timeout", "Fusion:Console:IdleTimeout", Kind.Duration),
        new("console.max-queued-responses", "Fusion:Console:MaxQueuedResponses", Kind.Int),
        new("metrics.prometheus.enabled", "Fusion:Metrics:PrometheusEnabled", Kind.Bool),
        new("metrics.prometheus.hostname", "Fusion:Metrics:PrometheusHostname", Kind.Text),
        new("metrics.prometheus.port", "Fusion:Metrics:PrometheusPort", Kind.Int),
        new("telemetry.otlp.endpoint", "Fusion:Telemetry:Otlp:Endpoint", Kind.Text),
        new("telemetry.otlp.protocol", "Fusion:Telemetry:Otlp:Protocol", Kind.Text),
        new("telemetry.otlp.headers", "Fusion:Telemetry:Otlp:Headers", Kind.Text),
        new("telemetry.sampling-ratio", "Fusion:Telemetry:SamplingRatio", Kind.Double),
        new("telemetry.service-name", "Fusion:Telemetry:ServiceName", Kind.Text),
        new("drift.window", "Fusion:Drift:Window", Kind.Int),
        new("drift.alert-threshold", "Fusion:Drift:AlertThreshold", Kind.Double),
        new("http.enabled", "Fusion:Http:Enabled", Kind.Bool),
        new("http.hostname", "Fusion:Http:Hostname", Kind.Text),
        new("http.port", "Fusion:Http:Port", Kind.Int),
        new("http.tls.certificate", "Fusion:Http:TlsCertificate", Kind.Text),
        new("http.tls.password", "Fusion:Http:TlsPassword", Kind.Text),
        new("http.max-connections", "Fusion:Http:MaxConnections", Kind.Int),
        new("http.max-message-bytes", "Fusion:Http:MaxMessageBytes", Kind.Int),
        new("http.max-queued-messages", "Fusion:Http:MaxQueuedMessages", Kind.Int),
        new("http.send-timeout", "Fusion:Http:SendTimeout", Kind.Duration),
        new("http.open-timeout", "Fusion:Http:OpenTimeout", Kind.Duration),
        new("http.idle-timeout", "Fusion:Http:IdleTimeout", Kind.Duration),
        new("http.session-silence", "Fusion:Http:SessionSilence", Kind.Duration),
        new("recording.directory", "Fusion:Recording:Directory", Kind.Text),
        new("recording.sessions", "Fusion:Recording:Sessions", Kind.List),
        new("recording.max-queued-records", "Fusion:Recording:MaxQueuedRecords", Kind.Int),
        new("recording.max-queued-bytes", "Fusion:Recording:MaxQueuedBytes", Kind.Text),
        new("recording.max-file-bytes", "Fusion:Recording:MaxFileBytes", Kind.Text),
        new("recording.max-age", "Fusion:Recording:MaxAge", Kind.Duration),
        new("recording.max-total-bytes", "Fusion:Recording:MaxTotalBytes", Kind.Text),
        new("recording.retention-interval", "Fusion:Recording:RetentionInterval", Kind.Duration),
        new("recording.key-id", "Fusion:Recording:KeyId", Kind.Text),
    ];

    // FUSION_* environment variables and the keys they stand for.
    private static readonly Alias[] EnvironmentAliases =
    [
        new("FUSION_HOSTNAME", "Fusion:Node:Hostname", Kind.Text),
        new("FUSION_PORT", "Fusion:Node:Port", Kind.Int),
        new("FUSION_ROLES", "Fusion:Node:Roles", Kind.List),
        new("FUSION_SEEDS", "Fusion:Node:Seeds", Kind.List),
        new("FUSION_MODELS", "Fusion:Models", Kind.Text),
        new("FUSION_SESSION_TOKENS", "Fusion:Security:SessionTokens", Kind.List),
        new("FUSION_ALLOW_PLAINTEXT_REMOTING", "Fusion:Security:AllowPlaintextRemoting", Kind.Bool),
        new("FUSION_TLS_CA", "Fusion:Tls:Ca", Kind.Text),
        new("FUSION_TLS_PASSWORD", "Fusion:Tls:CertificatePassword", Kind.Text),
        new("FUSION_CONSOLE_TOKEN", "Fusion:Console:Token", Kind.Text),
        new("FUSION_CONSOLE_PORT", "Fusion:Console:Port", Kind.Int),
        new("FUSION_CONSOLE_TLS_CERT", "Fusion:Console:TlsCertificate", Kind.Text),
        new("FUSION_CONSOLE_TLS_PASSWORD", "Fusion:Console:TlsPassword", Kind.Text),
        new("FUSION_HTTP_PORT", "Fusion:Http:Port", Kind.Int),
        new("FUSION_RECORDING_DIR", "Fusion:Recording:Directory", Kind.Text),
    ];

    /// <summary>The legacy FUSION_* variable standing for <paramref name="key"/>, if there is one.</summary>
    public static string? EnvironmentAliasOf(string key) => EnvironmentAliases.FirstOrDefault(a => a.Key == key)?.Hocon;

    /// <summary>The HOCON path (fusion.*) standing for <paramref name="key"/>, if there is one.</summary>
    public static string? HoconAliasOf(string key) => HoconAliases.FirstOrDefault(a => a.Key == key) is { } a ? "fusion." + a.Hocon : null;

    /// <summary>
    /// The HOCON text a node runs with: the embedded Akka settings, overlaid by the file <see cref="ConfigFileKey"/>
    /// names in <paramref name="configuration"/> (or FUSION_CONFIG).
    /// </summary>
    public static string HoconOf(IConfiguration configuration) => FusionConfig.LoadText(configuration[ConfigFileKey]);

    /// <summary>
    /// <paramref name="configuration"/> over the aliases of <paramref name="hocon"/>'s <c>fusion.*</c> keys and the
    /// FUSION_* environment variables, in that order of precedence (the application's own keys win).
    /// </summary>
    public static IConfigurationRoot Layer(string hocon, IConfiguration configuration)
    {
        var fusion = FusionConfig.Parse(hocon).GetConfig("fusion") ?? Config.Empty;
        return new ConfigurationBuilder()
            .AddInMemoryCollection(FromHocon(fusion))
            .AddInMemoryCollection(FromEnvironment())
            .AddConfiguration(configuration, shouldDisposeConfiguration: false)
            .Build();
    }

    /// <summary>The keys <paramref name="fusion"/> (the <c>fusion</c> object of a HOCON text) sets.</summary>
    public static IEnumerable<KeyValuePair<string, string?>> FromHocon(Config fusion)
    {
        foreach (var alias in HoconAliases)
        {
            if (fusion.IsEmpty || !fusion.HasPath(alias.Hocon)) continue;
            yield return new(alias.Key, alias.Kind switch
            {
                Kind.List => string.Join(",", fusion.GetStringList(alias.Hocon)),
                Kind.Bool => fusion.GetBoolean(alias.Hocon) ? "true" : "false",
                Kind.Duration => fusion.GetTimeSpan(alias.Hocon, allowInfinite: false).ToString("c"),
                Kind.Micros => (fusion.GetTimeSpan(alias.Hocon, allowInfinite: false).Ticks / 10).ToString(System.Globalization.CultureInfo.InvariantCulture),
                _ => fusion.GetString(alias.Hocon),
            });
        }
    }

    private static IEnumerable<KeyValuePair<string, string?>> FromEnvironment()
    {
        foreach (var alias in EnvironmentAliases)
        {
            if (Environment.GetEnvironmentVariable(alias.Hocon) is not { Length: > 0 } value) continue;
            yield return new(alias.Key, alias.Kind switch
            {
                Kind.Bool => value is "on" or "true" or "1" ? "true" : "false",
                Kind.Int => int.TryParse(value, out var n) && n is >= 0 and <= 65535 ? value
                    : throw new FormatException($"{alias.Hocon}='{value}' is not a port number"),
                _ => value,
            });
        }
    }

    /// <summary>
    /// A list option: from the source of highest precedence that sets it, either as an array (Key:0, Key:1, …;
    /// Key__0 in the environment) or as one comma-separated value. Null when no source sets it.
    /// </summary>
    public static IReadOnlyList<string>? List(IConfigurationRoot root, string key)
    {
        foreach (var provider in root.Providers.Reverse())
        {
            var children = provider.GetChildKeys([], key).Distinct().ToList();
            if (children.Count > 0)
                return children.Select(c => (Index: int.TryParse(c, out var i) ? i : int.MaxValue, Child: c)).OrderBy(c => c.Index)
                    .Select(c => provider.TryGet($"{key}:{c.Child}", out var v) ? v?.Trim() : null)
                    .Where(v => !string.IsNullOrEmpty(v)).Select(v => v!).ToArray();
            if (provider.TryGet(key, out var value))
                return (value ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        }
        return null;
    }
}
