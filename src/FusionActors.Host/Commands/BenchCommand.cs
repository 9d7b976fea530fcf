using System.CommandLine;
using FusionActors.Bench;
using FusionActors.Scenarios;
using FusionActors.Scenarios.Sessions;

namespace FusionActors.Host.Commands;

/// <summary><c>bench</c>: <see cref="BenchSuite"/> from the command line.</summary>
public static class BenchCommand
{
    public static Command Create()
    {
        var report = OptionValues.Text("--report", "PATH", "write the JSON report to this file");
        var quick = OptionValues.Flag("--quick", "shorter runs (a smoke test of the numbers, not the numbers)");
        var only = OptionValues.Text("--only", "abcdefg", "run a subset, letters of abcdefg: (a) actor path, (b) encoders, (c) latency at 50 % and 80 % of its own pattern's capacity, (d) memory, " +
            "(e) real-time sessions with the batcher off and on, (f) overload at 150 % of capacity, lossless and latency-constrained, (g) a frozen camera's CPU per input with the repeat cache off and on (default abcdef)");
        var batching = OptionValues.Text("--batching", "on|off", "the node's encoder batcher for (a)-(d) (default: as configured, on)");
        var record = OptionValues.Text("--record", "DIR", "record every session into this folder (what recording costs on the hot path; default: no recording)");
        var session = OptionValues.Text("--session", "FILE",
            "a session description file (config/sessions/*.json): (b) measures the encoders of its streams' models, on the node of its models file, and each stream's CPU per 1 s window");
        var command = new Command("bench", "measure the actor path, encoders, latency, memory and batching") { report, quick, only, batching, record, session };
        command.SetAction((parsed, cancel) => BenchSuite.RunAsync(parsed.GetValue(quick), parsed.GetValue(only) ?? "abcdef", parsed.GetValue(report), cancel,
            parsed.GetValue(batching) switch
            {
                null => null,
                "on" => true,
                "off" => false,
                var other => throw new UsageException($"--batching takes on or off, not '{other}'"),
            }, parsed.GetValue(record), parsed.GetValue(session) is { } file ? SessionDescription.Load(file) : null));
        return command;
    }
}
