using Akka.Actor;
using Akka.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using FusionActors.Runtime.Encoders;
using FusionActors.Runtime.Metrics;
using FusionActors.Runtime.OperatorConsole;

namespace FusionActors.Runtime.Hosting;

/// <summary>
/// A running FusionActors node: a generic host built with <see cref="FusionServerExtensions.AddFusionServer(IServiceCollection, FusionOptions, Action{FusionServerBuilder})"/>,
/// with its actor system, the session region and the operator console. The demo, the benchmark and the tests
/// start the server through this, so they run exactly what a deployed node runs.
/// </summary>
public sealed class FusionNode : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly OperatorConsoleService _operator;

    private FusionNode(IHost host)
    {
        _host = host;
        System = host.Services.GetRequiredService<ActorSystem>();
        Sessions = host.Services.GetRequiredService<IRequiredActor<SessionRegion>>().ActorRef;
        _operator = host.Services.GetRequiredService<OperatorConsoleService>();
    }

    /// <summary>The host the node runs in.</summary>
    public IHost Host => _host;

    public ActorSystem System { get; }

    /// <summary>The shard region of sessions: send it any message with a session id.</summary>
    public IActorRef Sessions { get; }

    /// <summary>The operator console host; null when disabled (Fusion:Console:Enabled) or its port was taken.</summary>
    public ConsoleHost? Console => _operator.Console;

    /// <summary>The node's encoder batcher (null when Fusion:Batching:Enabled is off) and its count of pending encoder inputs.</summary>
    public NodeEncoding Encoding => _host.Services.GetRequiredService<NodeEncoding>();

    /// <summary>Totals of the node's metrics (what <c>fusionctl metrics</c> shows).</summary>
    public MetricTotals? Metrics => _operator.Metrics;

    /// <param name="wrapEncoders">Lets a caller decorate the provider (fault injection in drills and evaluations).</param>
    /// <param name="logLevel">
    /// The least level logged. Akka logs at the level of <see cref="FusionOptions.Hocon"/>'s akka.loglevel when
    /// the caller's HOCON sets one (the demo, evaluation and tests quieten Akka so), else at this one.
    /// </param>
    /// <param name="logging">Adds to the node's logging (a provider that captures what it logs, in tests).</param>
    public static async Task<FusionNode> StartAsync(FusionOptions options, Func<IEncoderProvider, IEncoderProvider>? wrapEncoders = null,
        LogLevel logLevel = LogLevel.Warning, CancellationToken cancel = default, Action<ILoggingBuilder>? logging = null)
    {
        options.EnsureSafe();
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            Configuration = new ConfigurationManager(),
            DisableDefaults = true,
        });
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(logLevel);
        if (AkkaLevelOf(options.Hocon) is { } akkaLevel)
        {
            builder.Logging.AddFilter("Akka", akkaLevel);
            builder.Logging.AddFilter("FusionActors", akkaLevel);
        }
        logging?.Invoke(builder.Logging);
        builder.Services.AddFusionServer(options, server =>
        {
            if (wrapEncoders is not null) server.DecorateEncoders(wrapEncoders);
        });
        var host = builder.Build();
        try
        {
            await host.StartAsync(cancel);
        }
        catch
        {
            await StopAfterFailedStartAsync(host);
            throw;
        }
        return new FusionNode(host);
    }

    /// <summary>The level akka.loglevel of <paramref name="hocon"/> asks for, as an <see cref="ILogger"/> level; null when unset.</summary>
    private static LogLevel? AkkaLevelOf(string hocon)
    {
        var config = FusionConfig.Parse(hocon);
        if (!config.HasPath("akka.loglevel")) return null;
        return config.GetString("akka.loglevel").ToUpperInvariant() switch
        {
            "DEBUG" => LogLevel.Debug,
            "INFO" => LogLevel.Information,
            "WARNING" => LogLevel.Warning,
            "ERROR" => LogLevel.Error,
            "OFF" => LogLevel.None,
            _ => null,
        };
    }

    private static async Task StopAsync(IHost host)
    {
        try { await host.StopAsync(TimeSpan.FromSeconds(10)); }
        finally { await DisposeAsync(host); }
    }

    /// <summary>
    /// Stops what did start (the actor system, when a later service failed), then disposes. A host that failed
    /// before starting any service has nothing to stop, and its StopAsync throws: that must not hide the cause.
    /// </summary>
    internal static async Task StopAfterFailedStartAsync(IHost host)
    {
        try { await host.StopAsync(TimeSpan.FromSeconds(10)); }
        catch (ArgumentNullException) { }
        await DisposeAsync(host);
    }

    private static async Task DisposeAsync(IHost host)
    {
        if (host is IAsyncDisposable async) await async.DisposeAsync();
        else host.Dispose();
    }

    public async ValueTask DisposeAsync() => await StopAsync(_host);
}
