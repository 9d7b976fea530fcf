namespace FusionActors.Bench;

/// <summary>bench-remote's numbers per payload size (medians of the runs), the target they are held to, and how they print.</summary>
public sealed record RemoteReport
{
    /// <summary>The SinkRef path should move at least half the frames plain remote Tells move.</summary>
    public const double Target = 0.5;

    public required string Scale { get; init; }
    public required MachineInfo Machine { get; init; }
    public required DateTimeOffset Timestamp { get; init; }
    /// <summary>Where each side ran (processes, transport).</summary>
    public required string Topology { get; init; }
    public int Repeats { get; init; }
    public IReadOnlyList<RemotePayloadResult> Payloads { get; init; } = [];
    public IReadOnlyList<string> Errors { get; init; } = [];

    public void Print()
    {
        System.Console.WriteLine();
        System.Console.WriteLine($"FusionActors bench-remote ({Scale}) on {Machine.Cores} cores, {Machine.Os}, .NET {Machine.Dotnet}, {Timestamp:u}; " +
                          $"load average {Machine.LoadAverageAtStart} at start, {Machine.LoadAverageAtEnd} at end");
        System.Console.WriteLine(Topology);
        System.Console.WriteLine($"{"payload",-22} {"SinkRef frames/s",17} {"raw Tell frames/s",18} {"ratio",8} {"target",-8} {"result",-6} " +
                                 $"{"client B/frame",14} {"CPU us/frame SinkRef (client+node)",35} {"raw (sender+receiver)",22}");
        System.Console.WriteLine(new string('-', 160));
        foreach (var p in Payloads)
            System.Console.WriteLine($"{$"{p.Name} ({p.PayloadBytes} B)",-22} {p.RemoteFramesPerSec,17:N0} {p.RawRemoteFramesPerSec,18:N0} {p.Ratio,8:P1} {">= 50 %",-8} {(p.Met ? "met" : "MISSED"),-6} " +
                                     $"{p.Remote.AllocatedBytesPerFrame,14:N0} {$"{p.Remote.CpuUsPerFrame + p.Remote.ServerCpuUsPerFrame:0.00} ({p.Remote.CpuUsPerFrame:0.00}+{p.Remote.ServerCpuUsPerFrame:0.00})",35} " +
                                     $"{$"{p.Raw.CpuUsPerFrame + p.Raw.ReceiverCpuUsPerFrame:0.00} ({p.Raw.CpuUsPerFrame:0.00}+{p.Raw.ReceiverCpuUsPerFrame:0.00})",22}");
        System.Console.WriteLine(new string('-', 160));
        foreach (var p in Payloads)
        {
            var r = p.Remote;
            var w = p.Raw;
            System.Console.WriteLine($"{p.Name}: SinkRef {r.Frames:N0} frames in {r.Seconds:0.00} s over {r.Sessions} sessions, batches of up to {r.BatchSize}, " +
                              $"replay log {r.ReplayLogCapacity:N0}/session (max held {r.MaxUncommitted:N0}); committed {r.FramesCommitted:N0}, accepted {r.FramesAccepted:N0}, " +
                              $"rejected {r.Rejected}, shed {r.Shed}; CPU per frame: client {r.CpuUsPerFrame:0.00} us ({r.AllocatedBytesPerFrame:N0} B allocated), node {r.ServerCpuUsPerFrame:0.00} us. " +
                              $"Runs: {string.Join(", ", p.RemoteRuns.Select(v => v.ToString("N0")))}.");
            System.Console.WriteLine($"{new string(' ', p.Name.Length)}  raw {w.Frames:N0} frames in {w.Seconds:0.00} s over {w.Pairs} sender/receiver pairs, window {w.Window}, ack every {w.AckEvery}; " +
                              $"CPU per frame: sender {w.CpuUsPerFrame:0.00} us ({w.AllocatedBytesPerFrame:N0} B allocated), receiver {w.ReceiverCpuUsPerFrame:0.00} us. " +
                              $"Runs: {string.Join(", ", p.RawRuns.Select(v => v.ToString("N0")))}.");
        }
        if (Payloads.Count > 0)
            System.Console.WriteLine($"By CPU cost (both processes, robust to outside load), raw / SinkRef: {string.Join(", ", Payloads.Select(p => $"{p.Name} {p.RatioByCpu:P1}"))}.");
        foreach (var e in Errors) System.Console.WriteLine($"FAILED {e}");
    }
}

/// <param name="RemoteFramesPerSec">Median over the runs: frames pushed through the client library and committed by the server, per second.</param>
/// <param name="RawRemoteFramesPerSec">Median over the runs: frames told to remote receivers and acked, per second.</param>
/// <param name="Ratio">SinkRef / raw.</param>
/// <param name="Frames">Frames per SinkRef run.</param>
/// <param name="Seconds">Duration of the median SinkRef run.</param>
public sealed record RemotePayloadResult(
    string Name, int PayloadBytes, double RemoteFramesPerSec, double RawRemoteFramesPerSec, double Ratio, long Frames, double Seconds, int Sessions,
    int BatchSize, RemoteSinkRef.Result Remote, RemoteRaw.Result Raw, IReadOnlyList<double> RemoteRuns, IReadOnlyList<double> RawRuns)
{
    /// <summary>
    /// The same comparison by cost: CPU µs per frame of both processes on the raw path over those of the SinkRef path
    /// (client and node), which load from other processes on a shared machine barely moves.
    /// </summary>
    public double RatioByCpu => (Raw.CpuUsPerFrame + Raw.ReceiverCpuUsPerFrame) / (Remote.CpuUsPerFrame + Remote.ServerCpuUsPerFrame);

    /// <summary>The ratio is met, and by frames the node processed: none shed or rejected.</summary>
    public bool Met => Ratio >= RemoteReport.Target && Remote.Shed == 0 && Remote.Rejected == 0;
}
