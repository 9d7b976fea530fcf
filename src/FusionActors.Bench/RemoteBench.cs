using System.Text.Json;
using Akka.Actor;
using FusionActors.Client;
using FusionActors.Scenarios.Remote;

namespace FusionActors.Bench;

/// <summary>
/// A program that prints numbers: how many frames per second a remote client gets through the client library's
/// SinkRef path into a node (in a process of its own, over loopback TCP), next to plain Akka.Remote Tells of the
/// same frames between two processes, for both AV-Digits payload sizes. Runs alternate between the two paths,
/// so load from other processes on a shared machine hits both alike; the median run of each is reported.
/// </summary>
public static class RemoteBench
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);

    /// <summary>Frames per session and payload in one run: what is measured unless asked otherwise.</summary>
    public static int DefaultFrames(bool quick) => quick ? 20_000 : 200_000;

    /// <summary>The raw peer: the other actor system of the raw path, in its own process (started by <see cref="RemotePeerProcess"/>).</summary>
    public static Task<int> RunPeerAsync(int port, int pairs, int ackEvery, CancellationToken cancel) =>
        RemoteRaw.RunPeerAsync(port, pairs, ackEvery, cancel);

    /// <param name="frames">Frames per session and payload in one run.</param>
    /// <param name="sessions">
    /// Sessions in parallel, and as many raw sender/receiver pairs: 4 keeps both cores of the reference machine busy
    /// (2 and 8 measured the same within the noise).
    /// </param>
    /// <param name="replayLog">
    /// Uncommitted frames a session may hold; null = the client library's default. The node acks a sink batch only once
    /// its streams have room for more inputs, so the client is held back before anything is shed (shed or rejected
    /// frames mark the run MISSED).
    /// </param>
    /// <param name="batch">The client's largest batch of frames; null = the client library's default.</param>
    /// <param name="allocTypes">After the measured runs of a payload, one more SinkRef run that prints the client's allocations by type.</param>
    /// <returns>0 when every run met its checks, else 1.</returns>
    public static async Task<int> RunAsync(bool quick, int frames, int sessions, int? replayLog, int? batch, string? reportPath, bool allocTypes,
        CancellationToken cancel)
    {
        var repeats = quick ? 1 : 3;
        // Raw flow control: up to 2048 frames unacked per sender, an ack per 64 (a 1/64 overhead, far from the window).
        const int rawWindow = 2_048, ackEvery = 64;
        // Warm-up long enough for tiered JIT to reach steady code in the node and peer processes (short runs measure tier-0 code).
        var warmUpFrames = Math.Max(frames / 2, 50_000);
        var payloads = new[] { RemotePayload.Audio, RemotePayload.Camera, RemotePayload.AudioFloat };
        var options = new FusionClientOptions { Contacts = [], RequestTimeout = TimeSpan.FromSeconds(60) };
        options = options with { MaxUncommittedFrames = replayLog ?? options.MaxUncommittedFrames };
        if (batch is { } b) options = options with { MaxBatch = b };
        var machine = MachineInfo.Current();

        var logDir = Path.Combine(Path.GetTempPath(), $"fusion-bench-remote-{Environment.ProcessId}");
        var nodePort = NodeProcess.FreePort();
        using var node = NodeProcess.Start(nodePort, [nodePort], logDir, "akka.loglevel = WARNING\nfusion.console.enabled = off\n");
        using var peer = RemotePeerProcess.Start(NodeProcess.FreePort(), sessions, ackEvery);
        ActorSystem? rawSystem = null;
        FusionClient? client = null;
        var errors = new List<string>();
        var results = new List<RemotePayloadResult>();
        try
        {
            Console.WriteLine($"FusionActors bench-remote: starting a node process (pid {node.Pid}, port {nodePort}, log {node.LogPath}) and a raw peer process (pid {peer.Pid}) ...");
            await Task.WhenAll(node.WaitUpAsync(StartTimeout), peer.WaitUpAsync(StartTimeout)).WaitAsync(cancel);
            options = options with { Contacts = [$"127.0.0.1:{nodePort}"] };
            client = await FusionClient.ConnectAsync(options);
            rawSystem = ActorSystem.Create("fusion-bench-raw-sender", RemoteRaw.SystemConfig(0));
            var senders = await RemoteRaw.ConnectAsync(rawSystem, $"127.0.0.1:{peer.Port}", sessions, rawWindow, cancel);
            Console.WriteLine($"{Environment.ProcessorCount} cores; {frames:N0} frames per run, {sessions} sessions / raw pairs, median of {repeats} run(s) after a warm-up");

            var run = 0;
            var serverCpu = ProcessCpu.Of(node.Pid);
            var peerCpu = ProcessCpu.Of(peer.Pid);
            foreach (var payload in payloads)
            {
                try
                {
                    Console.WriteLine($"{payload.Name} frames ({payload.Floats} floats, {payload.Bytes} B; {payload.WireBytes} B on the wire) ...");
                    // Warm-up: JIT, connections, pools, on both paths.
                    var warmRemote = await RemoteSinkRef.MeasureAsync(client, serverCpu, payload, $"warm-{payload.Name}-{run++}", sessions, warmUpFrames, cancel);
                    var warmRaw = await RemoteRaw.MeasureAsync(senders, peerCpu, warmUpFrames, payload.Data, rawWindow, ackEvery, cancel);
                    Console.WriteLine($"    warm-up: SinkRef {warmRemote.FramesPerSec:N0} frames/s, raw {warmRaw.FramesPerSec:N0} frames/s");
                    var remoteRuns = new List<RemoteSinkRef.Result>();
                    var rawRuns = new List<RemoteRaw.Result>();
                    for (var i = 0; i < repeats; i++)
                    {
                        remoteRuns.Add(await RemoteSinkRef.MeasureAsync(client, serverCpu, payload, $"run-{payload.Name}-{run++}", sessions, frames, cancel));
                        rawRuns.Add(await RemoteRaw.MeasureAsync(senders, peerCpu, frames, payload.Data, rawWindow, ackEvery, cancel));
                        var r = remoteRuns[^1];
                        Console.WriteLine($"    run {i + 1}: SinkRef {r.FramesPerSec:N0} frames/s (max held {r.MaxUncommitted:N0}, rejected {r.Rejected}, shed {r.Shed}), " +
                                          $"raw {rawRuns[^1].FramesPerSec:N0} frames/s; load {MachineInfo.LoadAverage()}");
                    }
                    if (allocTypes) await PrintAllocationsAsync(client, serverCpu, payload, $"alloc-{payload.Name}-{run++}", sessions, frames, cancel);
                    var remote = Repeat.MedianOf(remoteRuns, r => r.FramesPerSec);
                    var raw = Repeat.MedianOf(rawRuns, r => r.FramesPerSec);
                    results.Add(new RemotePayloadResult(payload.Name, payload.Bytes, remote.FramesPerSec, raw.FramesPerSec, remote.FramesPerSec / raw.FramesPerSec,
                        remote.Frames, remote.Seconds, sessions, options.MaxBatch, remote, raw,
                        remoteRuns.Select(r => r.FramesPerSec).ToArray(), rawRuns.Select(r => r.FramesPerSec).ToArray()));
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    errors.Add($"{payload.Name}: {e.GetType().Name}: {e.Message}");
                    Console.WriteLine($"    {payload.Name} FAILED: {e.GetType().Name}: {e.Message}");
                }
            }
        }
        finally
        {
            if (client is not null) await client.DisposeAsync();
            if (rawSystem is not null) await rawSystem.Terminate().WaitAsync(TimeSpan.FromSeconds(10)).ContinueWith(_ => { }, TaskScheduler.Default);
            await node.StopAsync(TimeSpan.FromSeconds(10));
        }

        var report = new RemoteReport
        {
            Scale = quick ? "quick" : "full",
            Machine = machine with { LoadAverageAtEnd = MachineInfo.LoadAverage() },
            Timestamp = DateTimeOffset.UtcNow,
            Topology = $"client library in this process -> node in process {node.Pid} (127.0.0.1:{nodePort}, akka.tcp, FrameSerializer); " +
                       $"raw: actor system in this process -> actor system in process {peer.Pid} (akka.tcp, FrameSerializer)",
            Repeats = repeats,
            Payloads = results,
            Errors = errors,
        };
        report.Print();
        if (reportPath is { } path)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            await File.WriteAllTextAsync(path, JsonSerializer.Serialize(report, BenchReport.Json), cancel);
            Console.WriteLine($"report written to {path}");
        }
        if (errors.Count > 0) return 1;
        try { Directory.Delete(logDir, recursive: true); } // the node's log is kept only when something failed
        catch (IOException) { }
        return 0;
    }

    /// <summary>One SinkRef run with the runtime's allocation sample on: the client's bytes per frame by type (the 12 largest).</summary>
    private static async Task PrintAllocationsAsync(FusionClient client, Func<TimeSpan> serverCpu, RemotePayload payload, string prefix, int sessions, int frames,
        CancellationToken cancel)
    {
        using var sampler = new RemoteAllocations();
        sampler.Start();
        var r = await RemoteSinkRef.MeasureAsync(client, serverCpu, payload, prefix, sessions, frames, cancel);
        var types = sampler.Stop(r.Frames);
        Console.WriteLine($"    allocations by type (sampled; run total {r.AllocatedBytesPerFrame:N0} B/frame):");
        foreach (var (type, bytes) in types.Take(12)) Console.WriteLine($"      {bytes,8:N0} B/frame  {type}");
    }
}
