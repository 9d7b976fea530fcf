using System.Diagnostics;
using System.Runtime.InteropServices;

namespace FusionActors.Scenarios.Remote;

/// <summary>
/// The FusionActors.Host program run as a child process (<c>dotnet FusionActors.Host.dll COMMAND ...</c>) on the
/// same runtime: the cluster nodes of the failover scenario, its tests and the benchmarks, and bench-remote's raw
/// peer, the chaos soak's nodes and sensors. Its output lines go to a callback; it is up once it prints a line
/// starting with the given prefix; it can be killed (SIGKILL), paused (SIGSTOP/SIGCONT) or asked to stop (SIGTERM).
/// </summary>
public sealed class HostProcess : IDisposable
{
    private readonly Process _process;
    private readonly TaskCompletionSource _up = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<int> _exit = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Queue<string> _recent = new(); // the last lines, for the error when it exits before it is up
    private readonly string? _upPrefix;
    private readonly Action<string>? _onLine;

    private HostProcess(Process process, string? upPrefix, Action<string>? onLine)
    {
        _process = process;
        _upPrefix = upPrefix;
        _onLine = onLine;
    }

    public int Pid { get; private set; }

    /// <summary>Completes with the exit code once the process has exited and its output has been read.</summary>
    public Task<int> Exit => _exit.Task;

    public bool Exited => _exit.Task.IsCompleted;

    /// <param name="keepStdinOpen">
    /// Holds the child's stdin open: a child that reads it to the end lives only as long as this process.
    /// </param>
    /// <param name="upPrefix">The line that says the process is up; null when nothing waits for it.</param>
    public static HostProcess Start(IEnumerable<string> args, string? upPrefix, Action<string>? onLine = null,
        IReadOnlyDictionary<string, string?>? environment = null, string? workingDirectory = null, bool keepStdinOpen = false)
    {
        var psi = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardInput = keepStdinOpen,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (workingDirectory is not null) psi.WorkingDirectory = workingDirectory;
        psi.ArgumentList.Add(Program());
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (environment is not null)
            foreach (var (key, value) in environment)
                if (value is null) psi.Environment.Remove(key);
                else psi.Environment[key] = value;
        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        var child = new HostProcess(process, upPrefix, onLine);
        process.OutputDataReceived += (_, e) => child.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => child.OnLine(e.Data);
        process.Exited += (_, _) =>
        {
            process.WaitForExit(); // output still in the pipes is read before the exit is reported
            child._up.TrySetException(new InvalidOperationException(
                $"{psi.ArgumentList[1]} process exited (code {process.ExitCode}) before it was up: {string.Join(" | ", child.Recent())}"));
            child._exit.TrySetResult(process.ExitCode);
        };
        process.Start();
        child.Pid = process.Id;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    private void OnLine(string? line)
    {
        if (line is null) return;
        lock (_recent)
        {
            _recent.Enqueue(line);
            if (_recent.Count > 20) _recent.Dequeue();
        }
        _onLine?.Invoke(line);
        if (_upPrefix is not null && line.StartsWith(_upPrefix, StringComparison.Ordinal)) _up.TrySetResult();
    }

    private string[] Recent()
    {
        lock (_recent) return [.. _recent];
    }

    public Task WaitUpAsync(TimeSpan timeout) => _up.Task.WaitAsync(timeout);

    /// <summary>The process's exit code, once it has exited by itself; null while it runs, or if it does not within <paramref name="timeout"/>.</summary>
    public async Task<int?> WaitExitAsync(TimeSpan timeout)
    {
        try { await _process.WaitForExitAsync().WaitAsync(timeout); }
        catch (TimeoutException) { return null; }
        return _process.ExitCode;
    }

    /// <summary>SIGSTOP (true) or SIGCONT (false): the process freezes as in a long GC pause or a suspended VM, then goes on.</summary>
    public void Pause(bool stop)
    {
        if (!OperatingSystem.IsWindows() && !Exited) _ = SysKill(Pid, stop ? 19 : 18);
    }

    /// <summary>SIGKILL: the process vanishes as in a power cut.</summary>
    public void Kill()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // already gone
        }
    }

    /// <summary>SIGTERM (a node leaves its cluster gracefully), then a kill if it has not exited in time.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (_process.HasExited) return;
        if (OperatingSystem.IsWindows()) Kill();
        else
        {
            _ = SysKill(Pid, 18); // a paused process cannot act on SIGTERM
            _ = SysKill(Pid, 15);
        }
        try { await _process.WaitForExitAsync().WaitAsync(grace); }
        catch (TimeoutException) { Kill(); }
    }

    /// <summary>Closes the child's stdin (see <c>keepStdinOpen</c>) and waits for it to exit, then kills it if it has not.</summary>
    public void CloseInputAndWait(TimeSpan grace)
    {
        try
        {
            if (_process.HasExited) return;
            _process.StandardInput.Close();
            if (!_process.WaitForExit(grace)) Kill();
        }
        catch (InvalidOperationException) { } // already gone
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }

    /// <summary>The program's file name.</summary>
    public const string ProgramFile = "FusionActors.Host.dll";

    /// <summary>
    /// Where the program is: this process itself when it is the program; else a copy in the <c>host</c> folder
    /// next to this process's assemblies (where the test projects put it), or one right next to them.
    /// </summary>
    public static string Program()
    {
        if (System.Reflection.Assembly.GetEntryAssembly() is { } entry && Path.GetFileName(entry.Location) == ProgramFile) return entry.Location;
        foreach (var candidate in new[] { Path.Combine(AppContext.BaseDirectory, "host", ProgramFile), Path.Combine(AppContext.BaseDirectory, ProgramFile) })
            if (File.Exists(candidate)) return candidate;
        throw new FileNotFoundException($"{ProgramFile} is neither this process nor in {AppContext.BaseDirectory}host (build src/FusionActors.Host)");
    }

    /// <summary>The dotnet host running this process (so the children run on the same runtime).</summary>
    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host
        : Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p
        : "dotnet";

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SysKill(int pid, int signal);
}
