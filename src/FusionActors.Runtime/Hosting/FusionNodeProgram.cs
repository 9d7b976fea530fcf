using System.Runtime.InteropServices;
using Akka.Actor;
using Akka.Cluster;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FusionActors.Runtime.Hosting;

/// <summary>
/// A server node as a process: a generic host (appsettings.json, environment variables, the node's command-line
/// options) with <see cref="FusionServerExtensions.AddFusionServer{TBuilder}"/>, run until Ctrl+C or SIGTERM, when
/// it leaves the cluster gracefully (CoordinatedShutdown, through the host). With no seeds it is a one-node cluster;
/// the first seed of a cluster is an ordinary node (give it its own address as first seed).
/// </summary>
public static class FusionNodeProgram
{
    /// <summary>The exit code of a node whose actor system terminated without being asked to stop (downed, shut down from inside).</summary>
    public const int ExitTerminated = 3;

    /// <summary>The exit code of a node whose options are invalid or unsafe.</summary>
    public const int ExitInvalidOptions = 1;

    /// <summary>The exit code of a command line the node does not understand.</summary>
    public const int ExitUsage = 2;

    /// <summary>
    /// Runs a node with <paramref name="overrides"/> (configuration keys, e.g. from <see cref="Options"/>) over
    /// appsettings.json and the environment, until the host stops; returns the process's exit code.
    /// </summary>
    public static async Task<int> RunAsync(IEnumerable<KeyValuePair<string, string?>> overrides, CancellationToken cancel = default)
    {
        // appsettings.json is read from beside the executable; relative paths of options (--config, models) from the working directory.
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddInMemoryCollection(overrides);
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        builder.AddFusionServer();
        var host = builder.Build();
        try
        {
            await host.StartAsync(cancel);
        }
        catch (Exception e) when (e is OptionsValidationException or InvalidOperationException or FormatException or Akka.Configuration.ConfigurationException
            or FileNotFoundException or DirectoryNotFoundException)
        {
            System.Console.Error.WriteLine($"error: {e.Message}");
            await FusionNode.StopAfterFailedStartAsync(host);
            return ExitInvalidOptions;
        }

        var system = host.Services.GetRequiredService<ActorSystem>();
        var options = host.Services.GetRequiredService<IOptions<FusionOptions>>().Value;
        var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
        var cluster = Cluster.Get(system);
        // Asked to stop (Ctrl+C, SIGTERM, the caller) while the actor system was still running.
        var askedToStop = false;
        using var onStopping = lifetime.ApplicationStopping.Register(() => askedToStop |= !system.WhenTerminated.IsCompleted);
        void Stop()
        {
            askedToStop |= !system.WhenTerminated.IsCompleted;
            lifetime.StopApplication();
        }
        using var onCancel = cancel.Register(Stop);
        // SIGTERM (docker stop, systemd, Kubernetes) stops the host, which leaves the cluster; the process exits
        // when that is done, not at once.
        using var onSigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            Stop();
        });
        System.Console.WriteLine($"node up at {cluster.SelfAddress} roles [{string.Join(",", options.Roles)}] seeds [{string.Join(",", options.Seeds)}]; Ctrl+C or SIGTERM to leave");

        var stopping = Task.Delay(Timeout.Infinite, lifetime.ApplicationStopping).ContinueWith(_ => { }, TaskScheduler.Default);
        await Task.WhenAny(stopping, system.WhenTerminated);
        var terminatedOnItsOwn = system.WhenTerminated.IsCompleted && !askedToStop;
        if (terminatedOnItsOwn)
        {
            // Downed by the cluster (after a long pause, a partition) or shut down from inside: a node whose actor
            // system is gone must not linger with its console up. Exit non-zero, so systemd, Kubernetes or compose
            // restarts it and it joins again.
            System.Console.Error.WriteLine($"the actor system of {cluster.SelfAddress} terminated (downed or shut down by the cluster); exiting");
        }
        else
        {
            System.Console.WriteLine("leaving the cluster");
        }
        await host.StopAsync(TimeSpan.FromSeconds(30));
        host.Dispose();
        return terminatedOnItsOwn ? ExitTerminated : 0;
    }
}
