using System.Runtime.InteropServices;
using Akka.Cluster;
using Microsoft.Extensions.Logging;
using FusionActors.Runtime.Hosting;

namespace FusionActors.Host.Commands;

/// <summary>
/// Runs one server node until Ctrl+C or SIGTERM, then leaves the cluster gracefully. With no seeds it is a
/// one-node cluster; the first seed of a cluster is an ordinary node (give it its own address as first seed).
/// </summary>
public static class NodeCommand
{
    public const string Usage = "node [--config PATH] [--hostname H] [--port P] [--seeds host:port,...] [--roles r1,r2]";

    /// <summary>The exit code of a node whose actor system terminated without being asked to stop.</summary>
    public const int ExitTerminated = 3;

    public static async Task<int> RunAsync(Args args, CancellationToken cancel)
    {
        args.AllowOnly("config", "hostname", "port", "seeds", "roles");
        var options = FusionOptions.Load(args.String("config"));
        if (args.String("hostname") is { } host) options = options with { Hostname = host };
        if (args.String("port") is not null) options = options with { Port = args.Int("port", 0, 0, 65535) };
        if (args.String("seeds") is { } seeds)
            options = options with { Seeds = seeds.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Seed(options)).ToArray() };
        if (args.String("roles") is { } roles)
            options = options with { Roles = roles.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) };

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx =>
        {
            ctx.Cancel = true;
            stop.Cancel();
        });
        await using var node = await FusionNode.StartAsync(options, logLevel: LogLevel.Information, cancel: cancel);
        var cluster = Cluster.Get(node.System);
        System.Console.WriteLine($"node up at {cluster.SelfAddress} roles [{string.Join(",", options.Roles)}] seeds [{string.Join(",", options.Seeds)}]; Ctrl+C or SIGTERM to leave");
        var stopped = Task.Delay(Timeout.Infinite, stop.Token).ContinueWith(_ => { }, TaskScheduler.Default);
        if (await Task.WhenAny(stopped, node.System.WhenTerminated) != stopped)
        {
            // Downed by the cluster (after a long pause, a partition) or shut down from inside: a node whose actor
            // system is gone must not linger with its console up. Exit non-zero, so systemd, Kubernetes or compose
            // restarts it and it joins again.
            System.Console.Error.WriteLine($"the actor system of {cluster.SelfAddress} terminated (downed or shut down by the cluster); exiting");
            return ExitTerminated;
        }
        System.Console.WriteLine("leaving the cluster");
        return 0;
    }

    private static Func<string, string> Seed(FusionOptions options) => seed =>
    {
        try { return options.SeedAddress(seed); }
        catch (FormatException e) { throw new UsageException(e.Message); }
    };
}
