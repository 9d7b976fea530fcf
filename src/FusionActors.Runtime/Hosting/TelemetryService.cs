using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry.Trace;
using FusionActors.Runtime.Metrics;

namespace FusionActors.Runtime.Hosting;

/// <summary>
/// The node's trace export as a hosted service: when <c>Fusion:Telemetry:Otlp:Endpoint</c> is set, the tracer provider
/// (<see cref="TraceExport"/>) starts before the actor system and is flushed and disposed after it stopped.
/// </summary>
public sealed class TelemetryService(IOptions<FusionOptions> options, ILoggerFactory loggers) : IHostedLifecycleService, IDisposable
{
    private TracerProvider? _provider;

    /// <summary>The tracer provider; null when trace export is off.</summary>
    public TracerProvider? Provider => _provider;

    public Task StartingAsync(CancellationToken cancel)
    {
        var o = options.Value;
        _provider = TraceExport.Start(o.Telemetry, $"{o.Hostname}:{o.Port}");
        if (_provider is not null)
            loggers.CreateLogger("FusionActors.Runtime.Telemetry").LogInformation("Exporting traces over OTLP ({Protocol}) to {Endpoint}, sampling ratio {Ratio}",
                o.Telemetry.Otlp.CanonicalProtocol, o.Telemetry.Otlp.TracesUri(), o.Telemetry.SamplingRatio);
        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancel) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancel) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancel) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancel) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancel)
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void Dispose() => Interlocked.Exchange(ref _provider, null)?.Dispose();
}
