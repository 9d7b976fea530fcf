using System.CommandLine;
using FusionActors.Bench;

namespace FusionActors.Host.Commands;

/// <summary><c>bench-remote</c>: <see cref="RemoteBench"/> from the command line; with <c>--raw-peer</c>, the raw peer process it starts.</summary>
public static class BenchRemoteCommand
{
    public static Command Create()
    {
        var report = OptionValues.Text("--report", "PATH", "write the JSON report to this file");
        var quick = OptionValues.Flag("--quick", "shorter runs, one each (default: the median of 3)");
        var frames = OptionValues.Int("--frames", "frames per session and payload in one run (default 200000, quick 20000; at least 1000)");
        var sessions = OptionValues.Int("--sessions", "sessions in parallel, and as many raw sender/receiver pairs (default 4; 1-256)");
        var replayLog = OptionValues.Int("--replay-log", "uncommitted frames a session may hold (default: the client library's; at least 1)");
        var batch = OptionValues.Int("--batch", "the client's largest batch of frames (default: the client library's; 1-16384)");
        var allocTypes = OptionValues.Flag("--alloc-types", "after the measured runs, one more SinkRef run per payload that prints the client's allocations by type");
        // The raw peer: this program started again by bench-remote itself, not a command for people.
        var rawPeer = new Option<bool>("--raw-peer") { Hidden = true };
        var port = new Option<int?>("--port") { Hidden = true };
        var pairs = new Option<int?>("--pairs") { Hidden = true };
        var ackEvery = new Option<int?>("--ack-every") { Hidden = true };
        var command = new Command("bench-remote", "SinkRef frames/s from a remote client into a node process vs raw remote Tells")
        {
            report, quick, frames, sessions, replayLog, batch, allocTypes, rawPeer, port, pairs, ackEvery,
        };
        command.SetAction((parsed, cancel) =>
        {
            if (parsed.GetValue(rawPeer))
            {
                OnlyWith(parsed, "--raw-peer", report, quick, frames, sessions, replayLog, batch, allocTypes);
                return RemoteBench.RunPeerAsync(parsed.Get(port, 0, 1, 65535), parsed.Get(pairs, 1, 1, 1024), parsed.Get(ackEvery, 100, 1), cancel);
            }
            OnlyWith(parsed, "the benchmark", port, pairs, ackEvery);
            var q = parsed.GetValue(quick);
            return RemoteBench.RunAsync(q, parsed.Get(frames, RemoteBench.DefaultFrames(q), 1_000), parsed.Get(sessions, 4, 1, 256),
                parsed.Given(replayLog) ? parsed.Get(replayLog, 0, 1) : null,
                parsed.Given(batch) ? parsed.Get(batch, 0, 1, 16_384) : null,
                parsed.GetValue(report), parsed.GetValue(allocTypes), cancel);
        });
        return command;
    }

    /// <summary>The raw peer and the benchmark take different options: one of the other's is a usage error.</summary>
    private static void OnlyWith(ParseResult parsed, string what, params Option[] others)
    {
        foreach (var o in others)
            if (parsed.Given(o)) throw new FusionActors.Scenarios.UsageException($"unknown option {o.Name} (with {what})");
    }
}
