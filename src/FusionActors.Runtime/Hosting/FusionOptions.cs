using Microsoft.Extensions.Configuration;
using FusionActors.Core.Specs;
using FusionActors.Core.Supervision;
using FusionActors.Protocol.Specs;
using FusionActors.Runtime.Encoders.Batching;
using FusionActors.Runtime.Ingress;
using FusionActors.Runtime.Metrics;
using FusionActors.Runtime.OperatorConsole;
using FusionActors.Runtime.Recording;

namespace FusionActors.Runtime.Hosting;

/// <summary>
/// The node's options: the <c>Fusion</c> section of the application's configuration (docs/configuration.md lists
/// every key, its environment variable, its default and its meaning). The defaults are the initial values here
/// and in the option types of the sections (<see cref="SpecLimits"/>, <see cref="BackoffPolicy"/>,
/// <see cref="ConsoleOptions"/>, <see cref="MetricsOptions"/>).
/// </summary>
public sealed record FusionOptions
{
    /// <summary>Remoting address (Fusion:Node:Hostname). Default 127.0.0.1.</summary>
    public string Hostname { get; init; } = "127.0.0.1";

    /// <summary>Remoting port (Fusion:Node:Port); 0 = any free port. Default 0.</summary>
    public int Port { get; init; }

    /// <summary>Cluster roles (Fusion:Node:Roles). Default ["fusion"].</summary>
    public IReadOnlyList<string> Roles { get; init; } = ["fusion"];

    /// <summary>Seed node addresses (Fusion:Node:Seeds); empty = a one-node cluster that joins itself. Default empty.</summary>
    public IReadOnlyList<string> Seeds { get; init; } = [];

    /// <summary>Path of models.json (Fusion:Models); null = found from the working directory up.</summary>
    public string? ModelsPath { get; init; }

    /// <summary>Shards of the session region (Fusion:Sharding:Shards). Default 100.</summary>
    public int Shards { get; init; } = 100;

    /// <summary>Idle session entities passivate after this long (Fusion:Sharding:PassivateIdleAfter); null = never. Default never.</summary>
    public TimeSpan? PassivateIdleAfter { get; init; }

    /// <summary>
    /// An open session with no frame or heartbeat for this long and nothing uncommitted stops its stream, alignment and
    /// fusion actors and keeps their state until the next frame or command (Fusion:Sessions:HibernateAfter,
    /// fusion.sessions.hibernate-after; docs/design.md#session-lifecycle); null = never. Default 10 s.
    /// </summary>
    public TimeSpan? HibernateAfter { get; init; } = TimeSpan.FromSeconds(10);

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

    /// <summary>Tokens a client must present at session open; empty = no check (Fusion:Security:SessionTokens).</summary>
    public IReadOnlyList<string> SessionTokens { get; init; } = [];

    /// <summary>
    /// Accept opens without a token although remoting binds beyond loopback (Fusion:Security:AllowAnonymousSessions).
    /// Default off: such a node refuses to start without session tokens.
    /// </summary>
    public bool AllowAnonymousSessions { get; init; }

    /// <summary>
    /// Remoting beyond loopback without TLS that verifies both ends (Fusion:Security:AllowPlaintextRemoting). Default
    /// off: such a node refuses to start, since any peer that reaches its port could act as a cluster member.
    /// </summary>
    public bool AllowPlaintextRemoting { get; init; }

