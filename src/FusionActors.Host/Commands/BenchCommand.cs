using System.CommandLine;
using FusionActors.Bench;

namespace FusionActors.Host.Commands;

/// <summary><c>bench</c>: <see cref="BenchSuite"/> from the command line.</summary>
public static class BenchCommand
{
    public static Command Create()
    {
        var report = OptionValues.Text("--report", "PATH", "write the JSON report to this file");
        var quick = OptionValues.Flag("--quick", "shorter runs (a smoke test of the numbers, not the numbers)");
        var only = OptionValues.Text("--only", "abcd", "run a subset, letters of abcd: (a) actor path, (b) encoders, (c) latency (runs (a) too), (d) memory (default abcd)");
        var command = new Command("bench", "measure the actor path, encoders, latency and memory") { report, quick, only };
        command.SetAction((parsed, cancel) => BenchSuite.RunAsync(parsed.GetValue(quick), parsed.GetValue(only) ?? "abcd", parsed.GetValue(report), cancel));
        return command;
    }
}
