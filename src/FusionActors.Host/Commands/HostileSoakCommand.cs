using System.CommandLine;
using FusionActors.Scenarios.Hostile;
using FusionActors.Scenarios.Remote;

namespace FusionActors.Host.Commands;

/// <summary>
/// <c>hostile-soak</c>: a node process under bad frames from a raw peer, next to an honest probe session; prints progress,
/// then the JSON summary (node memory and its slope, probe latency, rejections by reason); exit 1 when the node died or the
/// probe lost a frame or a window.
/// </summary>
public static class HostileSoakCommand
{
    public static Command Create()
    {
        var minutes = OptionValues.Int("--minutes", "how long the attack and the probe run (default 10; 1-1440)");
        var rate = OptionValues.Int("--rate", "bad frames per second through the peer's own session (default 2000; 0 = none, a baseline; up to 100000)");
        var garbage = OptionValues.Int("--garbage", "raw TCP connections of random bytes per second at the remoting port (default 5; 0-100)");
        var report = OptionValues.Text("--report", "PATH", "write the JSON summary to this file");
        var logs = OptionValues.Text("--logs", "DIR", "where the node's config and log go (default: artifacts/hostile-soak)");
        var command = new Command("hostile-soak", "a node under bad frames and garbage connections from a raw peer, beside an honest probe session")
        {
            minutes, rate, garbage, report, logs,
        };
        command.SetAction(async (parsed, cancel) =>
        {
            var options = new HostileSoak.Options
            {
                Minutes = parsed.Get(minutes, 10, 1, 24 * 60),
                BadFramesPerSecond = parsed.Get(rate, 2_000, 0, 100_000),
                GarbageConnectionsPerSecond = parsed.Get(garbage, 5, 0, 100),
                Progress = Console.WriteLine,
            };
            if (parsed.GetValue(logs) is { } dir) options = options with { LogDir = Path.GetFullPath(dir) };
            var summary = await HostileSoak.RunAsync(options, cancel);
            var json = summary.ToJson();
            Console.WriteLine(json);
            if (parsed.GetValue(report) is { } path)
            {
                Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
                await File.WriteAllTextAsync(path, json, cancel);
            }
            if (!summary.Passed) Console.Error.WriteLine("FAILED: the node died, or the probe lost a frame or a window");
            return summary.Passed ? HostExitCodes.Ok : HostExitCodes.Failed;
        });
        return command;
    }
}
