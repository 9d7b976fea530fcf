using System.Diagnostics;

namespace FusionActors.Host.Bench;

/// <summary>
/// The receiving actor system of the raw reference (<see cref="RemoteRaw"/>) in a process of its own, like the node
/// of the SinkRef path: this program's <c>bench-remote --raw-peer</c>. It lives while its stdin is open, so it
/// does not outlive the bench even if the bench is killed.
/// </summary>
public sealed class RemotePeerProcess : IDisposable
{
    private readonly Process _process;
    private readonly TaskCompletionSource _up = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<string> _output = [];

    private RemotePeerProcess(int port, Process process)
    {
        Port = port;
        _process = process;
    }

    public int Port { get; }

    public int Pid => _process.Id;

    public static RemotePeerProcess Start(int port, int pairs, int ackEvery)
    {
        var psi = new ProcessStartInfo(Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { typeof(RemotePeerProcess).Assembly.Location, "bench-remote", "--raw-peer", "--port", port.ToString(),
                     "--pairs", pairs.ToString(), "--ack-every", ackEvery.ToString() })
            psi.ArgumentList.Add(a);
        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        var peer = new RemotePeerProcess(port, process);
        process.OutputDataReceived += (_, e) => peer.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => peer.OnLine(e.Data);
        process.Exited += (_, _) => peer._up.TrySetException(new InvalidOperationException(
            $"raw peer exited (code {process.ExitCode}): {string.Join(" | ", peer.Output())}"));
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return peer;
    }

    private void OnLine(string? line)
    {
        if (line is null) return;
        lock (_output) _output.Add(line);
        if (line.StartsWith(RemoteRaw.PeerUpLine, StringComparison.Ordinal)) _up.TrySetResult();
    }

    private string[] Output()
    {
        lock (_output) return _output.TakeLast(20).ToArray();
    }

    public Task WaitUpAsync(TimeSpan timeout) => _up.Task.WaitAsync(timeout);

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.StandardInput.Close();
                if (!_process.WaitForExit(TimeSpan.FromSeconds(5))) _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException) { } // already gone
        _process.Dispose();
    }
}
