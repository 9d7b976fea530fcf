using System.CommandLine;

namespace FusionActors.Runtime.Hosting;

/// <summary>
/// The node's command line (System.CommandLine), shared by the node executable and the front-end CLI's
/// <c>node</c> command: each option sets one configuration key over appsettings.json and the environment, and the
/// node runs through <see cref="FusionNodeProgram"/>.
/// </summary>
public static class FusionNodeCommand
{
    public const string Description =
        "run a server node until Ctrl+C/SIGTERM (then it leaves the cluster); exit code 3 when its actor system terminates without being asked to";

    /// <summary>The <c>node</c> command.</summary>
    public static Command Create() => Configure(new Command("node", Description));

    /// <summary>Adds the node's options and action to <paramref name="command"/> (a root command for the node executable).</summary>
    public static T Configure<T>(T command) where T : Command
    {
        var options = new (Option Option, string Key)[]
        {
            (Text("--config", "PATH", "the node's HOCON file over the built-in defaults (default: $FUSION_CONFIG, else the defaults alone)"),
                FusionConfiguration.ConfigFileKey),
            (Text("--hostname", "H", "the address this node is reached at (default: the configuration's)"), "Fusion:Node:Hostname"),
            (Port(), "Fusion:Node:Port"),
            (Text("--seeds", "host:port,...", "seed nodes (default: the configuration's; none = a one-node cluster)"), "Fusion:Node:Seeds"),
            (Text("--roles", "r1,r2", "the node's roles (default: the configuration's)"), "Fusion:Node:Roles"),
            (HttpPort(), "Fusion:Http:Port"),
        };
        foreach (var (option, _) in options) command.Options.Add(option);
        command.SetAction((parsed, cancel) =>
        {
            var overrides = new List<KeyValuePair<string, string?>>();
            foreach (var (option, key) in options)
                if (parsed.GetResult(option) is { Implicit: false } given)
                {
                    overrides.Add(KeyValuePair.Create(key, (string?)string.Join(' ', given.Tokens.Select(t => t.Value))));
                    // Naming the HTTP port serves it.
                    if (key == "Fusion:Http:Port") overrides.Add(KeyValuePair.Create("Fusion:Http:Enabled", (string?)"true"));
                }
            return FusionNodeProgram.RunAsync(overrides, cancel);
        });
        return command;
    }

    /// <summary>Runs a node process with <paramref name="args"/> (a leading <c>node</c> is allowed); returns its exit code.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        var root = Configure(new RootCommand("FusionActors node: " + Description));
        var parsed = root.Parse(args is ["node", .. var rest] ? rest : args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (parsed.Errors.Count > 0)
        {
            foreach (var e in parsed.Errors) System.Console.Error.WriteLine($"error: {e.Message}");
            System.Console.Error.WriteLine("--help lists the options");
            return FusionNodeProgram.ExitUsage;
        }
        return await parsed.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null });
    }

    private static Option<string?> Text(string name, string helpName, string description) =>
        new(name) { Description = description, HelpName = helpName };

    private static Option<int?> HttpPort()
    {
        var port = new Option<int?>("--http-port")
        {
            Description = "serve the HTTP port (WebSocket ingress, /healthz/live, /healthz/ready) on this port, 0-65535 (default: the configuration's, off)",
            HelpName = "P",
        };
        port.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int?>() is { } p && p is < 0 or > 65535) r.AddError($"--http-port must be 0..65535, not {p}");
        });
        return port;
    }

    private static Option<int?> Port()
    {
        var port = new Option<int?>("--port") { Description = "the remoting port, 0-65535 (default: the configuration's)", HelpName = "P" };
        port.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int?>() is { } p && p is < 0 or > 65535) r.AddError($"--port must be 0..65535, not {p}");
        });
        return port;
    }
}
