using FusionActors.Scenarios.Remote;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using FusionActors.Client;

namespace FusionActors.Soak;

/// <summary>
/// The chaos soak. Three node processes on loopback, each behind a <see cref="LoopbackProxy"/> at its canonical address;
/// eight lanes of <c>push</c> processes, each lane one AV-Digits session in real time after another until the soak's time
/// is up; and faults on a seeded schedule, one at a time, each only once the cluster has all three members up and
/// reachable: a SIGKILL of a node hosting a session every 30 s (the node is started again on its ports), and between the
/// kills SIGSTOP of such a node for 3, 6 or 12 s, or its partition from every peer for 10 s.
/// </summary>
public static partial class SoakRunner
{
    public sealed record Options
    {
        public double Minutes { get; init; } = 10;

        public int Seed { get; init; } = 1;

        public int Sessions { get; init; } = 8;

        /// <summary>One more lane, played by the soak itself through the client library (<see cref="Probe"/>).</summary>
        public bool Probe { get; init; } = true;

        /// <summary>The longest push round; a lane's last round ends with the soak.</summary>
        public int MaxRoundSeconds { get; init; } = 120;

        /// <summary>Faults are this far apart (kills every other slot).</summary>
        public TimeSpan FaultEvery { get; init; } = TimeSpan.FromSeconds(15);

        public string LogDir { get; init; } = Path.Combine(RepoRoot(), "artifacts", "soak");

        public Action<string>? Progress { get; init; }
    }

    private const int MinRoundSeconds = 15;

    /// <summary>AV-Digits frames a second: 50 audio frames of 20 ms and 10 camera frames.</summary>
    private const int FramesPerSecond = 60;

    [System.Text.RegularExpressions.GeneratedRegex(@"(\d+) uncommitted entries")]
    private static partial System.Text.RegularExpressions.Regex UncommittedEntries();

    /// <summary>How long the cluster may take to have all three members up and reachable again before a fault.</summary>
    private static readonly TimeSpan HealthyWithin = TimeSpan.FromSeconds(60);

