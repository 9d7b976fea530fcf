using FusionActors.Scenarios.Remote;

namespace FusionActors.Bench;

/// <summary>
/// The receiving actor system of the raw reference (<see cref="RemoteRaw"/>) in a process of its own, like the node
/// of the SinkRef path: this program's <c>bench-remote --raw-peer</c>. It lives while its stdin is open, so it
/// does not outlive the bench even if the bench is killed.
/// </summary>
public sealed class RemotePeerProcess : IDisposable
{
    private readonly HostProcess _process;

    private RemotePeerProcess(int port, HostProcess process)
    {
        Port = port;
        _process = process;
    }

    public int Port { get; }

    public int Pid => _process.Pid;

    public static RemotePeerProcess Start(int port, int pairs, int ackEvery) => new(port, HostProcess.Start(
        ["bench-remote", "--raw-peer", "--port", port.ToString(), "--pairs", pairs.ToString(), "--ack-every", ackEvery.ToString()],
        RemoteRaw.PeerUpLine, keepStdinOpen: true));

    public Task WaitUpAsync(TimeSpan timeout) => _process.WaitUpAsync(timeout);

    public void Dispose()
    {
        _process.CloseInputAndWait(TimeSpan.FromSeconds(5));
        _process.Dispose();
    }
}
