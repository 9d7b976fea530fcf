using Akka.Event;
using Akka.Cluster.Hosting;
using Akka.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using FusionActors.Inference;
using FusionActors.Runtime.Encoders;
using FusionActors.Runtime.Ingress;
using FusionActors.Runtime.OperatorConsole;
using LogLevel = Microsoft.Extensions.Logging.LogLevel;

namespace FusionActors.Runtime.Hosting;

/// <summary>
/// A FusionActors server inside any generic host (a console app, an ASP.NET Core app, a test):
/// <c>builder.AddFusionServer()</c> or <c>services.AddFusionServer(configuration)</c> registers the actor system
/// (cluster, sessions, gateway), the node's options (validated at start-up), its encoders, and the operator
/// console and metrics endpoint as hosted services.
/// </summary>
public static class FusionServerExtensions
{
    /// <summary>The name of the node's actor system (cluster addresses are akka.tcp://fusion@host:port).</summary>
    public const string ActorSystemName = "fusion";

    /// <summary>A server configured by <paramref name="builder"/>'s configuration (its <c>Fusion</c> section).</summary>
    public static TBuilder AddFusionServer<TBuilder>(this TBuilder builder, Action<FusionServerBuilder>? configure = null)
        where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddFusionServer(builder.Configuration, configure);
        return builder;
    }

    /// <summary>A server configured by <paramref name="configuration"/> (its <c>Fusion</c> section; docs/configuration.md).</summary>
    public static IServiceCollection AddFusionServer(this IServiceCollection services, IConfiguration configuration,
        Action<FusionServerBuilder>? configure = null) =>
        services.AddFusionServices(configuration, configure).AddFusionActorSystem();

    /// <summary>A server with options built in code (<see cref="FusionOptions.Load"/>, <see cref="FusionOptions.FromHocon"/>).</summary>
    public static IServiceCollection AddFusionServer(this IServiceCollection services, FusionOptions options,
        Action<FusionServerBuilder>? configure = null) =>
        services.AddFusionServices(() => options, configure).AddFusionActorSystem();

    /// <summary>
    /// What a server needs besides its actor system: its options, encoders and operator console. For a host whose
    /// actor system is set up elsewhere (Akka.Hosting.TestKit): compose it there with
    /// <see cref="WithFusionServer"/>. <see cref="AddFusionServer(IServiceCollection, IConfiguration, Action{FusionServerBuilder})"/> does both.
    /// </summary>
    public static IServiceCollection AddFusionServices(this IServiceCollection services, IConfiguration configuration,
        Action<FusionServerBuilder>? configure = null) =>
        services.AddFusionServices(() => FusionOptions.FromConfiguration(configuration), configure);

    private static IServiceCollection AddFusionActorSystem(this IServiceCollection services)
    {
        services.AddAkka(ActorSystemName, (akka, sp) => akka.WithFusionServer(sp));
        return services;
    }

    private static IServiceCollection AddFusionServices(this IServiceCollection services, Func<FusionOptions> source,
        Action<FusionServerBuilder>? configure)
    {
        var server = new FusionServerBuilder();
        configure?.Invoke(server);

        services.AddSingleton<IOptionsFactory<FusionOptions>>(sp => new FusionOptionsFactory(source, sp.GetServices<IValidateOptions<FusionOptions>>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<FusionOptions>, FusionOptionsValidator>());
        services.AddOptions<FusionOptions>().ValidateOnStart();

        // Encoders: the node's model registry plus the no-op encoder, unless the application registered its own.
        services.TryAddSingleton(sp => NodeModels.Load(sp.GetRequiredService<IOptions<FusionOptions>>().Value.ModelsPath));
        services.TryAddSingleton<IEncoderProvider>(sp => new RegistryEncoderProvider(sp.GetRequiredService<NodeModels>().Registry,
            sp.GetRequiredService<IOptions<FusionOptions>>().Value.Drift));
        // The batcher and the cap on pending encoder inputs every session of the node shares.
        services.TryAddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<FusionOptions>>().Value;
            return new NodeEncoding(o.Batching, o.Backoff.EncodeDeadline, o.Limits.MaxPendingEncoderInputs, o.RepeatCache);
        });
        if (server.EncoderDecorator is { } decorate)
        {
            var inner = services.Last(d => d.ServiceType == typeof(IEncoderProvider));
            services.Remove(inner);
            services.AddSingleton<IEncoderProvider>(sp => decorate(Resolve(sp, inner)));
        }

        services.AddSingleton(server);
        services.AddSingleton(server.Console);
        // Trace export (Fusion:Telemetry:Otlp, off by default): first, so that the node's first spans are exported.
        services.TryAddSingleton<TelemetryService>();
        services.Insert(0, ServiceDescriptor.Singleton<IHostedService>(sp => sp.GetRequiredService<TelemetryService>()));
        // The HTTP port (Fusion:Http, off by default): WebSocket ingress and health endpoints. Started before the
        // console, whose start waits for the node to be Up: ready must be able to say it is not.
        services.AddHealthChecks();
        services.TryAddSingleton<IngressService>();
        services.AddHostedService(sp => sp.GetRequiredService<IngressService>());
        // Starts once every hosted service has (the actor system serves), stops before any stops (it leaves the cluster).
        services.TryAddSingleton<OperatorConsoleService>();
        services.AddHostedService(sp => sp.GetRequiredService<OperatorConsoleService>());
        return services;
    }

    /// <summary>
    /// The server's actor system, from the options and services <see cref="AddFusionServices(IServiceCollection, IConfiguration, Action{FusionServerBuilder})"/>
    /// registered: logging through ILogger, cluster, sessions, gateway, the console's palettes, then what the
    /// application added (<see cref="FusionServerBuilder.ConfigureAkka"/>).
    /// </summary>
    public static AkkaConfigurationBuilder WithFusionServer(this AkkaConfigurationBuilder akka, IServiceProvider sp)
    {
        var options = sp.GetRequiredService<IOptions<FusionOptions>>().Value;
        akka.WithFusionCluster(options)
            .WithFusionSessions(options, sp.GetRequiredService<IEncoderProvider>(), sp.GetRequiredService<NodeEncoding>())
            .WithFusionGateway(options.Limits)
            .WithOperatorConsole(sp)
            // What /healthz/live and /healthz/ready of the HTTP port answer.
            .WithActorSystemLivenessCheck(tags: [IngressService.LiveTag])
            .WithAkkaClusterReadinessCheck(tags: [IngressService.ReadyTag])
            // Akka's readiness check says the node joined once; this one says it is still a member (not leaving, not removed).
            .WithHealthCheck("fusion-cluster-membership", IngressService.MembershipCheck, tags: [IngressService.ReadyTag])
            // After the cluster's HOCON, so that its level is the one that counts.
            .WithFusionLogging(sp.GetRequiredService<ILoggerFactory>());
        foreach (var extra in sp.GetRequiredService<FusionServerBuilder>().AkkaConfigurations) extra(akka, sp);
        return akka;
    }

    private static IEncoderProvider Resolve(IServiceProvider sp, ServiceDescriptor descriptor) => descriptor switch
    {
        { ImplementationInstance: IEncoderProvider instance } => instance,
        { ImplementationFactory: { } factory } => (IEncoderProvider)factory(sp),
        { ImplementationType: { } type } => (IEncoderProvider)ActivatorUtilities.CreateInstance(sp, type),
        _ => throw new InvalidOperationException("IEncoderProvider registration has no implementation"),
    };

    /// <summary>
    /// Akka's log events go through the host's <see cref="ILogger"/>s, and Akka logs at the level those loggers
    /// let through for the categories Akka and FusionActors (Logging:LogLevel), so one setting governs both.
    /// </summary>
    /// <remarks>
    /// Decoder errors of connections to the remoting port that do not speak Akka.Remote are not logged one by one: they
    /// are counted, and summarized in one line per <see cref="GarbageConnectionSummaryInterval"/> (<see cref="GarbageConnectionLog"/>).
    /// </remarks>
    public static AkkaConfigurationBuilder WithFusionLogging(this AkkaConfigurationBuilder builder, ILoggerFactory loggers)
    {
        var level = AkkaLevel(loggers);
        var garbage = new GarbageConnectionLog();
        builder.ConfigureLoggers(l =>
        {
            l.LogLevel = level;
            l.ClearLoggers();
            l.AddLoggerFactory(garbage.Wrap(loggers));
        });
        builder.WithActors((system, _) => system.ActorOf(GarbageConnectionSummary.Props(garbage, GarbageConnectionSummaryInterval), "remoting-garbage-log"));
        // Over any akka.loglevel of the HOCON; Akka's own stdout logger (another format) stays silent.
        return builder.AddHocon($"akka.loglevel = {level.ToString().Replace("Level", "").ToUpperInvariant()}\nakka.stdout-loglevel = OFF",
            HoconAddMode.Prepend);
    }

    /// <summary>How often the node logs its summary of connections that did not speak Akka.Remote, when any came.</summary>
    public static readonly TimeSpan GarbageConnectionSummaryInterval = TimeSpan.FromSeconds(10);

    private static Akka.Event.LogLevel AkkaLevel(ILoggerFactory loggers)
    {
        var akka = loggers.CreateLogger("Akka");
        var fusion = loggers.CreateLogger("FusionActors");
        bool Enabled(LogLevel l) => akka.IsEnabled(l) || fusion.IsEnabled(l);
        return Enabled(LogLevel.Debug) ? Akka.Event.LogLevel.DebugLevel
            : Enabled(LogLevel.Information) ? Akka.Event.LogLevel.InfoLevel
            : Enabled(LogLevel.Warning) ? Akka.Event.LogLevel.WarningLevel
            : Akka.Event.LogLevel.ErrorLevel;
    }
}