    public static async Task<SoakReport> RunAsync(Options o, CancellationToken cancel = default)
    {
        var clock = Stopwatch.StartNew();
        var started = DateTime.UtcNow;
        void Say(string line) => o.Progress?.Invoke($"[{clock.Elapsed.TotalSeconds,6:0.0}s] {line}");
        Directory.CreateDirectory(o.LogDir);
        var repo = RepoRoot();
        _ = HostProcess.Program(); // fails at once, with where it looked, when the Host program is not built

        var ports = FreePorts(6);
        var bind = ports[..3];
        var pub = ports[3..];
        var seeds = pub.Select(p => $"127.0.0.1:{p}").ToArray();
        var tracker = new SessionTracker();
        var partitions = new PartitionTable();
        int? NodeOfPort(int port) => Array.IndexOf(pub, port) is var i and >= 0 ? i : null;
        var proxies = new List<LoopbackProxy>();
        var nodes = new List<SoakNode>();
        for (var i = 0; i < 3; i++)
        {
            proxies.Add(new LoopbackProxy(i, pub[i], bind[i], NodeOfPort, partitions));
            var config = Path.Combine(o.LogDir, $"node{i}.hocon");
            // The node binds its own port and advertises the proxy's: peers and clients dial the canonical address.
            await File.WriteAllTextAsync(config, await File.ReadAllTextAsync(Path.Combine(repo, "config", "node.hocon"), cancel) +
                $"\nakka.remote.dot-netty.tcp {{\n  public-hostname = \"127.0.0.1\"\n  public-port = {pub[i]}\n}}\n", cancel);
            nodes.Add(new SoakNode(i, bind[i], pub[i], config, seeds, repo, Path.Combine(o.LogDir, $"node{i}.log"), tracker.OnLine));
        }
        // A restart that forms a cluster while another node is up is an island; with every other node down, the recovery.
        foreach (var node in nodes) node.OthersUp = () => nodes.Any(other => other != node && other.Up);
        Say($"nodes bind 127.0.0.1:{string.Join(",", bind)}, reached through proxies at {string.Join(",", seeds)}; logs in {o.LogDir}");

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        var supervisors = nodes.Select(n => Task.Run(() => n.SuperviseAsync(Say, stop.Token), CancellationToken.None)).ToArray();
        var faults = new List<FaultRecord>();
        var rounds = new List<PushRound>();
        var notes = new List<string>();
        var active = new HashSet<string>();
        int skipped = 0, forcedRestarts = 0;
        FusionClient? members = null, probeClient = null;
        try
        {
            await Task.WhenAll(nodes.Select(n => n.FirstUp)).WaitAsync(TimeSpan.FromSeconds(180), cancel);
            members = await FusionClient.ConnectAsync(new FusionClientOptions { Contacts = seeds, RequestTimeout = TimeSpan.FromSeconds(5) });
            if (!await WaitHealthyAsync(members, nodes, TimeSpan.FromSeconds(120), cancel))
                throw new TimeoutException("the three nodes did not form a cluster within 120 s");
            Say("3 nodes up and reachable");
            if (o.Probe) probeClient = await FusionClient.ConnectAsync(new FusionClientOptions { Contacts = seeds });

            var t0 = clock.Elapsed;
            var deadline = t0 + TimeSpan.FromMinutes(o.Minutes);
            var lanes = Enumerable.Range(0, o.Sessions + (o.Probe ? 1 : 0)).Select(lane => Task.Run(async () =>
            {
                await Task.Delay(TimeSpan.FromSeconds(lane * 1.5), cancel);
                for (var round = 0; ; round++)
                {
                    var left = (deadline - clock.Elapsed).TotalSeconds;
                    if (left < MinRoundSeconds) return;
                    var seconds = (int)Math.Min(o.MaxRoundSeconds, left);
                    var probe = lane == o.Sessions;
                    var id = probe ? $"soak-probe-{round}" : $"soak-{lane}-{round}";
                    lock (active) active.Add(id);
                    var at = Math.Round((clock.Elapsed - t0).TotalSeconds, 1);
                    var result = (probe
                        ? await Probe.RunAsync(probeClient!, id, lane, seconds, () => (clock.Elapsed - t0).TotalSeconds, cancel)
                        : await PushAsync(repo, o.LogDir, seeds, id, lane, seconds, cancel)) with { StartedAtSeconds = at };
                    lock (active) active.Remove(id);
                    if (tracker.Forget(id) is { } unresumed) lock (notes) notes.Add($"{id} did not reopen after {unresumed.Fault} (it had no need to, or its round ended first)");
                    lock (rounds) rounds.Add(result);
                    Say($"{id}: {result.FramesCommitted}/{result.FramesSent} frames committed, {result.WindowsFused}/{result.WindowsExpected} windows, " +
                        $"reopened {result.Resumes}x{(result.Problem is { } p ? $"; {p}" : "")}");
                    if (result is { Reported: false, FramesSent: 0 } && result.Problem?.Contains("did not open", StringComparison.Ordinal) == true)
                        await Task.Delay(TimeSpan.FromSeconds(2), cancel); // the next round tries again
                }
            }, cancel)).ToArray();

            var rng = new Random(o.Seed);
            var schedule = Schedule(o.Seed).GetEnumerator();
            for (var slot = 1; ; slot++)
            {
                var due = t0 + slot * o.FaultEvery;
                if (due > deadline - TimeSpan.FromSeconds(20)) break;
                var wait = due - clock.Elapsed;
                if (wait > TimeSpan.Zero) await Task.Delay(wait, cancel);
                if (!await WaitHealthyAsync(members, nodes, HealthyWithin, cancel))
                {
                    // A node that lingers outside the cluster (downed but not exited) is what a supervisor would restart;
                    // only a view with a majority of the members decides which.
                    var m = await MembershipAsync(members, cancel);
                    foreach (var n in nodes.Where(n => n.Up && !n.Paused && !n.Partitioned && m is { Up.Count: >= 2 } && !m.Up.Contains(n.PublicPort)))
                    {
                        Say($"node{n.Index} is running but not a member: killing it, so it starts again");
                        forcedRestarts++;
                        n.Kill();
                    }
                    if (!await WaitHealthyAsync(members, nodes, HealthyWithin, cancel))
                    {
                        skipped++;
                        Say($"slot {slot}: the cluster is not whole; no fault this slot");
                        continue;
                    }
                }
                if (clock.Elapsed > deadline - TimeSpan.FromSeconds(20)) break;
                schedule.MoveNext();
                var kind = schedule.Current;
                string[] running;
                lock (active) running = [.. active.Order(StringComparer.Ordinal)];
                var hosted = running.Select(s => (Session: s, Node: tracker.HostOf(s))).Where(x => x.Node is not null).ToArray();
                var victim = hosted.Length > 0 ? nodes[hosted[rng.Next(hosted.Length)].Node!.Value] : nodes[rng.Next(nodes.Count)];
                var affected = hosted.Where(x => x.Node == victim.Index).Select(x => x.Session).ToArray();
                var at = DateTime.UtcNow;
                tracker.Expect(affected, at, kind.Name());
                faults.Add(new FaultRecord(Math.Round((clock.Elapsed - t0).TotalSeconds, 1), kind.Name(), victim.Index, affected));
                Say($"fault {faults.Count}: {kind.Name()} node{victim.Index} (pid {victim.Pid}), hosting {(affected.Length == 0 ? "no session" : string.Join(", ", affected))}");
                switch (kind)
                {
                    case FaultKind.Kill:
                        victim.Kill();
                        break;
                    case FaultKind.Pause3 or FaultKind.Pause6 or FaultKind.Pause12:
                        victim.Paused = true;
                        victim.Pause(stop: true);
                        await Task.Delay(kind.Duration(), cancel); // the fault's length
                        victim.Pause(stop: false);
                        victim.Paused = false;
                        Say($"node{victim.Index} continued (SIGCONT)");
                        break;
                    case FaultKind.Partition10:
                        victim.Partitioned = true;
                        partitions.Cut(victim.Index);
                        await Task.Delay(kind.Duration(), cancel); // the fault's length
                        partitions.Heal(victim.Index);
                        victim.Partitioned = false;
                        Say($"node{victim.Index} partition healed");
                        break;
                }
            }
            Say($"faults done ({faults.Count}); waiting for the last push rounds");
            await Task.WhenAll(lanes);
        }
        finally
        {
            if (members is not null) await members.DisposeAsync();
            if (probeClient is not null) await probeClient.DisposeAsync();
            await stop.CancelAsync();
            // The soak is over: a short grace to leave the cluster, then SIGKILL.
            await Task.WhenAll(nodes.Select(n => n.StopAsync(TimeSpan.FromSeconds(5))));
            await Task.WhenAll(supervisors).WaitAsync(TimeSpan.FromSeconds(30), CancellationToken.None).ContinueWith(_ => { }, TaskScheduler.Default);
            foreach (var n in nodes) n.Close();
            foreach (var p in proxies) await p.DisposeAsync();
        }

        var report = SoakReport.Build(o, started, clock.Elapsed, rounds, faults, tracker.Samples(), nodes.Sum(n => n.Restarts), forcedRestarts, nodes.Sum(n => n.Islands), nodes.Sum(n => n.Zombies), skipped, notes);
        Say(report.Passed ? "passed" : $"FAILED: {string.Join("; ", report.Failures)}");
        return report;
    }

