using FusionActors.Scenarios.Remote;

namespace FusionActors.Soak;

/// <summary>
/// One node of the soak's cluster, supervised as systemd or Kubernetes would: the <c>node</c> command in a process of its
/// own, binding <see cref="BindPort"/> and advertising <see cref="PublicPort"/> (where its proxy listens), started again on
/// the same ports whenever it exits (killed, or downed by the cluster), but not while it is partitioned.
/// </summary>
public sealed class SoakNode(int index, int bindPort, int publicPort, string configPath, IReadOnlyList<string> seeds,
    string repoRoot, string logPath, Action<int, string> onLine)
{
    private readonly object _gate = new();
    private readonly StreamWriter _log = new(logPath, append: true) { AutoFlush = true };
    private HostProcess? _process;
    private int _starts;

    public int Index { get; } = index;

    public int BindPort { get; } = bindPort;

    /// <summary>The port of the node's canonical address: what every peer dials (the proxy).</summary>
    public int PublicPort { get; } = publicPort;

    public string Contact => $"127.0.0.1:{PublicPort}";

    public string LogPath { get; } = logPath;

    /// <summary>Starts after the first, each one a restart.</summary>
    public int Restarts => Math.Max(0, Volatile.Read(ref _starts) - 1);

    public volatile bool Paused;

    public volatile bool Partitioned;

    /// <summary>The current incarnation printed its "node up" line (it is Up in its own view of the cluster) and has not exited.</summary>
    public bool Up
    {
        get
        {
            lock (_gate) return _process is { Exited: false } && _upIncarnation == _starts;
        }
    }

    private int _upIncarnation;

    /// <summary>Whether any other node of the soak is up now (set by the runner): a restart that forms a cluster then is an island.</summary>
    public Func<bool>? OthersUp { get; set; }

    /// <summary>What a node's log line says about the cluster it joins.</summary>
    public enum Forming { Nothing, Island, Recovery }

    /// <summary>
    /// A restarted incarnation (<paramref name="incarnation"/> &gt; 1) that logs forming a new cluster is an island while
    /// another node is up, and the recovery of a cluster when none is (every node lost at once); the first start forms the
    /// cluster by design.
    /// </summary>
    public static Forming Formed(int incarnation, string line, bool othersUp) =>
        incarnation > 1 && line.Contains("is JOINING itself", StringComparison.Ordinal) && line.Contains("forming a new cluster", StringComparison.Ordinal)
            ? othersUp ? Forming.Island : Forming.Recovery
            : Forming.Nothing;

    private int _islands;

    /// <summary>Restarts that formed a cluster of their own instead of joining the running one.</summary>
    public int Islands => Volatile.Read(ref _islands);

    public bool Running
    {
        get
        {
            lock (_gate) return _process is { Exited: false };
        }
    }

    public int? Pid
    {
        get
        {
            lock (_gate) return _process?.Pid;
        }
    }

    /// <summary>Completes when the first incarnation printed its "node up" line.</summary>
    public Task FirstUp => _firstUp.Task;

    private readonly TaskCompletionSource _firstUp = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async Task SuperviseAsync(Action<string> say, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            var n = Interlocked.Increment(ref _starts);
            Write($"=== incarnation {n} at {DateTime.UtcNow:O} ===");
            // Every start, the first and each restart, has the same command line: the common seed list, whose first
            // seed forms the cluster at a cold start and, restarted, joins the others (seed-node-timeout outlasts the
            // gate on its just-failed address). One that forms a cluster of its own anyway is counted (an island).
            HostProcess? current = null;
            var quarantined = 0;
            var order = seeds;
            var process = HostProcess.Start(
                args: ["node", "--config", configPath, "--hostname", "127.0.0.1", "--port", BindPort.ToString(), "--seeds", string.Join(",", order)],
                workingDirectory: repoRoot, onLine: line =>
                {
                    Write(line);
                    onLine(Index, line);
                    switch (Formed(n, line, OthersUp?.Invoke() ?? true))
                    {
                        case Forming.Island:
                            // A restarted node that forms a cluster of its own while another node runs: an island, which
                            // clients may open sessions on. Counted, and killed as a watchdog would, so it starts again and joins.
                            Interlocked.Increment(ref _islands);
                            say($"node{Index} incarnation {n} formed a cluster of its own; killing it");
                            Volatile.Read(ref current)?.Kill();
                            break;
                        case Forming.Recovery:
                            // Every other node is down (all were lost at once): forming the cluster again is the recovery,
                            // and the others join it as they come up.
                            say($"node{Index} incarnation {n} formed a new cluster: no other node is up");
                            break;
                    }
                    if (line.Contains("has quarantined this system", StringComparison.Ordinal) && Interlocked.Exchange(ref quarantined, 1) == 0)
                        _ = ExitOrKillAsync(Volatile.Read(ref current), n, say);
                }, upPrefix: "node up at",
                // Each console on a free port; the config is the one given here.
                environment: new Dictionary<string, string?> { ["FUSION_CONSOLE_PORT"] = "0", ["FUSION_CONFIG"] = null });
            Volatile.Write(ref current, process);
            lock (_gate) _process = process;
            try
            {
                await process.WaitUpAsync(TimeSpan.FromSeconds(120));
                lock (_gate) _upIncarnation = n;
                _firstUp.TrySetResult();
                if (n > 1) say($"node{Index} up again (incarnation {n}, pid {process.Pid})");
            }
            catch (Exception e) when (e is TimeoutException or InvalidOperationException)
            {
                say($"node{Index} incarnation {n} did not come up: {e.Message}");
                process.Kill();
            }
            try { await process.Exit.WaitAsync(stop); }
            catch (OperationCanceledException) { break; }
            var code = process.Exit.Result;
            Write($"=== incarnation {n} exited with code {code} at {DateTime.UtcNow:O} ===");
            say($"node{Index} exited (code {code}); restarting it on 127.0.0.1:{BindPort} (canonical {Contact})");
            process.Dispose();
            // A node cut off from the others would form a cluster of its own: it starts again once the partition has healed.
            while (Partitioned && !stop.IsCancellationRequested) await Task.Delay(200, CancellationToken.None);
            // A port just released by a killed process: a short pause before binding it again.
            try { await Task.Delay(500, stop); }
            catch (OperationCanceledException) { break; }
        }
    }

    /// <summary>
    /// A peer quarantined this incarnation: the cluster will never take it back, and it should end (a downed node's
    /// actor system terminates, and the node exits with code 3). One still running 15 s later is counted and killed.
    /// </summary>
    private async Task ExitOrKillAsync(HostProcess? process, int incarnation, Action<string> say)
    {
        if (process is null) return;
        try
        {
            await process.Exit.WaitAsync(TimeSpan.FromSeconds(15));
        }
        catch (TimeoutException)
        {
            // A paused process cannot exit: the time it is paused does not count against it.
            while (Paused && !process.Exited) await Task.Delay(200);
            try { await process.Exit.WaitAsync(TimeSpan.FromSeconds(5)); }
            catch (TimeoutException)
            {
                Interlocked.Increment(ref _zombies);
                say($"node{Index} incarnation {incarnation} was quarantined by a peer and still runs 15 s later; killing it");
                process.Kill();
            }
        }
    }

    private int _zombies;

    /// <summary>Incarnations that went on running after a peer quarantined them (killed by the soak).</summary>
    public int Zombies => Volatile.Read(ref _zombies);

    public void Kill()
    {
        lock (_gate) _process?.Kill();
    }

    public void Pause(bool stop)
    {
        lock (_gate) _process?.Pause(stop);
    }

    /// <summary>SIGTERM (the node leaves the cluster), then SIGKILL after <paramref name="grace"/>.</summary>
    public Task StopAsync(TimeSpan grace)
    {
        HostProcess? p;
        lock (_gate) p = _process;
        return p?.StopAsync(grace) ?? Task.CompletedTask;
    }

    public void Close()
    {
        lock (_gate) _process?.Dispose();
        lock (_log) _log.Dispose();
    }

    private void Write(string line)
    {
        lock (_log)
        {
            try { _log.WriteLine(line); }
            catch (ObjectDisposedException) { }
        }
    }
}