    /// <summary>Settings that would leave a node open to anyone who reaches it refuse to start, saying what to set.</summary>
    public void EnsureSafe()
    {
        Http.EnsureSafeToBind(SessionTokens.Count > 0);
        if (IsLoopback(Hostname)) return;
        if (SessionTokens.Count == 0 && !AllowAnonymousSessions)
            throw new InvalidOperationException(
                $"remoting binds to {Hostname}, which is not loopback, and no session token is configured: anyone who reaches the node could open " +
                "sessions. Set Fusion:Security:SessionTokens (Fusion__Security__SessionTokens, FUSION_SESSION_TOKENS, fusion.security.session-tokens), " +
                "or Fusion:Security:AllowAnonymousSessions = true (fusion.security.allow-anonymous-sessions = on) to accept that.");
        if (TlsOptions is not { RequireMutual: true, SuppressValidation: false } && !AllowPlaintextRemoting)
            throw new InvalidOperationException(
                $"remoting binds to {Hostname}, which is not loopback, without mutual TLS verified against a CA: any peer that reaches the port could " +
                "act as a cluster member. Run with config/node-tls.hocon (enable-ssl, require-mutual-authentication, fusion.tls.ca), " +
                "or set Fusion:Security:AllowPlaintextRemoting = true (FUSION_ALLOW_PLAINTEXT_REMOTING, fusion.security.allow-plaintext-remoting = on) " +
                "on a network you trust.");
    }

    private static bool IsLoopback(string host) =>
        host is "localhost" || (System.Net.IPAddress.TryParse(host, out var ip) && System.Net.IPAddress.IsLoopback(ip));

    /// <summary>Upper bounds on what a session spec may ask (Fusion:Limits); a spec beyond them is refused at open with the reasons.</summary>
    public SpecLimits Limits { get; init; } = SpecLimits.Default;

    /// <summary>Encoder restart backoff and budget (Fusion:Encoder).</summary>
    public BackoffPolicy Backoff { get; init; } = new();

    /// <summary>The node's encoder batcher (Fusion:Batching): on, 32 inputs per call, 2 ms queue delay by default.</summary>
    public BatchingOptions Batching { get; init; } = new();

    /// <summary>The operator console host (Fusion:Console): loopback:9110 by default.</summary>
    public ConsoleOptions OperatorConsole { get; init; } = new();

    /// <summary>Metrics export (Fusion:Metrics): the Prometheus endpoint is off by default.</summary>
    public MetricsOptions Metrics { get; init; } = new();

    /// <summary>Trace export (Fusion:Telemetry): OTLP, off until an endpoint is set.</summary>
    public TelemetryOptions Telemetry { get; init; } = new();

    /// <summary>
    /// Each stream's cache of exact-repeat encoder inputs (Fusion:Streams:RepeatCacheEntries, RepeatCacheMaxInputBytes):
    /// an input that repeats an encoded one bit for bit gets its evidence without the model. 1 entry of at most 16 KiB by default.
    /// </summary>
    public FusionActors.Runtime.Streams.RepeatCacheOptions RepeatCache { get; init; } = FusionActors.Runtime.Streams.RepeatCacheOptions.Default;

    /// <summary>Input drift per stream (Fusion:Drift): sliding window and alert threshold.</summary>
    public DriftOptions Drift { get; init; } = new();

    /// <summary>Session recording (Fusion:Recording, docs/recording.md): off unless a directory is set.</summary>
    public RecordingOptions Recording { get; init; } = new();

    /// <summary>The HTTP port (Fusion:Http): WebSocket ingress and health endpoints; off by default.</summary>
    public HttpOptions Http { get; init; } = new();

    /// <summary>The full HOCON text this node runs with (the embedded Akka settings plus the file layered over them).</summary>
    public string Hocon { get; init; } = FusionConfig.DefaultsText;

    /// <summary>The options of a HOCON file layered over the embedded settings (or FUSION_CONFIG), with the FUSION_* variables.</summary>
    public static FusionOptions Load(string? path = null) => FromHocon(FusionConfig.LoadText(path));

    /// <summary>
    /// The options of a full HOCON text (its <c>fusion.*</c> keys), with the FUSION_* variables and, over them, the
    /// <c>Fusion__*</c> environment variables of .NET configuration (e.g. <c>Fusion__Recording__Keys__k1</c>, which has
    /// no FUSION_* alias), as a node built on IConfiguration reads them.
    /// </summary>
    /// <exception cref="FormatException">a value is out of its range (the message names the key).</exception>
    public static FusionOptions FromHocon(string hocon) =>
        ThrowIfInvalid(Bind(FusionConfiguration.Layer(hocon, new ConfigurationBuilder().AddEnvironmentVariables().Build()), hocon));