    /// <summary>
    /// The faults in order, one per slot: a kill every other slot, and between the kills the pauses and the partition, each
    /// kind once in every four, in an order drawn from <paramref name="seed"/>.
    /// </summary>
    public static IEnumerable<FaultKind> Schedule(int seed)
    {
        var rng = new Random(unchecked(seed * 7919 + 17));
        while (true)
            foreach (var k in new[] { FaultKind.Pause3, FaultKind.Pause6, FaultKind.Pause12, FaultKind.Partition10 }.OrderBy(_ => rng.Next()).ToArray())
            {
                yield return k;
                yield return FaultKind.Kill;
            }
    }

    private static async Task<PushRound> PushAsync(string repo, string logDir, string[] contacts, string id, int lane, int seconds,
        CancellationToken cancel)
    {
        var reportPath = Path.Combine(logDir, $"push-{id}.json");
        var logPath = Path.Combine(logDir, $"push-{id}.log");
        await using var log = new StreamWriter(logPath) { AutoFlush = true };
        var tail = new Queue<string>();
        using var process = HostProcess.Start(
            args: ["push", "--to", string.Join(",", contacts), "--session", id, "--seconds", seconds.ToString(), "--report", reportPath, "--quiet"],
            upPrefix: null, workingDirectory: repo, onLine: line =>
            {
                lock (log)
                {
                    log.WriteLine(line);
                    tail.Enqueue(line);
                    if (tail.Count > 5) tail.Dequeue();
                }
            });
        int? code;
        try
        {
            // Playing takes the round's seconds; push itself gives up on commits after 60 s more.
            code = await process.Exit.WaitAsync(TimeSpan.FromSeconds(seconds + 180), cancel);
        }
        catch (TimeoutException)
        {
            process.Kill();
            code = null;
        }
        if (File.Exists(reportPath)) return PushRound.FromReport(id, lane, seconds, code, reportPath);
        string last;
        lock (log) last = string.Join(" | ", tail);
        // No report: push gave up (its commit wait timed out) or crashed. What it still held is taken from its log (the
        // client library's last "N uncommitted entries"), and counted as lost: the sensor process is gone, and its frames with it.
        long held = 0, resumes = 0;
        var opened = false;
        lock (log) log.Flush();
        foreach (var line in File.ReadLines(logPath))
        {
            if (UncommittedEntries().Match(line) is { Success: true } m) held = long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            if (line.Contains(" resumed on ", StringComparison.Ordinal)) resumes++;
            if (line.Contains("did not open within", StringComparison.Ordinal) && !opened)
                return new PushRound(id, lane, seconds, code, false, 0, 0, 0, 0, 0, 0, 0, 0, $"did not open: {line}");
            if (line.Contains("Session " + id, StringComparison.Ordinal)) opened = true;
        }
        var sent = (long)seconds * FramesPerSecond;
        return new PushRound(id, lane, seconds, code, false, sent, Math.Max(0, sent - held), seconds, 0, 0, 0, (int)resumes, 0,
            (code is null ? $"push did not finish within {seconds + 180} s" : $"push exited with code {code} without a report ({last})") +
            $"; {held} entries uncommitted per its log {logPath}");
    }

