using Akka.Actor;
using Akka.Cluster;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using FusionActors.Runtime.Metrics;
using FusionActors.Runtime.OperatorConsole.Palettes;

namespace FusionActors.Runtime.OperatorConsole;

/// <summary>
/// The operator side of a node, started and stopped with it: metric totals, the Prometheus endpoint (when
/// enabled) and the console host serving the built-in palettes.
/// </summary>
public sealed class OperatorConsoleHosting : IAsyncDisposable
{
    private readonly MeterProvider? _prometheus;

    private OperatorConsoleHosting(MetricTotals metrics, MeterProvider? prometheus, ConsoleHost? console)
    {
        Metrics = metrics;
        _prometheus = prometheus;
        Console = console;
    }

    public MetricTotals Metrics { get; }

    /// <summary>The console host; null when disabled or its port was taken.</summary>
    public ConsoleHost? Console { get; }

    public static IReadOnlyList<CommandPaletteHandler> BuiltInPalettes(ConsoleContext context) =>
    [
        new ClusterPalette(context), new SessionsPalette(context), new StreamsPalette(context), new FusionPalette(context),
        new WatchPalette(context), new ChaosPalette(context), new MetricsPalette(context),
    ];

    /// <param name="palettes">The palettes to serve; default the built-in ones.</param>
    public static OperatorConsoleHosting Start(ConsoleOptions console, MetricsOptions metrics, ActorSystem system, IActorRef sessions, ILogger log,
        Func<ConsoleContext, IReadOnlyList<CommandPaletteHandler>>? palettes = null)
    {
        var totals = new MetricTotals();
        MeterProvider? prometheus = null;
        try
        {
            prometheus = PrometheusEndpoint.Start(metrics);
            if (prometheus is not null)
                log.LogInformation("Prometheus scrape endpoint on http://{Host}:{Port}/metrics", metrics.PrometheusHostname, metrics.PrometheusPort);
            ConsoleHost? host = null;
            if (console.Enabled)
            {
                var context = new ConsoleContext(system, sessions, totals, Gateway.OperatorCredential.For(console.Token).Value);
                try { host = ConsoleHost.Start(console, system, (palettes ?? BuiltInPalettes)(context), Cluster.Get(system).SelfAddress.ToString(), log); }
                catch (System.Net.Sockets.SocketException e) when (!console.FailIfPortTaken)
                {
                    // The console is an operator aid: a second node on one machine must not fail to serve sessions over it.
                    log.LogWarning("Operator console not started: {Host}:{Port}: {Error}", console.Hostname, console.Port, e.Message);
                }
            }
            return new OperatorConsoleHosting(totals, prometheus, host);
        }
        catch
        {
            prometheus?.Dispose();
            totals.Dispose();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Console is not null) await Console.DisposeAsync();
        _prometheus?.Dispose();
        Metrics.Dispose();
    }
}