    private static FusionOptions ThrowIfInvalid(FusionOptions options)
    {
        var problems = options.Problems().ToList();
        return problems.Count == 0 ? options : throw new FormatException(string.Join("; ", problems));
    }

    /// <summary>
    /// The options of an application's configuration (the <c>Fusion</c> section; docs/configuration.md), over the
    /// <c>fusion.*</c> keys of the HOCON file it names (Fusion:Config) and the FUSION_* variables.
    /// </summary>
    public static FusionOptions FromConfiguration(IConfiguration configuration)
    {
        var hocon = FusionConfiguration.HoconOf(configuration);
        return Bind(FusionConfiguration.Layer(hocon, configuration), hocon);
    }

    /// <summary>The options a <c>fusion</c> HOCON object sets (with the FUSION_* variables) over the defaults.</summary>
    internal static FusionOptions FromFusionHocon(Akka.Configuration.Config fusion) => Bind(new ConfigurationBuilder()
        .AddInMemoryCollection(FusionConfiguration.FromHocon(fusion))
        .AddConfiguration(FusionConfiguration.Layer("", new ConfigurationBuilder().Build()))
        .Build(), FusionConfig.DefaultsText);

    /// <summary>
    /// What is wrong with these options, each naming its key; empty when they are valid. The safety of the
    /// node's exposure is <see cref="EnsureSafe"/>'s.
    /// </summary>
    public IEnumerable<string> Problems()
    {
        if (Port is < 0 or > 65535) yield return $"Fusion:Node:Port (FUSION_PORT, fusion.node.port) must be 0..65535, not {Port}";
        if (string.IsNullOrWhiteSpace(Hostname)) yield return "Fusion:Node:Hostname (FUSION_HOSTNAME, fusion.node.hostname) must not be empty";
        foreach (var seed in Seeds.Where(s => !s.Contains("://", StringComparison.Ordinal)))
            yield return $"Fusion:Node:Seeds (FUSION_SEEDS, fusion.node.seeds): seed '{seed}' is neither host:port nor an akka address";
        if (Shards <= 0) yield return $"Fusion:Sharding:Shards (fusion.sharding.shards) must be positive, not {Shards}";
        if (HibernateAfter < TimeSpan.Zero) yield return $"Fusion:Sessions:HibernateAfter (fusion.sessions.hibernate-after) must not be negative, not {HibernateAfter}";
        if (PassivateIdleAfter < TimeSpan.Zero) yield return $"Fusion:Sharding:PassivateIdleAfter must not be negative, not {PassivateIdleAfter}";
        if (Limits.MaxSessions <= 0) yield return $"Fusion:Limits:MaxSessions (fusion.limits.max-sessions) must be positive, not {Limits.MaxSessions}";
        if (Limits.MinLatencyBudgetUs <= 0 || Limits.MaxLatencyBudgetUs < Limits.MinLatencyBudgetUs)
            yield return $"Fusion:Limits:MinLatencyBudgetUs and MaxLatencyBudgetUs (fusion.limits.min-latency-budget, max-latency-budget) need 0 < min <= max, not {Limits.MinLatencyBudgetUs} and {Limits.MaxLatencyBudgetUs}";
        if (Limits.MaxPriority < 0) yield return $"Fusion:Limits:MaxPriority (fusion.limits.max-priority) must be >= 0, not {Limits.MaxPriority}";
        if (Limits.MaxPendingEncoderInputs <= 0)
            yield return $"Fusion:Limits:MaxPendingEncoderInputs (fusion.limits.max-pending-encoder-inputs) must be positive, not {Limits.MaxPendingEncoderInputs}";
        foreach (var p in Batching.Problems()) yield return p;
        if (Backoff.Min <= TimeSpan.Zero || Backoff.Max < Backoff.Min)
            yield return $"Fusion:Encoder:Min and Fusion:Encoder:Max must satisfy 0 < Min <= Max, not {Backoff.Min} and {Backoff.Max}";
        if (Backoff.Jitter < 0) yield return $"Fusion:Encoder:Jitter (fusion.encoder.restart-jitter) must not be negative, not {Backoff.Jitter}";
        if (Backoff.EncodeDeadline <= TimeSpan.Zero) yield return $"Fusion:Encoder:EncodeDeadline (fusion.encoder.deadline) must be positive, not {Backoff.EncodeDeadline}";
        foreach (var p in OperatorConsole.Problems()) yield return p;
        foreach (var p in Metrics.Problems()) yield return p;
        foreach (var p in Telemetry.Problems()) yield return p;
        foreach (var p in Drift.Problems()) yield return p;
        foreach (var p in RepeatCache.Problems()) yield return p;
        foreach (var p in Http.Problems()) yield return p;
        foreach (var p in Recording.Problems()) yield return p;
    }

