using System.Text.Json;
using FusionActors.Host.Remote;

namespace FusionActors.Host.Commands;

/// <summary>The failover scenario as a program: prints progress, then the JSON summary; exit 1 when a check failed.</summary>
public static class FailoverCommand
{
    public const string Usage = "failover-demo [--seconds N] [--kill-at S] [--dataset DIR] [--jitter] [--report PATH] [--logs DIR]";

    public static async Task<int> RunAsync(Args args, CancellationToken cancel)
    {
        args.AllowOnly("seconds", "kill-at", "dataset", "jitter", "report", "logs");
        var seconds = args.Int("seconds", 30, 10, 220);
        var options = new FailoverScenario.Options
        {
            Seconds = seconds,
            KillAtSeconds = args.Int("kill-at", seconds / 3, 2, seconds - 5),
            Dataset = args.String("dataset"),
            Jitter = args.Flag("jitter"),
            LogDir = args.String("logs") ?? Path.Combine(Path.GetTempPath(), "fusion-failover"),
            Progress = System.Console.WriteLine,
        };
        var report = await FailoverScenario.RunAsync(options, cancel);
        var json = JsonSerializer.Serialize(report, FailoverScenario.Json);
        System.Console.WriteLine(json);
        if (args.String("report") is { } path)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            await File.WriteAllTextAsync(path, json, cancel);
        }
        if (!report.Passed) System.Console.Error.WriteLine($"FAILED: {string.Join("; ", report.Failures)}");
        return report.Passed ? 0 : 1;
    }
}
