using Akka.Actor;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using FusionActors.Runtime.Hosting;
using FusionActors.Runtime.Ingress;

namespace FusionActors.Ingress.Tests;

/// <summary>A real node in this process (generic host, AddFusionServer) with its HTTP port on a free loopback port.</summary>
public sealed class IngressNode : IAsyncDisposable
{
    public const string Token = "ingress-spec-token-0123456789";

    private IngressNode(IHost host) => Host = host;

    public IHost Host { get; }

    public IngressService Ingress => Host.Services.GetRequiredService<IngressService>();

    public ActorSystem System => Host.Services.GetRequiredService<ActorSystem>();

    /// <summary>The session region of the node.</summary>
    public IActorRef Sessions => Host.Services.GetRequiredService<Akka.Hosting.IRequiredActor<SessionRegion>>().ActorRef;

    public int HttpPort => Ingress.BoundPort ?? throw new InvalidOperationException("the HTTP port is not bound");

    public Uri IngressUri => new($"ws://127.0.0.1:{HttpPort}{IngressService.IngressPath}");

    public Uri HttpUri(string path) => new($"http://127.0.0.1:{HttpPort}{path}");

    /// <param name="settings">More configuration keys (Fusion:...) over the spec defaults.</param>
    /// <param name="waitUp">Wait until the node is Up in its cluster.</param>
    /// <param name="logs">Also gets the node's log (warnings and above).</param>
    public static async Task<IngressNode> StartAsync(IReadOnlyDictionary<string, string?>? settings = null, bool waitUp = true, ILoggerProvider? logs = null)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        var config = new Dictionary<string, string?>
        {
            ["Fusion:Node:Port"] = "0",
            ["Fusion:Console:Enabled"] = "false",
            ["Fusion:Http:Enabled"] = "true",
            ["Fusion:Http:Port"] = "0",
            ["Fusion:Security:SessionTokens"] = Token,
        };
        foreach (var (k, v) in settings ?? new Dictionary<string, string?>()) config[k] = v;
        builder.Configuration.AddInMemoryCollection(config);
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        if (logs is not null) builder.Logging.AddProvider(logs);
        if (Environment.GetEnvironmentVariable("FUSION_SPEC_LOG") is "1") builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        builder.AddFusionServer();
        var host = builder.Build();
        var node = new IngressNode(host);
        if (!waitUp)
        {
            // The host's start waits for the node to be Up; the HTTP port listens before that.
            node._starting = host.StartAsync(node._stop.Token);
            await node.Ingress.Listening.WaitAsync(TimeSpan.FromSeconds(60));
            return node;
        }
        await host.StartAsync();
        await node.System.WhenUp().WaitAsync(TimeSpan.FromSeconds(60));
        return node;
    }

    private Task? _starting;
    private readonly CancellationTokenSource _stop = new();

    public async ValueTask DisposeAsync()
    {
        if (_starting is not null)
        {
            await _stop.CancelAsync();
            try { await _starting; }
            catch (Exception e) when (e is OperationCanceledException or TimeoutException) { }
        }
        await Host.StopAsync(TimeSpan.FromSeconds(30));
        Host.Dispose();
    }
}