    // The keys of the sections bound here one by one; the other sections are bound to their option types whole.
    private static readonly Dictionary<string, string[]> Keys = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Config"] = [], ["Models"] = [],
        ["Node"] = ["Hostname", "Port", "Roles", "Seeds"],
        ["Sharding"] = ["Shards", "PassivateIdleAfter"],
        ["Sessions"] = ["HibernateAfter"],
        ["Streams"] = ["RepeatCacheEntries", "RepeatCacheMaxInputBytes"],
        ["Security"] = ["SessionTokens", "AllowAnonymousSessions", "AllowPlaintextRemoting"],
        ["Tls"] = ["Ca", "CertificatePassword"],
        ["Limits"] = [], ["Encoder"] = [], ["Batching"] = [], ["Console"] = [], ["Metrics"] = [], ["Telemetry"] = [], ["Drift"] = [], ["Http"] = [], ["Recording"] = [],
    };

    /// <summary>A key of the Fusion section that no option has (a typo) fails the binding, named.</summary>
    private static void EnsureKnownKeys(IConfigurationSection fusion)
    {
        foreach (var section in fusion.GetChildren())
        {
            if (!Keys.TryGetValue(section.Key, out var keys))
                throw new InvalidOperationException($"{section.Path} is not an option (docs/configuration.md lists them)");
            if (keys.Length == 0) continue;
            foreach (var key in section.GetChildren())
                if (!keys.Contains(key.Key, StringComparer.OrdinalIgnoreCase))
                    throw new InvalidOperationException($"{key.Path} is not an option; {section.Path} has {string.Join(", ", keys)}");
        }
    }

    private static FusionOptions Bind(IConfigurationRoot root, string hocon)
    {
        var d = new FusionOptions();
        var f = root.GetSection(FusionConfiguration.Section);
        EnsureKnownKeys(f);
        var all = FusionConfig.Parse(hocon);
        var tls = all.GetBoolean("akka.remote.dot-netty.tcp.enable-ssl", false);
        var passivate = f.GetValue<TimeSpan?>("Sharding:PassivateIdleAfter");
        var hibernate = f.GetValue<TimeSpan?>("Sessions:HibernateAfter");
        var options = new FusionOptions
        {
            Hostname = f.GetValue("Node:Hostname", d.Hostname)!,
            Port = f.GetValue("Node:Port", d.Port),
            Roles = FusionConfiguration.List(root, "Fusion:Node:Roles") ?? d.Roles,
            Tls = tls,
            TlsOptions = RemotingTlsOptions.FromConfig(all, NonEmpty(f["Tls:Ca"]), NonEmpty(f["Tls:CertificatePassword"])),
            ModelsPath = NonEmpty(f["Models"]),
            Shards = f.GetValue("Sharding:Shards", d.Shards),
            PassivateIdleAfter = passivate > TimeSpan.Zero ? passivate : d.PassivateIdleAfter,
            HibernateAfter = hibernate is null ? d.HibernateAfter : hibernate > TimeSpan.Zero ? hibernate : null,
            RepeatCache = new FusionActors.Runtime.Streams.RepeatCacheOptions
            {
                Entries = f.GetValue("Streams:RepeatCacheEntries", d.RepeatCache.Entries),
                MaxInputBytes = f.GetValue("Streams:RepeatCacheMaxInputBytes", d.RepeatCache.MaxInputBytes),
            },
            SessionTokens = FusionConfiguration.List(root, "Fusion:Security:SessionTokens") ?? d.SessionTokens,
            AllowAnonymousSessions = f.GetValue("Security:AllowAnonymousSessions", d.AllowAnonymousSessions),
            AllowPlaintextRemoting = f.GetValue("Security:AllowPlaintextRemoting", d.AllowPlaintextRemoting),
            Limits = Section(f, "Limits", d.Limits),
            Backoff = Section(f, "Encoder", d.Backoff),
            Batching = Section(f, "Batching", d.Batching),
            OperatorConsole = Section(f, "Console", d.OperatorConsole),
            Metrics = Section(f, "Metrics", d.Metrics),
            Telemetry = Section(f, "Telemetry", d.Telemetry),
            Drift = Section(f, "Drift", d.Drift),
            Http = Section(f, "Http", d.Http),
            Recording = RecordingSection(f, d.Recording),
            Hocon = hocon,
        };
        // Seeds given as host:port become addresses of this node's transport; one that is neither stays as given
        // for the validation to name (FusionOptionsValidator).
        var seeds = FusionConfiguration.List(root, "Fusion:Node:Seeds") ?? d.Seeds;
        var console = options.OperatorConsole;
        var http = options.Http;
        return options with
        {
            Http = http with { TlsCertificate = NonEmpty(http.TlsCertificate), TlsPassword = NonEmpty(http.TlsPassword) },
            Seeds = seeds.Select(seed => TrySeedAddress(options, seed) ?? seed).ToArray(),
            // A list from HOCON or one variable comes comma-separated; an empty directory or key id means none.
            Recording = options.Recording with
            {
                Directory = NonEmpty(options.Recording.Directory), KeyId = NonEmpty(options.Recording.KeyId),
                Sessions = FusionConfiguration.List(root, "Fusion:Recording:Sessions") ?? d.Recording.Sessions,
            },
            // An empty value (an empty environment variable, "" in HOCON) means none.
            OperatorConsole = console with
            {
                Token = NonEmpty(console.Token), TlsCertificate = NonEmpty(console.TlsCertificate), TlsPassword = NonEmpty(console.TlsPassword),
            },
        };
    }

    private static string? TrySeedAddress(FusionOptions options, string seed)
    {
        try { return options.SeedAddress(seed); }
        catch (FormatException) { return null; }
    }

    /// <summary>
    /// A section bound over <paramref name="defaults"/>: the defaults are the options type's own, and a key the type
    /// does not have is an error that names it.
    /// </summary>
    private static T Section<T>(IConfiguration fusion, string name, T defaults) where T : class
    {
        var section = fusion.GetSection(name);
        if (!section.GetChildren().Any()) return defaults;
        try
        {
            return section.Get<T>(o => o.ErrorOnUnknownConfiguration = true) ?? defaults;
        }
        catch (InvalidOperationException e)
        {
            throw new InvalidOperationException($"{FusionConfiguration.Section}:{name}: {e.Message}", e);
        }
    }

    /// <summary>Fusion:Recording bound whole but for its list of sessions, which may come comma-separated (bound after, as a list).</summary>
    private static RecordingOptions RecordingSection(IConfiguration fusion, RecordingOptions defaults)
    {
        var values = fusion.GetSection("Recording").AsEnumerable(makePathsRelative: true)
            .Where(kv => kv.Value is not null && !kv.Key.Equals("Sessions", StringComparison.OrdinalIgnoreCase) &&
                         !kv.Key.StartsWith("Sessions:", StringComparison.OrdinalIgnoreCase));
        var section = new ConfigurationBuilder().AddInMemoryCollection(values.Select(kv => new KeyValuePair<string, string?>("Recording:" + kv.Key, kv.Value))).Build();
        return Section(section, "Recording", defaults);
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
