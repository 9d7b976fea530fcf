using Akka.Actor;
using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using FusionActors.Inference;
using FusionActors.Runtime.Encoders;
using FusionActors.Runtime.Metrics;
using FusionActors.Runtime.OperatorConsole;

namespace FusionActors.Runtime.Hosting;

/// <summary>
/// A running FusionActors node: the generic host with its actor system, the session region and the
/// node's model registry. The demo, the benchmark and the tests start the server through this, so they run
/// exactly what a deployed node runs.
/// </summary>
public sealed class FusionNode : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly ModelRegistry? _models;
    private OperatorConsoleHosting? _operator;

    private FusionNode(IHost host, ModelRegistry? models)
    {
        _host = host;
        _models = models;
        System = host.Services.GetRequiredService<ActorSystem>();
        Sessions = host.Services.GetRequiredService<IRequiredActor<SessionRegion>>().ActorRef;
    }

    public ActorSystem System { get; }

    /// <summary>The shard region of sessions: send it any message with a session id.</summary>
    public IActorRef Sessions { get; }

    /// <summary>The operator console host; null when disabled (fusion.console.enabled) or its port was taken.</summary>
    public ConsoleHost? Console => _operator?.Console;

    /// <summary>Totals of the node's metrics (what <c>fusionctl metrics</c> shows).</summary>
    public MetricTotals? Metrics => _operator?.Metrics;

    /// <param name="encoders">Encoders to use; default the node's model registry plus the no-op encoder.</param>
    /// <param name="wrapEncoders">Lets a caller decorate the provider (fault injection in drills and evaluations).</param>
    public static async Task<FusionNode> StartAsync(FusionOptions options, Func<IEncoderProvider, IEncoderProvider>? wrapEncoders = null,
        LogLevel logLevel = LogLevel.Warning, CancellationToken cancel = default)
    {
        options.EnsureSafe();
        ModelRegistry? models = null;
        try
        {
            var catalogPath = options.ModelsPath ?? TryFindCatalog();
            if (catalogPath is not null) models = new ModelRegistry(ModelCatalog.Load(catalogPath));
            IEncoderProvider encoders = new RegistryEncoderProvider(models);
            if (wrapEncoders is not null) encoders = wrapEncoders(encoders);

            var builder = Host.CreateApplicationBuilder();
            builder.Logging.ClearProviders();
            builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(logLevel);
            builder.Services.AddAkka("fusion", akka => akka
                .WithFusionCluster(options)
                .WithFusionSessions(options, encoders));
            var host = builder.Build();
            await host.StartAsync(cancel);
            var node = new FusionNode(host, models);
            await node.System.WhenUp(cancel).WaitAsync(TimeSpan.FromSeconds(30), cancel);

            // Operator console and metrics start once the node serves, and stop first (DisposeAsync).
            try
            {
                node._operator = OperatorConsoleHosting.Start(options.OperatorConsole, options.Metrics, node.System, node.Sessions,
                    host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("FusionActors.Runtime.OperatorConsole"));
            }
            catch
            {
                await host.StopAsync(TimeSpan.FromSeconds(10));
                host.Dispose();
                throw;
            }
            return node;
        }
        catch
        {
            models?.Dispose();
            throw;
        }
    }

    private static string? TryFindCatalog()
    {
        try { return ModelCatalog.FindDefaultPath(); }
        catch (FileNotFoundException) { return null; }
        catch (DirectoryNotFoundException) { return null; }
    }

    public async ValueTask DisposeAsync()
    {
        if (_operator is not null) await _operator.DisposeAsync();
        await _host.StopAsync(TimeSpan.FromSeconds(10));
        _host.Dispose();
        _models?.Dispose();
    }
}
