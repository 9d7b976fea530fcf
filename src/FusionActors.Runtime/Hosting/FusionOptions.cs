using Akka.Configuration;
using FusionActors.Core.Specs;
using FusionActors.Core.Supervision;
using FusionActors.Protocol.Specs;
using FusionActors.Runtime.Metrics;
using FusionActors.Runtime.OperatorConsole;

namespace FusionActors.Runtime.Hosting;

/// <summary>
/// The node's options, read from the <c>fusion</c> section of the HOCON configuration
/// (config/fusion.hocon documents every value and its default).
/// </summary>
public sealed record FusionOptions
{
    /// <summary>Remoting address. Default 127.0.0.1.</summary>
    public string Hostname { get; init; } = "127.0.0.1";

    /// <summary>Remoting port; 0 = any free port. Default 0.</summary>
    public int Port { get; init; }

    /// <summary>Cluster roles. Default ["fusion"].</summary>
    public IReadOnlyList<string> Roles { get; init; } = ["fusion"];

    /// <summary>Seed node addresses; empty = a one-node cluster that joins itself. Default empty.</summary>
    public IReadOnlyList<string> Seeds { get; init; } = [];

    /// <summary>Path of models.json; null = found from the working directory up (or FUSION_MODELS).</summary>
    public string? ModelsPath { get; init; }

    /// <summary>Shards of the session region. Default 100.</summary>
    public int Shards { get; init; } = 100;

    /// <summary>Idle session entities passivate after this long; null = never. Default never.</summary>
    public TimeSpan? PassivateIdleAfter { get; init; }

    /// <summary>Remoting runs over TLS (akka.remote.dot-netty.tcp.enable-ssl): addresses are then akka.ssl.tcp://.</summary>
    public bool Tls { get; init; }

    /// <summary>Certificate and CA of remoting TLS (<see cref="RemotingTlsOptions"/>); null when <see cref="Tls"/> is off.</summary>
    public RemotingTlsOptions? TlsOptions { get; init; }

