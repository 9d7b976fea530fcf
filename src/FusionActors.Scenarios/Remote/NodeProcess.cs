using System.Net;
using System.Net.Sockets;

namespace FusionActors.Scenarios.Remote;

/// <summary>
/// A cluster node in a process of its own (the FusionActors.Host program's <c>node</c> command), for the failover scenario
/// and its test: real processes, real TCP on loopback, and a kill that is a kill (SIGKILL, no goodbye).
/// Its output goes to a log file; <see cref="WaitUpAsync"/> waits for its "node up" line.
/// </summary>
public sealed class NodeProcess : IDisposable
{
    private readonly HostProcess _process;
    private readonly StreamWriter _log;

    private NodeProcess(int port, HostProcess process, string logPath, StreamWriter log)
    {
        Port = port;
        _process = process;
        LogPath = logPath;
        _log = log;
    }

    public int Port { get; }

    public string LogPath { get; }

    public int Pid => _process.Pid;

    public bool Exited => _process.Exited;

    /// <summary>Starts <c>node --port P --seeds ...</c> with the repository's config/node.hocon plus <paramref name="extraHocon"/>.</summary>
    public static NodeProcess Start(int port, IReadOnlyList<int> seeds, string logDir, string? extraHocon = null)
    {
        Directory.CreateDirectory(logDir);
        var config = Path.Combine(logDir, $"node-{port}.hocon");
        File.WriteAllText(config, File.ReadAllText(RepoFile("config/node.hocon")) + "\n" + (extraHocon ?? ""));
        var logPath = Path.Combine(logDir, $"node-{port}.log");
        var log = new StreamWriter(logPath) { AutoFlush = true };
        var process = HostProcess.Start(
            ["node", "--config", config, "--port", port.ToString(), "--seeds", string.Join(",", seeds.Select(s => $"127.0.0.1:{s}"))],
            "node up at",
            line => { lock (log) log.WriteLine(line); },
            // Several nodes on one machine: each console on a free port; the config is the one given here.
            new Dictionary<string, string?> { ["FUSION_CONSOLE_PORT"] = "0", ["FUSION_CONFIG"] = null },
            RepoRoot());
        return new NodeProcess(port, process, logPath, log);
    }

    public Task WaitUpAsync(TimeSpan timeout) => _process.WaitUpAsync(timeout);

    /// <inheritdoc cref="HostProcess.WaitExitAsync"/>
    public Task<int?> WaitExitAsync(TimeSpan timeout) => _process.WaitExitAsync(timeout);

    /// <inheritdoc cref="HostProcess.Pause"/>
    public void Pause(bool stop) => _process.Pause(stop);

    /// <summary>SIGKILL: the node vanishes as in a power cut.</summary>
    public void Kill() => _process.Kill();

    /// <summary>SIGTERM (the node leaves the cluster gracefully), then a kill if it has not exited in time.</summary>
    public Task StopAsync(TimeSpan grace) => _process.StopAsync(grace);

    public void Dispose()
    {
        _process.Dispose();
        lock (_log) _log.Dispose();
    }

    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    /// <summary>The repository root: the nearest folder up from here with config/node.hocon.</summary>
    public static string RepoRoot()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "config", "node.hocon"))) return dir.FullName;
        throw new DirectoryNotFoundException("config/node.hocon not found from the working directory or the program's folder up");
    }

    private static string RepoFile(string relative) => Path.Combine(RepoRoot(), relative);
}
