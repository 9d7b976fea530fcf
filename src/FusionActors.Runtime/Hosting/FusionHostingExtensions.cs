using Akka.Actor;
using Akka.Event;
using Akka.Cluster;
using Akka.Cluster.Hosting;
using Akka.Cluster.Tools.Client;
using Akka.Hosting;
using Akka.Remote.Hosting;
using FusionActors.Inference;
using FusionActors.Runtime.Alignment;
using FusionActors.Runtime.Encoders;
using FusionActors.Runtime.Fusion;
using FusionActors.Runtime.Gateway;
using FusionActors.Runtime.Sessions;
using FusionActors.Runtime.Streams;

namespace FusionActors.Runtime.Hosting;

/// <summary>
/// Wiring of a FusionActors node on Akka.Hosting's builder, one concern per extension;
/// <see cref="FusionServerExtensions.AddFusionServer(Microsoft.Extensions.DependencyInjection.IServiceCollection, Microsoft.Extensions.Configuration.IConfiguration, Action{FusionServerBuilder})"/>
/// composes them.
/// </summary>
public static class FusionHostingExtensions
{
    /// <summary>
    /// Configuration, remoting (over TLS validated against the project's CA when enable-ssl is on) and clustering;
    /// with no seeds the node forms a one-node cluster by itself.
    /// </summary>
    public static AkkaConfigurationBuilder WithFusionCluster(this AkkaConfigurationBuilder builder, FusionOptions options)
    {
        builder.AddHocon(FusionConfig.Parse(options.Hocon), HoconAddMode.Prepend)
            .WithRemoting(new RemoteOptions { HostName = options.Hostname, Port = options.Port })
            .WithFusionTls(options.TlsOptions)
            .WithClustering(new ClusterOptions
            {
                Roles = options.Roles.ToArray(),
                // Not as akka.cluster.seed-nodes: SeedJoin joins them, so that a restarted first seed joins the running
                // cluster instead of forming one of its own.
                SeedNodes = null,
            });
        builder.AddStartup((system, _) => system.ActorOf(QuarantineGuard.Props(), QuarantineGuard.Name));
        if (options.Seeds.Count > 0)
        {
            var seeds = options.Seeds.Select(Address.Parse).ToArray();
            builder.AddStartup((system, _) => { Task.Run(() => SeedJoin.JoinAsync(system, seeds)); });
        }
        if (options.Seeds.Count == 0)
            builder.AddStartup((system, _) =>
            {
                var cluster = Cluster.Get(system);
                cluster.Join(cluster.SelfAddress);
            });
        return builder;
    }

    /// <summary>Sessions as Cluster Sharding entities keyed by session id (remote clients reach them through <see cref="WithFusionGateway"/>).</summary>
    /// <param name="encoding">The node's batcher and pending-input cap (the container's <see cref="NodeEncoding"/>); default: made from <paramref name="options"/>, disposed when the actor system terminates.</param>
    public static AkkaConfigurationBuilder WithFusionSessions(this AkkaConfigurationBuilder builder, FusionOptions options, IEncoderProvider encoders,
        NodeEncoding? encoding = null)
    {
        var shardOptions = new ShardOptions
        {
            Role = options.Roles.Contains("fusion") ? "fusion" : null,
            RememberEntities = false,
            StateStoreMode = Akka.Cluster.Sharding.StateStoreMode.DData,
        };
        // Idle passivation is the session's own (SessionActor: frames through a client's sink bypass the shard,
        // so the shard would take a busy session for idle).
        var tokens = new SessionTokens(options.SessionTokens);
        var operatorCredential = OperatorCredential.For(options.OperatorConsole.Token);
        var admission = new SessionAdmission(options.Limits.MaxSessions);
        // The node's encoding, shared by every session: the batcher that coalesces their inputs into shared model
        // calls (when on) and the cap on the inputs all of them hold.
        if (encoding is null)
        {
            var own = encoding = new NodeEncoding(options.Batching, options.Backoff.EncodeDeadline, options.Limits.MaxPendingEncoderInputs, options.RepeatCache);
            builder.AddStartup((system, _) => system.RegisterOnTermination(own.Dispose));
        }
        var node = new NodeEncoderProvider(encoders, encoding);
        // The node's recording writer (Fusion:Recording:Directory set): its own thread, stopped with the actor system.
        var recorder = options.Recording.Enabled ? new Recording.RecordingWriter(options.Recording) : null;
        if (recorder is not null)
            builder.AddStartup((system, _) =>
            {
                var log = Akka.Event.Logging.GetLogger(system, "FusionActors.Recording");
                recorder.Warn = m => log.Warning("{0}", m);
                log.Info("Recording sessions to {0} ({1})", recorder.Directory,
                    options.Recording.KeyId is { } key ? $"encrypted with key '{key}'" : "not encrypted");
                system.RegisterOnTermination(recorder.Dispose);
            });
        return builder.WithShardRegion<SessionRegion>("sessions",
                sessionId => SessionActor.Props(sessionId, node, options.Backoff, tokens: tokens, passivateIdleAfter: options.PassivateIdleAfter,
                    operatorCredential: operatorCredential, limits: options.Limits, admission: admission, recorder: recorder,
                    hibernateAfter: options.HibernateAfter),
                new SessionMessageExtractor(options.Shards), shardOptions);
    }

    /// <summary>
    /// The gateway remote clients talk to (<see cref="SessionGateway"/>), registered with the ClusterClient
    /// receptionist of every node, so a client with any live node among its contacts reaches every session.
    /// </summary>
    public static AkkaConfigurationBuilder WithFusionGateway(this AkkaConfigurationBuilder builder, Core.Specs.SpecLimits? limits = null) =>
        builder.WithActors((system, registry) =>
        {
            var gateway = system.ActorOf(SessionGateway.Props(registry.Get<SessionRegion>(), limits), SessionGateway.Name);
            ClusterClientReceptionist.Get(system).RegisterService(gateway);
        });

    /// <summary>Waits until this node is Up in its cluster (sharding serves only then).</summary>
    public static Task WhenUp(this ActorSystem system, CancellationToken cancel = default)
    {
        var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Cluster.Get(system).RegisterOnMemberUp(() => tcs.TrySetResult());
        cancel.Register(() => tcs.TrySetCanceled(cancel));
        return tcs.Task;
    }
}