/// <summary>What an application adds to or changes in the server <see cref="FusionServerExtensions.AddFusionServer(IServiceCollection, IConfiguration, Action{FusionServerBuilder})"/> registers.</summary>
public sealed class FusionServerBuilder
{
    internal OperatorConsoleBuilder Console { get; } = new();
    internal List<Action<AkkaConfigurationBuilder, IServiceProvider>> AkkaConfigurations { get; } = [];
    internal Func<IEncoderProvider, IEncoderProvider>? EncoderDecorator { get; private set; }

    /// <summary>Palettes the operator console serves besides the built-in ones.</summary>
    public FusionServerBuilder WithOperatorConsole(Action<OperatorConsoleBuilder> configure)
    {
        configure(Console);
        return this;
    }

    /// <summary>More of the actor system: actors, settings (after the server's own).</summary>
    public FusionServerBuilder ConfigureAkka(Action<AkkaConfigurationBuilder, IServiceProvider> configure)
    {
        AkkaConfigurations.Add(configure);
        return this;
    }

    /// <summary>Decorates the encoder provider the container resolves (fault injection in drills and evaluations).</summary>
    public FusionServerBuilder DecorateEncoders(Func<IEncoderProvider, IEncoderProvider> decorate)
    {
        var previous = EncoderDecorator;
        EncoderDecorator = previous is null ? decorate : p => decorate(previous(p));
        return this;
    }
}

