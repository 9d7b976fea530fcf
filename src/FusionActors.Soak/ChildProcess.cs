using System.Diagnostics;
using System.Runtime.InteropServices;

namespace FusionActors.Soak;

/// <summary>
/// A process of the Host program (<c>dotnet FusionActors.Host.dll COMMAND ...</c>): its output lines go to a callback, it is up
/// once it prints a line starting with a given prefix, and it can be killed (SIGKILL), paused (SIGSTOP/SIGCONT) or asked to stop (SIGTERM).
/// </summary>
public sealed class ChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly TaskCompletionSource _up = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<int> _exit = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly string? _upPrefix;
    private readonly Action<string> _onLine;

    private ChildProcess(Process process, string? upPrefix, Action<string> onLine)
    {
        _process = process;
        _upPrefix = upPrefix;
        _onLine = onLine;
    }

    public int Pid { get; private set; }

    /// <summary>Completes with the exit code when the process has exited.</summary>
    public Task<int> Exit => _exit.Task;

    public bool Exited => _exit.Task.IsCompleted;

    public static ChildProcess Start(string hostDll, IEnumerable<string> args, string workingDirectory, Action<string> onLine,
        string? upPrefix = null, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var psi = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        psi.ArgumentList.Add(hostDll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (environment is not null)
            foreach (var (key, value) in environment)
                if (value is null) psi.Environment.Remove(key);
                else psi.Environment[key] = value;
        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        var child = new ChildProcess(process, upPrefix, onLine);
        process.OutputDataReceived += (_, e) => child.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => child.OnLine(e.Data);
        process.Exited += (_, _) =>
        {
            // Output still in the pipes is read before the exit is reported.
            process.WaitForExit();
            var code = process.ExitCode;
            child._up.TrySetException(new InvalidOperationException($"process exited (code {code}) before it was up"));
            child._exit.TrySetResult(code);
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
        _onLine(line);
        if (_upPrefix is not null && line.StartsWith(_upPrefix, StringComparison.Ordinal)) _up.TrySetResult();
    }

    public Task WaitUpAsync(TimeSpan timeout) => _up.Task.WaitAsync(timeout);

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

    /// <summary>SIGSTOP (true) or SIGCONT (false): the process freezes as in a long GC pause or a suspended VM, then goes on.</summary>
    public void Pause(bool stop)
    {
        if (!OperatingSystem.IsWindows() && !Exited) _ = SysKill(Pid, stop ? 19 : 18);
    }

    /// <summary>SIGTERM (a node leaves its cluster gracefully), then SIGKILL if it has not exited within <paramref name="grace"/>.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (Exited) return;
        if (OperatingSystem.IsWindows()) Kill();
        else
        {
            _ = SysKill(Pid, 18); // a paused process cannot act on SIGTERM
            _ = SysKill(Pid, 15);
        }
        try { await _exit.Task.WaitAsync(grace); }
        catch (TimeoutException) { Kill(); }
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }

    /// <summary>The dotnet host running this process, so the children run on the same runtime.</summary>
    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host
        : Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p
        : "dotnet";

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SysKill(int pid, int signal);
}
