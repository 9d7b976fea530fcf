using System.Collections.Immutable;
using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Cluster.Tools.Client;
using Akka.Configuration;
using Akka.Remote.Transport.DotNetty;
using Akka.Streams;
using FusionActors.Core.Specs;
using FusionActors.Core.Streams;
using FusionActors.Protocol;
using FusionActors.Protocol.Security;
using FusionActors.Protocol.Serialization;
using FusionActors.Protocol.Specs;

namespace FusionActors.Client;

/// <summary>
/// A connection to a FusionActors cluster for sensor apps: control messages go through a
/// ClusterClient to the nodes' gateways (any live contact will do), frames through a back-pressured
/// SinkRef per session. One client can hold many sessions.
/// <code>
/// await using var session = await FusionClient.ConnectAsync(options).OpenSessionAsync(spec);
/// await session.Stream("audio").PushAsync(samples, session.NowUs);
/// await foreach (var r in session.Results) ...
/// </code>
/// </summary>
public sealed class FusionClient : IAsyncDisposable
{
    private readonly ActorSystem _system;
    private readonly IActorRef _clusterClient;
    private int _disposed;

    private FusionClient(FusionClientOptions options, ActorSystem system, IActorRef clusterClient)
    {
        Options = options;
        _system = system;
        _clusterClient = clusterClient;
    }

    public FusionClientOptions Options { get; }

    /// <summary>The client's own remoting address (where nodes send results).</summary>
    public string Address => ((ExtendedActorSystem)_system).Provider.DefaultAddress.ToString();

    /// <summary>Starts the client's actor system and its ClusterClient; sessions open through it.</summary>
    public static Task<FusionClient> ConnectAsync(FusionClientOptions options)
    {
        if (options.Contacts.Count == 0) throw new ArgumentException("at least one contact (host:port) is required", nameof(options));
        options.Validate();
        var scheme = options.Tls is null ? "akka.tcp" : "akka.ssl.tcp";
        var contacts = options.Contacts.Select(c => ActorPath.Parse($"{scheme}://{options.ClusterName}@{Validate(c)}/system/receptionist")).ToImmutableHashSet();
        var bootstrap = BootstrapSetup.Create().WithConfig(BuildConfig(options));
        var setup = options.Tls is { } tls ? bootstrap.And(SslSetup(tls)) : ActorSystemSetup.Create(bootstrap);
        var system = ActorSystem.Create("fusion-client", setup);
        try
        {
            var settings = ClusterClientSettings.Create(system).WithInitialContacts(contacts);
            var clusterClient = system.ActorOf(ClusterClient.Props(settings), "cluster-client");
            return Task.FromResult(new FusionClient(options, system, clusterClient));
        }
        catch
        {
            system.Dispose();
            throw;
        }
    }

    /// <summary>Opens (or rejoins) a session; fails with <see cref="FusionSessionException"/> when refused or unreachable.</summary>
    public Task<FusionSession> OpenSessionAsync(SessionSpec spec, CancellationToken cancel = default) => OpenAsync(spec, ownsClient: false, cancel);

