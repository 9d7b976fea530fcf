using System.CommandLine;
using System.Text.Json;
using FusionActors.Scenarios.Remote;

namespace FusionActors.Host.Commands;

/// <summary><c>failover-demo</c>: the failover scenario as a program: prints progress, then the JSON summary; exit 1 when a check failed.</summary>
public static class FailoverCommand
{
    public static Command Create()
    {
        var seconds = OptionValues.Int("--seconds", "items played, one 1 s window each, in real time (default 30; 10-220)");
        var killAt = OptionValues.Int("--kill-at", "the session second at which the node hosting the session is killed (default seconds/3; 2 to seconds-5)");
        var dataset = OptionValues.Text("--dataset", "DIR", "an AV-Digits data set folder (default: the committed sample)");
        var jitter = OptionValues.Flag("--jitter", "network jitter with reordering, late and too-late frames, on top of the kill");
        var report = OptionValues.Text("--report", "PATH", "write the JSON summary to this file");
        var logs = OptionValues.Text("--logs", "DIR", "where the node processes' configs and logs go (default: TMP/fusion-failover)");
        var command = new Command("failover-demo", "three node processes, a session pushed through the client, its node killed: no loss?")
        {
            seconds, killAt, dataset, jitter, report, logs,
        };
        command.SetAction(async (parsed, cancel) =>
        {
            var s = parsed.Get(seconds, 30, 10, 220);
            var options = new FailoverScenario.Options
            {
                Seconds = s,
                KillAtSeconds = parsed.Get(killAt, s / 3, 2, s - 5),
                Dataset = parsed.GetValue(dataset),
                Jitter = parsed.GetValue(jitter),
                LogDir = parsed.GetValue(logs) ?? Path.Combine(Path.GetTempPath(), "fusion-failover"),
                Progress = Console.WriteLine,
            };
            var result = await FailoverScenario.RunAsync(options, cancel);
            var json = JsonSerializer.Serialize(result, FailoverScenario.Json);
            Console.WriteLine(json);
            if (parsed.GetValue(report) is { } path)
            {
                Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
                await File.WriteAllTextAsync(path, json, cancel);
            }
            if (!result.Passed) Console.Error.WriteLine($"FAILED: {string.Join("; ", result.Failures)}");
            return result.Passed ? HostExitCodes.Ok : HostExitCodes.Failed;
        });
        return command;
    }
}
