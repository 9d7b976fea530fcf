using FusionActors.Runtime.Hosting;

namespace FusionActors.Host.Commands;

/// <summary>Runs one server node (<see cref="FusionNodeProgram"/>, the entry point of FusionActors.Node) until Ctrl+C or SIGTERM.</summary>
public static class NodeCommand
{
    public const string Usage = FusionNodeProgram.Usage;

    /// <summary>The exit code of a node whose actor system terminated without being asked to stop.</summary>
    public const int ExitTerminated = FusionNodeProgram.ExitTerminated;

    public static Task<int> RunAsync(Args args, CancellationToken cancel)
    {
        args.AllowOnly([.. FusionNodeProgram.Options.Keys]);
        if (args.String("port") is not null) args.Int("port", 0, 0, 65535);
        var overrides = FusionNodeProgram.Options.Where(o => args.String(o.Key) is not null)
            .Select(o => KeyValuePair.Create(o.Value, args.String(o.Key)));
        return FusionNodeProgram.RunAsync(overrides, cancel);
    }
}
