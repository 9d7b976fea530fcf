using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace FusionActors.Host.Remote;

/// <summary>
/// A cluster node in a process of its own (this program's <c>node</c> command), for the failover scenario
/// and its test: real processes, real TCP on loopback, and a kill that is a kill (SIGKILL, no goodbye).
/// Its output goes to a log file; <see cref="WaitUpAsync"/> waits for its "node up" line.
/// </summary>
public sealed class NodeProcess : IDisposable
{
    private readonly Process _process;
    private readonly TaskCompletionSource _up = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly StreamWriter _log;

    private NodeProcess(int port, Process process, string logPath, StreamWriter log)
    {
        Port = port;
        _process = process;
        LogPath = logPath;
        _log = log;
    }

    public int Port { get; }

    public string LogPath { get; }

    public int Pid => _process.Id;

    public bool Exited => _process.HasExited;

    /// <summary>Starts <c>node --port P --seeds ...</c> with the repository's config/node.hocon plus <paramref name="extraHocon"/>.</summary>
    public static NodeProcess Start(int port, IReadOnlyList<int> seeds, string logDir, string? extraHocon = null)
    {
        Directory.CreateDirectory(logDir);
        var config = Path.Combine(logDir, $"node-{port}.hocon");
        File.WriteAllText(config, File.ReadAllText(RepoFile("config/node.hocon")) + "\n" + (extraHocon ?? ""));
        var hostDll = typeof(NodeProcess).Assembly.Location;
        var psi = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = RepoRoot(),
        };
        foreach (var a in new[] { hostDll, "node", "--config", config, "--port", port.ToString(), "--seeds", string.Join(",", seeds.Select(s => $"127.0.0.1:{s}")) })
            psi.ArgumentList.Add(a);
        psi.Environment["FUSION_CONSOLE_PORT"] = "0"; // several nodes on one machine: each console on a free port
        psi.Environment.Remove("FUSION_CONFIG");
        var logPath = Path.Combine(logDir, $"node-{port}.log");
        var log = new StreamWriter(logPath) { AutoFlush = true };
        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        var node = new NodeProcess(port, process, logPath, log);
        process.OutputDataReceived += (_, e) => node.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => node.OnLine(e.Data);
        process.Exited += (_, _) => node._up.TrySetException(new InvalidOperationException($"node {port} exited (code {process.ExitCode}); see {logPath}"));
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return node;
    }

    private void OnLine(string? line)
    {
        if (line is null) return;
        lock (_log) _log.WriteLine(line);
        if (line.StartsWith("node up at", StringComparison.Ordinal)) _up.TrySetResult();
    }

    public Task WaitUpAsync(TimeSpan timeout) => _up.Task.WaitAsync(timeout);

    /// <summary>SIGKILL: the node vanishes as in a power cut.</summary>
    public void Kill()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
    }

    /// <summary>SIGTERM (the node leaves the cluster gracefully), then a kill if it has not exited in time.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (_process.HasExited) return;
        if (OperatingSystem.IsWindows()) _process.Kill(entireProcessTree: true);
        else _ = SysKill(_process.Id, 15);
        try { await _process.WaitForExitAsync().WaitAsync(grace); }
        catch (TimeoutException) { Kill(); }
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
        lock (_log) _log.Dispose();
    }

    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    /// <summary>The dotnet host running this process (so the nodes run on the same runtime).</summary>
    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host
        : Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p
        : "dotnet";

    /// <summary>The repository root: the nearest folder up from here with config/node.hocon.</summary>
    public static string RepoRoot()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "config", "node.hocon"))) return dir.FullName;
        throw new DirectoryNotFoundException("config/node.hocon not found from the working directory or the program's folder up");
    }

    private static string RepoFile(string relative) => Path.Combine(RepoRoot(), relative);

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SysKill(int pid, int signal);
}
