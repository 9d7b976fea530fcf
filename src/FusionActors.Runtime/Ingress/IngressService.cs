using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Akka.Actor;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using FusionActors.Runtime.Dashboard;
using FusionActors.Runtime.Gateway;
using FusionActors.Runtime.Hosting;

namespace FusionActors.Runtime.Ingress;

/// <summary>
/// The node's HTTP port (<see cref="HttpOptions"/>) as a hosted service: Kestrel inside the node process, serving
/// the WebSocket ingress at <see cref="IngressPath"/> and the health endpoints <c>/healthz/live</c> (the actor
/// system runs) and <c>/healthz/ready</c> (the node is Up in its cluster), from the health checks Akka.Hosting
/// registers. It starts once the host's services have, before the node joins its cluster (so that ready can say
/// it has not), and stops before any hosted service stops: open connections are told the node is stopping.
/// </summary>
public sealed class IngressService(IServiceProvider services, IOptions<FusionOptions> options, ILoggerFactory loggers)
    : IHostedLifecycleService, IAsyncDisposable
{
    /// <summary>Where the WebSocket ingress is served.</summary>
    public const string IngressPath = "/ingress/v1";

    public const string LiveTag = "live", ReadyTag = "ready";

    private readonly ILogger _log = loggers.CreateLogger("FusionActors.Runtime.Ingress");
    private readonly CancellationTokenSource _stopping = new();
    private WebApplication? _app;
    private readonly List<Task> _connections = [];
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, IActorRef> _links = new(); // session + nonce -> the writer's link
    private Akka.Streams.IMaterializer? _materializer;

    /// <summary>What the ingress has served; counts from the start.</summary>
    public IngressCounters Counters { get; } = new();

    /// <summary>The dashboard at /dashboard/ (its counters); null before the start or when the HTTP port is off.</summary>
    public DashboardEndpoints? Dashboard { get; private set; }

    /// <summary>The port Kestrel is bound to (the configured one, or the one picked for 0); null before the start or when disabled.</summary>
    public int? BoundPort { get; private set; }

    private readonly TaskCompletionSource<int> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes with the bound port once Kestrel listens (never when the HTTP port is off).</summary>
    public Task<int> Listening => _listening.Task;

    /// <summary>Ready also needs the node to be a member still: Up or WeaklyUp, not leaving, exiting or removed.</summary>
    public static Task<HealthCheckResult> MembershipCheck(ActorSystem system, Akka.Hosting.ActorRegistry registry, CancellationToken cancel)
    {
        var cluster = Akka.Cluster.Cluster.Get(system);
        var status = cluster.SelfMember.Status;
        return Task.FromResult(!cluster.IsTerminated && status is Akka.Cluster.MemberStatus.Up or Akka.Cluster.MemberStatus.WeaklyUp
            ? HealthCheckResult.Healthy($"member {status}")
            : HealthCheckResult.Unhealthy($"this node is {(cluster.IsTerminated ? "out of the cluster" : status.ToString())}"));
    }

    public Task StartingAsync(CancellationToken cancel) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancel) => Task.CompletedTask;

    public async Task StartedAsync(CancellationToken cancel)
    {
        var o = options.Value;
        var http = o.Http;
        if (!http.Enabled) return;
        http.EnsureSafeToBind(o.SessionTokens.Count > 0);
        var system = services.GetRequiredService<ActorSystem>();
        var health = services.GetRequiredService<HealthCheckService>();
        var tokens = new SessionTokens(o.SessionTokens);
        var certificate = http.TlsCertificate is { } path ? X509CertificateLoader.LoadPkcs12FromFile(path, http.TlsPassword) : null;

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggers);
        builder.WebHost.UseKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = 0; // no request bodies: the ingress speaks WebSocket messages, bounded on their own
            k.Limits.MaxRequestHeadersTotalSize = 16 << 10;
            k.Listen(IPAddress.TryParse(http.Hostname, out var ip) ? ip : http.Hostname == "localhost" ? IPAddress.Loopback : IPAddress.Any, http.Port, l =>
            {
                if (certificate is not null) l.UseHttps(certificate);
            });
        });
        var app = builder.Build();
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(15) });
        app.MapGet("/healthz/live", context => Health(context, health, LiveTag));
        app.MapGet("/healthz/ready", context => Health(context, health, ReadyTag));
        _materializer = Akka.Streams.ActorMaterializer.Create(system, namePrefix: "ingress");
        var gateway = await system.ActorSelection(SessionGateway.Path).ResolveOne(TimeSpan.FromSeconds(30), cancel);
        app.Map(IngressPath, context => Serve(context, http, system, gateway, tokens));
        SensorPage.Map(app);
        var sessions = await services.GetRequiredService<Akka.Hosting.IRequiredActor<SessionRegion>>().GetAsync(cancel);
        Dashboard = new DashboardEndpoints(http, o.OperatorConsole.Token, system, sessions, loggers.CreateLogger("FusionActors.Runtime.Dashboard"));
        Dashboard.Map(app, _stopping.Token);
        await app.StartAsync(cancel);
        _app = app;
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
        BoundPort = address is not null && Uri.TryCreate(address, UriKind.Absolute, out var uri) ? uri.Port : http.Port;
        _listening.TrySetResult(BoundPort.Value);
        var scheme = certificate is null ? "http" : "https";
        // A line the process tests wait for (and an operator reads): the port, resolved when 0 was asked.
        System.Console.WriteLine($"http listening at {scheme}://{http.Hostname}:{BoundPort} (ingress {IngressPath}, /healthz/live, /healthz/ready)");
    }

    private async Task Serve(HttpContext context, HttpOptions http, ActorSystem system, IActorRef gateway, SessionTokens tokens)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status426UpgradeRequired;
            await context.Response.WriteAsync("the ingress is a WebSocket endpoint (docs/ingress.md)\n");
            return;
        }
        if (!Counters.TryAccept(http.MaxConnections))
        {
            _log.LogWarning("Ingress: refused a connection from {Remote}: {Max} are open", context.Connection.RemoteIpAddress, http.MaxConnections);
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            return;
        }
        try
        {
            using var ws = await context.WebSockets.AcceptWebSocketAsync();
            var connection = new IngressConnection(ws, http, system, _materializer!, gateway, tokens, _links, _log, Counters);
            var run = connection.RunAsync(_stopping.Token);
            lock (_connections) _connections.Add(run);
            try { await run; }
            finally
            {
                lock (_connections) _connections.Remove(run);
            }
        }
        finally
        {
            Counters.Closed();
        }
    }

    private static async Task Health(HttpContext context, HealthCheckService health, string tag)
    {
        var report = await health.CheckHealthAsync(r => r.Tags.Contains(tag), context.RequestAborted);
        context.Response.StatusCode = report.Status == HealthStatus.Unhealthy ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status200OK;
        context.Response.ContentType = "application/json";
        await JsonSerializer.SerializeAsync(context.Response.Body, new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(e => e.Key, e => new { status = e.Value.Status.ToString(), description = e.Value.Description }),
        }, cancellationToken: context.RequestAborted);
    }

    public async Task StoppingAsync(CancellationToken cancel) => await DisposeAsync();

    public Task StopAsync(CancellationToken cancel) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancel) => Task.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        if (_app is not { } app) return;
        _app = null;
        await _stopping.CancelAsync();
        Task[] open;
        lock (_connections) open = [.. _connections];
        await Task.WhenAny(Task.WhenAll(open), Task.Delay(TimeSpan.FromSeconds(5)));
        if (Dashboard is not null) await Dashboard.DrainAsync(TimeSpan.FromSeconds(5));
        await app.StopAsync(TimeSpan.FromSeconds(5));
        await app.DisposeAsync();
    }
}