    private sealed record Membership(HashSet<int> Up, HashSet<int> Unreachable);

    /// <summary>The ports of the members up and of those unreachable, as a node sees them; null when no node answered.</summary>
    private static async Task<Membership?> MembershipAsync(FusionClient client, CancellationToken cancel)
    {
        static HashSet<int> Ports(IEnumerable<string> addresses) =>
            [.. addresses.Select(a => int.TryParse(a.TrimEnd('/')[(a.TrimEnd('/').LastIndexOf(':') + 1)..], out var p) ? p : -1)];
        try
        {
            var m = await client.MembersAsync(cancel);
            return new Membership(Ports(m.Up), Ports(m.Unreachable));
        }
        catch (FusionSessionException)
        {
            return null;
        }
    }

    /// <summary>
    /// Polls until the cluster is whole: every node's current incarnation is up (its "node up" line), none is paused or
    /// partitioned, and the membership lists all three Up and none unreachable, on two polls in a row a second apart (a
    /// restarted node's old incarnation can still be listed for a moment).
    /// </summary>
    private static async Task<bool> WaitHealthyAsync(FusionClient client, IReadOnlyList<SoakNode> nodes, TimeSpan within, CancellationToken cancel)
    {
        var deadline = DateTime.UtcNow + within;
        var streak = 0;
        while (DateTime.UtcNow < deadline)
        {
            var whole = nodes.All(n => n.Up && !n.Paused && !n.Partitioned) && await MembershipAsync(client, cancel) is { Unreachable.Count: 0 } m
                && nodes.All(n => m.Up.Contains(n.PublicPort));
            streak = whole ? streak + 1 : 0;
            if (streak >= 2) return true;
            await Task.Delay(whole ? 1000 : 500, cancel);
        }
        return false;
    }

    private static int[] FreePorts(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToArray();
        foreach (var l in listeners) l.Start();
        var ports = listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        foreach (var l in listeners) l.Stop();
        return ports;
    }

    /// <summary>The repository root: the nearest folder up from the working directory or the program with config/node.hocon.</summary>
    public static string RepoRoot()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "config", "node.hocon"))) return dir.FullName;
        throw new DirectoryNotFoundException("config/node.hocon not found from the working directory or the program's folder up");
    }
}

public enum FaultKind
{
    Kill,
    Pause3,
    Pause6,
    Pause12,
    Partition10,
}

public static class FaultKinds
{
    public static string Name(this FaultKind k) => k switch
    {
        FaultKind.Kill => "kill",
        FaultKind.Pause3 => "sigstop-3s",
        FaultKind.Pause6 => "sigstop-6s",
        FaultKind.Pause12 => "sigstop-12s",
        _ => "partition-10s",
    };

    public static TimeSpan Duration(this FaultKind k) => k switch
    {
        FaultKind.Pause3 => TimeSpan.FromSeconds(3),
        FaultKind.Pause6 => TimeSpan.FromSeconds(6),
        FaultKind.Pause12 => TimeSpan.FromSeconds(12),
        FaultKind.Partition10 => TimeSpan.FromSeconds(10),
        _ => TimeSpan.Zero,
    };
}

/// <param name="AtSeconds">Since the push lanes started.</param>
/// <param name="Sessions">Sessions the node hosted when the fault began.</param>
public sealed record FaultRecord(double AtSeconds, string Kind, int Node, string[] Sessions);
