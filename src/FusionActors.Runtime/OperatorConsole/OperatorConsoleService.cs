using Akka.Actor;
using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using FusionActors.Runtime.Hosting;
using FusionActors.Runtime.Metrics;

namespace FusionActors.Runtime.OperatorConsole;

/// <summary>The palettes a node's operator console serves: the built-in ones, then those registered here.</summary>
public sealed class OperatorConsoleBuilder
{
    private readonly List<Func<ConsoleContext, CommandPaletteHandler>> _palettes = [];

    /// <summary>Serves the palette <paramref name="create"/> makes for the node (once, when the console starts).</summary>
    public OperatorConsoleBuilder RegisterPalette(Func<ConsoleContext, CommandPaletteHandler> create)
    {
        lock (_palettes) _palettes.Add(create);
        return this;
    }

    internal IReadOnlyList<CommandPaletteHandler> Palettes(ConsoleContext context)
    {
        lock (_palettes)
            return [.. OperatorConsoleHosting.BuiltInPalettes(context), .. _palettes.Select(create => create(context))];
    }
}

public static class OperatorConsoleExtensions
{
    /// <summary>
    /// More palettes for the operator console of this actor system's node (the console itself is the hosted
    /// <see cref="OperatorConsoleService"/> that AddFusionServer registers).
    /// </summary>
    public static AkkaConfigurationBuilder WithOperatorConsole(this AkkaConfigurationBuilder builder, IServiceProvider services,
        Action<OperatorConsoleBuilder>? configure = null)
    {
        configure?.Invoke(services.GetRequiredService<OperatorConsoleBuilder>());
        return builder;
    }
}

/// <summary>
/// The operator side of a node as a hosted service: once the host's services have started and the node is Up in
/// its cluster, the metric totals, the Prometheus endpoint (when enabled) and the console host (unless disabled)
/// start; they stop before any hosted service stops, so before the actor system leaves the cluster.
/// </summary>
public sealed class OperatorConsoleService(IServiceProvider services, IOptions<FusionOptions> options, OperatorConsoleBuilder palettes,
    ILoggerFactory loggers) : IHostedLifecycleService, IAsyncDisposable
{
    private OperatorConsoleHosting? _hosting;

    /// <summary>How long the start waits for the node to be Up in its cluster.</summary>
    public static readonly TimeSpan UpTimeout = TimeSpan.FromSeconds(30);

    /// <summary>The console host; null before the start, when disabled or when its port was taken.</summary>
    public ConsoleHost? Console => _hosting?.Console;

    /// <summary>Totals of the node's metrics (what <c>fusionctl metrics</c> shows); null before the start.</summary>
    public MetricTotals? Metrics => _hosting?.Metrics;

    public Task StartingAsync(CancellationToken cancel) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancel) => Task.CompletedTask;

    public async Task StartedAsync(CancellationToken cancel)
    {
        var system = services.GetRequiredService<ActorSystem>();
        var sessions = await services.GetRequiredService<IRequiredActor<SessionRegion>>().GetAsync(cancel).WaitAsync(UpTimeout, cancel);
        await system.WhenUp(cancel).WaitAsync(UpTimeout, cancel);
        var o = options.Value;
        // models list/reload act on the node's registry (none when the application brought its own encoders without one).
        var models = services.GetService<NodeModels>()?.Registry;
        _hosting = OperatorConsoleHosting.Start(o.OperatorConsole, o.Metrics, system, sessions,
            loggers.CreateLogger("FusionActors.Runtime.OperatorConsole"),
            context => [.. palettes.Palettes(context), new Palettes.ModelsPalette(models)]);
    }

    public async Task StoppingAsync(CancellationToken cancel) => await DisposeAsync();

    public Task StopAsync(CancellationToken cancel) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancel) => Task.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        var hosting = Interlocked.Exchange(ref _hosting, null);
        if (hosting is not null) await hosting.DisposeAsync();
    }
}
