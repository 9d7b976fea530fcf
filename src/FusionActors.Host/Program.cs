using System.CommandLine;
using FusionActors.Core.Specs;
using FusionActors.Host.Commands;
using FusionActors.Protocol.Specs;
using FusionActors.Scenarios;
using FusionActors.Scenarios.Remote;

namespace FusionActors.Host;

/// <summary>
/// The FusionActors command line: one command per program (demo, eval, bench, bench-remote, node, push, hostile-soak,
/// failover-demo, replay), each a thin layer over its library. <c>COMMAND --help</c> lists a command's options.
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] argv)
    {
        using var cts = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; cts.Cancel(); };
        return await RunAsync(argv, cts.Token);
    }

    public static RootCommand Commands() => new("FusionActors.Host: the FusionActors server and its scenarios")
    {
        DemoCommand.Create(),
        BenchCommand.Create(),
        BenchRemoteCommand.Create(),
        NodeCommand.Create(),
        PushCommand.Create(),
        FailoverCommand.Create(),
        HostileSoakCommand.Create(),
        EvalCommand.Create(),
        FitDriftCommand.Create(),
        ReplayCommand.Create(),
    };

    public static async Task<int> RunAsync(string[] argv, CancellationToken cancel)
    {
        var root = Commands();
        if (argv is ["help"]) argv = ["--help"];
        var parsed = root.Parse(argv, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (argv.Length == 0 || parsed.Errors.Count > 0)
        {
            foreach (var e in parsed.Errors.Where(_ => argv.Length > 0)) Console.Error.WriteLine($"error: {e.Message}");
            await root.Parse([.. CommandOf(parsed), "--help"]).InvokeAsync(new InvocationConfiguration { Output = argv.Length == 0 ? Console.Out : Console.Error });
            return HostExitCodes.Usage;
        }
        // The program handles Ctrl+C itself (one cancellation for every command) and maps its own exceptions to exit codes.
        var invocation = new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null };
        try
        {
            return await parsed.InvokeAsync(invocation, cancel);
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            Console.Error.WriteLine($"usage: FusionActors.Host {string.Join(' ', CommandOf(parsed))} --help lists the options");
            return HostExitCodes.Usage;
        }
        catch (Exception e) when (e is SpecException or FileNotFoundException or DirectoryNotFoundException or InvalidDataException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return HostExitCodes.Failed;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("cancelled");
            return HostExitCodes.Cancelled;
        }
    }

    /// <summary>The words of the command that was parsed (none for the root).</summary>
    private static string[] CommandOf(ParseResult parsed)
    {
        var words = new List<string>();
        for (var c = parsed.CommandResult; c.Parent is System.CommandLine.Parsing.CommandResult parent; c = parent) words.Insert(0, c.Command.Name);
        return [.. words];
    }
}