    /// <summary>A seed as host:port or a full address, as the address this node's transport speaks.</summary>
    public string SeedAddress(string seed)
    {
        if (seed.Contains("://", StringComparison.Ordinal)) return seed;
        var colon = seed.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(seed[(colon + 1)..], out var port) || port is <= 0 or > 65535)
            throw new FormatException($"seed '{seed}' is neither host:port nor an akka address");
        return $"{(Tls ? "akka.ssl.tcp" : "akka.tcp")}://fusion@{seed}";
    }

    /// <summary>Tokens a client must present at session open; empty = no check (fusion.security.session-tokens, FUSION_SESSION_TOKENS).</summary>
    public IReadOnlyList<string> SessionTokens { get; init; } = [];

    /// <summary>
    /// Accept opens without a token although remoting binds beyond loopback (fusion.security.allow-anonymous-sessions).
    /// Default off: such a node refuses to start without session tokens.
    /// </summary>
    public bool AllowAnonymousSessions { get; init; }

    /// <summary>
    /// Remoting beyond loopback without TLS that verifies both ends (fusion.security.allow-plaintext-remoting). Default
    /// off: such a node refuses to start, since any peer that reaches its port could act as a cluster member.
    /// </summary>
    public bool AllowPlaintextRemoting { get; init; }

    /// <summary>Settings that would leave a node open to anyone who reaches it refuse to start, saying what to set.</summary>
    public void EnsureSafe()
    {
        if (IsLoopback(Hostname)) return;
        if (SessionTokens.Count == 0 && !AllowAnonymousSessions)
            throw new InvalidOperationException(
                $"remoting binds to {Hostname}, which is not loopback, and no session token is configured: anyone who reaches the node could open " +
                "sessions. Set fusion.security.session-tokens (or FUSION_SESSION_TOKENS), or fusion.security.allow-anonymous-sessions = on to accept that.");
        if (TlsOptions is not { RequireMutual: true, SuppressValidation: false } && !AllowPlaintextRemoting)
            throw new InvalidOperationException(
                $"remoting binds to {Hostname}, which is not loopback, without mutual TLS verified against a CA: any peer that reaches the port could " +
                "act as a cluster member. Run with config/node-tls.hocon (enable-ssl, require-mutual-authentication, fusion.tls.ca), " +
                "or set fusion.security.allow-plaintext-remoting = on on a network you trust.");
    }

    private static bool IsLoopback(string host) =>
        host is "localhost" || (System.Net.IPAddress.TryParse(host, out var ip) && System.Net.IPAddress.IsLoopback(ip));

    /// <summary>Upper bounds on what a session spec may ask (fusion.limits); a spec beyond them is refused at open with the reasons.</summary>
    public SpecLimits Limits { get; init; } = SpecLimits.Default;

    /// <summary>Encoder restart backoff and budget.</summary>
    public BackoffPolicy Backoff { get; init; } = new();

    /// <summary>The operator console host (fusion.console): loopback:9110, token from FUSION_CONSOLE_TOKEN or the config.</summary>
    public ConsoleOptions OperatorConsole { get; init; } = new();

    /// <summary>Metrics export (fusion.metrics): the Prometheus endpoint is off by default.</summary>
    public MetricsOptions Metrics { get; init; } = new();

    /// <summary>The full HOCON text this node runs with (defaults plus overrides).</summary>
    public string Hocon { get; init; } = FusionConfig.DefaultsText;

    public static FusionOptions Load(string? path = null) => FromHocon(FusionConfig.LoadText(path));

    public static FusionOptions FromHocon(string hocon)
    {
        var all = FusionConfig.Parse(hocon);
        var f = all.GetConfig("fusion");
        var tls = all.GetBoolean("akka.remote.dot-netty.tcp.enable-ssl", false);
        var models = f.GetString("models", "");
        var passivate = f.GetTimeSpan("sharding.passivate-idle-after", TimeSpan.Zero);
        var port = Env("FUSION_PORT") is { } p
            ? int.TryParse(p, out var n) && n is >= 0 and <= 65535 ? n : throw new FormatException($"FUSION_PORT='{p}' is not a port number")
            : f.GetInt("node.port", 0);
        models = Env("FUSION_MODELS") ?? models;
        return new FusionOptions
        {
            Hostname = Env("FUSION_HOSTNAME") ?? f.GetString("node.hostname", "127.0.0.1"),
            Port = port,
            Roles = Env("FUSION_ROLES")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? f.GetStringList("node.roles").ToArray(),
            Seeds = (Env("FUSION_SEEDS")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? f.GetStringList("node.seeds").ToArray())
                .Select(seed => new FusionOptions { Tls = tls }.SeedAddress(seed)).ToArray(),
            Tls = tls,
            TlsOptions = RemotingTlsOptions.FromConfig(all),
            ModelsPath = string.IsNullOrWhiteSpace(models) ? null : models,
            Shards = f.GetInt("sharding.shards", 100),
            PassivateIdleAfter = passivate > TimeSpan.Zero ? passivate : null,
            SessionTokens = Env("FUSION_SESSION_TOKENS")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                ?? (f.HasPath("security.session-tokens") ? f.GetStringList("security.session-tokens").ToArray() : []),
            AllowAnonymousSessions = f.GetBoolean("security.allow-anonymous-sessions", false),
            AllowPlaintextRemoting = Env("FUSION_ALLOW_PLAINTEXT_REMOTING") is { } plain
                ? plain is "on" or "true" or "1"
                : f.GetBoolean("security.allow-plaintext-remoting", false),
            Limits = LimitsFrom(f),
            Backoff = new BackoffPolicy
            {
                Min = f.GetTimeSpan("encoder.restart-min-backoff", TimeSpan.FromMilliseconds(100)),
                Max = f.GetTimeSpan("encoder.restart-max-backoff", TimeSpan.FromSeconds(10)),
                Jitter = f.GetDouble("encoder.restart-jitter", 0.2),
                MaxRestarts = f.GetInt("encoder.max-restarts", 10),
                Within = f.GetTimeSpan("encoder.restart-window", TimeSpan.FromMinutes(1)),
                FailedCooldown = f.GetTimeSpan("encoder.failed-cooldown", TimeSpan.FromSeconds(30)),
                EncodeDeadline = f.GetTimeSpan("encoder.deadline", TimeSpan.FromSeconds(10)),
            },
            OperatorConsole = ConsoleOptions.FromConfig(f),
            Metrics = MetricsOptions.FromConfig(f),
            Hocon = hocon,
        };
    }

    private static SpecLimits LimitsFrom(Config fusion)
    {
        var d = SpecLimits.Default;
        long Us(string key, long fallback) => fusion.HasPath(key) ? (long)(fusion.GetTimeSpan(key).Ticks / 10) : fallback;
        return new SpecLimits
        {
            MaxSessions = fusion.GetInt("limits.max-sessions", d.MaxSessions),
            MaxStreams = fusion.GetInt("limits.max-streams", d.MaxStreams),
            MaxLabels = fusion.GetInt("limits.max-labels", d.MaxLabels),
            MaxIdLength = fusion.GetInt("limits.max-id-length", d.MaxIdLength),
            MaxFrameBytes = fusion.GetInt("limits.max-frame-bytes", d.MaxFrameBytes),
            MaxInputSamples = fusion.GetInt("limits.max-input-samples", d.MaxInputSamples),
            MaxInputsPerFrame = fusion.GetInt("limits.max-inputs-per-frame", d.MaxInputsPerFrame),
            MaxWindowsPerInstant = fusion.GetInt("limits.max-windows-per-instant", d.MaxWindowsPerInstant),
            MinWindowHopUs = Us("limits.min-window-hop", d.MinWindowHopUs),
            MaxDurationUs = Us("limits.max-duration", d.MaxDurationUs),
            MaxFutureSkewUs = Us("limits.max-future-skew", d.MaxFutureSkewUs),
            MaxSampleRateHz = fusion.GetDouble("limits.max-sample-rate-hz", d.MaxSampleRateHz),
            MaxPendingInputs = fusion.GetInt("limits.max-pending-inputs", d.MaxPendingInputs),
            MaxBatch = fusion.GetInt("limits.max-batch", d.MaxBatch),
            MaxSeqAhead = fusion.GetInt("limits.max-seq-ahead", d.MaxSeqAhead),
            MaxBufferedEvidence = fusion.GetInt("limits.max-buffered-evidence", d.MaxBufferedEvidence),
            MaxWeight = fusion.GetDouble("limits.max-weight", d.MaxWeight),
        };
    }

    private static string? Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : null;
}