    internal async Task<FusionSession> OpenAsync(SessionSpec spec, bool ownsClient, CancellationToken cancel)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var log = new ReplayLog(Options.MaxUncommittedFrames);
        var state = new SessionState(spec.StartUs, Options.ResultBuffer);
        var opened = new TaskCompletionSource<SessionOpened>(TaskCreationOptions.RunContinuationsAsynchronously);
        var link = _system.ActorOf(SessionLink.Props(spec, Options, _clusterClient, log, state, opened), $"session-{Uri.EscapeDataString(spec.SessionId)}-{Guid.NewGuid():N}");
        try
        {
            var reply = await opened.Task.WaitAsync(Options.RequestTimeout, cancel);
            return new FusionSession(this, ownsClient, spec, log, state, link, reply);
        }
        catch (TimeoutException)
        {
            _system.Stop(link);
            throw new FusionSessionException($"session '{spec.SessionId}' did not open within {Options.RequestTimeout} (is a node reachable at {string.Join(", ", Options.Contacts)}?)");
        }
        catch
        {
            _system.Stop(link);
            throw;
        }
    }

    /// <summary>The cluster's members as the node answering sees them.</summary>
    public async Task<ClusterMembers> MembersAsync(CancellationToken cancel = default) =>
        await AskGateway(GetClusterMembers.Instance, cancel) as ClusterMembers ?? throw new FusionSessionException("unexpected answer to GetClusterMembers");

    /// <summary>Sends any message to a gateway and waits for the answer (session commands, status queries).</summary>
    public async Task<object> AskGateway(object message, CancellationToken cancel = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        try
        {
            return await _clusterClient.Ask<object>(new ClusterClient.Send("/user/fusion-gateway", message, localAffinity: false), Options.RequestTimeout, cancel);
        }
        catch (AskTimeoutException e)
        {
            throw new FusionSessionException($"no answer to {message.GetType().Name} within {Options.RequestTimeout}", e);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await _system.Terminate().WaitAsync(TimeSpan.FromSeconds(10)).ContinueWith(_ => { }, TaskScheduler.Default);
    }

    private static string Validate(string contact)
    {
        var colon = contact.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(contact[(colon + 1)..], out var port) || port is < 1 or > 65535)
            throw new ArgumentException($"contact '{contact}' is not host:port", nameof(contact));
        return contact;
    }

    /// <summary>
    /// The client presents its certificate to every node (mutual TLS) and accepts only nodes whose certificate
    /// chains to the cluster's CA, in both directions: nodes also dial the client to deliver results.
    /// </summary>
    private static DotNettySslSetup SslSetup(ClientTls tls)
    {
        if (!tls.SuppressValidation && string.IsNullOrWhiteSpace(tls.CaPath))
            throw new ArgumentException("ClientTls needs the cluster's CA certificate (CaPath), or SuppressValidation for development only", nameof(tls));
        var certificate = CaTrust.LoadPfx(tls.CertificatePath, tls.CertificatePassword);
        return CaTrust.Setup(certificate, tls.SuppressValidation ? null : CaTrust.LoadCa(tls.CaPath!), requireMutualAuthentication: true,
            suppressValidation: tls.SuppressValidation);
    }

    private static Config BuildConfig(FusionClientOptions o)
    {
        var pause = $"{Math.Max(1, (int)o.FailureDetectionPause.TotalMilliseconds)}ms";
        var interval = $"{Math.Max(100, (int)o.FailureDetectionPause.TotalMilliseconds / 3)}ms";
        var watchPause = $"{Math.Max(60_000, 3 * (int)o.FailureDetectionPause.TotalMilliseconds)}ms";
        // The certificate and the validator come with the DotNettySslSetup (SslSetup), which takes precedence over HOCON.
        var tls = o.Tls is null ? "" : "akka.remote.dot-netty.tcp.enable-ssl = true";
        var hocon = $$"""
            akka {
              loglevel = WARNING
              stdout-loglevel = WARNING
              log-dead-letters = 0
              log-dead-letters-during-shutdown = off
              actor.provider = remote
              remote {
                dot-netty.tcp {
                  hostname = "{{o.Hostname}}"
                  port = {{o.Port}}
                  maximum-frame-size = 4 MiB # FusionClientOptions.TransportFrameBytes
                }
                # Remote DeathWatch quarantines an address it gives up on, for good. The client notices a dead
                # session sooner by its silence (FailureDetectionPause, no quarantine) and unwatches it then; this
                # is the backstop, long enough that a client frozen for up to a minute still reaches its nodes.
                watch-failure-detector {
                  heartbeat-interval = 1s
                  acceptable-heartbeat-pause = {{watchPause}}
                }
              }
              cluster.client {
                heartbeat-interval = {{interval}}
                acceptable-heartbeat-pause = {{pause}}
                reconnect-timeout = off
              }
            }
            {{tls}}
            """;
        return ConfigurationFactory.ParseString(hocon)
            .WithFallback(ConfigurationFactory.ParseString(WireConfig.Hocon))
            .WithFallback(ClusterClientReceptionist.DefaultConfig())
            // The ClusterClient wraps what it sends in DistributedPubSub's Send, bound to that extension's serializer.
            .WithFallback(Akka.Cluster.Tools.PublishSubscribe.DistributedPubSub.DefaultConfig())
            .WithFallback(ActorMaterializer.DefaultConfig());
    }
}

public static class FusionClientExtensions
{
    /// <summary>
    /// Opens a session on a client that is still connecting; the session owns that client and disposes it with
    /// itself: <c>await using var session = await FusionClient.ConnectAsync(options).OpenSessionAsync(spec);</c>
    /// </summary>
    public static async Task<FusionSession> OpenSessionAsync(this Task<FusionClient> connecting, SessionSpec spec, CancellationToken cancel = default)
    {
        var client = await connecting;
        try
        {
            return await client.OpenAsync(spec, ownsClient: true, cancel);
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
    }
}
