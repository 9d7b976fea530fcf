using System.CommandLine;
using System.Runtime.InteropServices;
using Akka.Cluster;
using Microsoft.Extensions.Logging;
using FusionActors.Runtime.Hosting;
using FusionActors.Scenarios;
using FusionActors.Scenarios.Remote;

namespace FusionActors.Host.Commands;

/// <summary>
/// Runs one server node until Ctrl+C or SIGTERM, then leaves the cluster gracefully. With no seeds it is a
/// one-node cluster; the first seed of a cluster is an ordinary node (give it its own address as first seed).
/// </summary>
public static class NodeCommand
{
    public static Command Create()
    {
        var config = OptionValues.Text("--config", "PATH", "the node's configuration file, over the built-in defaults (default: $FUSION_CONFIG, else the defaults alone)");
        var hostname = OptionValues.Text("--hostname", "H", "the address this node is reached at (default: the config's)");
        var port = OptionValues.Int("--port", "the remoting port (default: the config's; 0-65535)");
        var seeds = OptionValues.Text("--seeds", "host:port,...", "seed nodes host:port,... (default: the config's; none = a one-node cluster)");
        var roles = OptionValues.Text("--roles", "r1,r2", "the node's roles r1,r2 (default: the config's)");
        var command = new Command("node", "run a server node until Ctrl+C/SIGTERM; exit code 3 when its actor system terminates without being asked to")
        {
            config, hostname, port, seeds, roles,
        };
        command.SetAction((parsed, cancel) => RunAsync(parsed.GetValue(config), parsed.GetValue(hostname),
            parsed.Given(port) ? parsed.Get(port, 0, 0, 65535) : null, parsed.GetValue(seeds), parsed.GetValue(roles), cancel));
        return command;
    }

    public static async Task<int> RunAsync(string? configPath, string? hostname, int? port, string? seedList, string? roleList, CancellationToken cancel)
    {
        var options = FusionOptions.Load(configPath);
        if (hostname is { } host) options = options with { Hostname = host };
        if (port is { } p) options = options with { Port = p };
        if (seedList is { } seeds)
            options = options with { Seeds = seeds.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Seed(options)).ToArray() };
        if (roleList is { } roles)
            options = options with { Roles = roles.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) };

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx =>
        {
            ctx.Cancel = true;
            stop.Cancel();
        });
        await using var node = await FusionNode.StartAsync(options, logLevel: LogLevel.Information, cancel: cancel);
        var cluster = Cluster.Get(node.System);
        Console.WriteLine($"node up at {cluster.SelfAddress} roles [{string.Join(",", options.Roles)}] seeds [{string.Join(",", options.Seeds)}]; Ctrl+C or SIGTERM to leave");
        var stopped = Task.Delay(Timeout.Infinite, stop.Token).ContinueWith(_ => { }, TaskScheduler.Default);
        if (await Task.WhenAny(stopped, node.System.WhenTerminated) != stopped)
        {
            // Downed by the cluster (after a long pause, a partition) or shut down from inside: a node whose actor
            // system is gone must not linger with its console up. Exit non-zero, so systemd, Kubernetes or compose
            // restarts it and it joins again.
            Console.Error.WriteLine($"the actor system of {cluster.SelfAddress} terminated (downed or shut down by the cluster); exiting");
            return HostExitCodes.NodeTerminated;
        }
        Console.WriteLine("leaving the cluster");
        return HostExitCodes.Ok;
    }

    private static Func<string, string> Seed(FusionOptions options) => seed =>
    {
        try { return options.SeedAddress(seed); }
        catch (FormatException e) { throw new UsageException(e.Message); }
    };
}