/// <summary>The node's model registry, when a models.json was configured or found (disposed with the container).</summary>
public sealed class NodeModels(ModelRegistry? registry) : IDisposable
{
    public ModelRegistry? Registry { get; } = registry;

    /// <summary>The catalog at <paramref name="path"/>, else models/models.json found from the working directory up, else none.</summary>
    public static NodeModels Load(string? path)
    {
        var catalog = path ?? TryFindCatalog();
        return new NodeModels(catalog is null ? null : new ModelRegistry(ModelCatalog.Load(catalog)));
    }

    private static string? TryFindCatalog()
    {
        try { return ModelCatalog.FindDefaultPath(); }
        catch (FileNotFoundException) { return null; }
        catch (DirectoryNotFoundException) { return null; }
    }

    public void Dispose() => Registry?.Dispose();
}

/// <summary>The options come bound already (<see cref="FusionOptions.FromConfiguration"/>), then pass the validators.</summary>
internal sealed class FusionOptionsFactory(Func<FusionOptions> source, IEnumerable<IValidateOptions<FusionOptions>> validators)
    : OptionsFactory<FusionOptions>([], [], validators)
{
    protected override FusionOptions CreateInstance(string name) => source();
}

/// <summary>Values out of range, and a node exposed beyond loopback without what protects it, fail the start, naming the keys.</summary>
internal sealed class FusionOptionsValidator : IValidateOptions<FusionOptions>
{
    public ValidateOptionsResult Validate(string? name, FusionOptions options)
    {
        var problems = options.Problems().ToList();
        try { options.EnsureSafe(); }
        catch (InvalidOperationException e) { problems.Add(e.Message); }
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
