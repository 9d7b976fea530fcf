using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace FusionActors.Fusionctl.Tests;

/// <summary>
/// A TLS server on loopback that is not a node: it serves <paramref name="pfxPath"/>'s certificate and records
/// the decrypted bytes a client sends after the handshake (where a hello with its token would be). A client that
/// gets through the handshake is welcomed with no palettes, so fusionctl's 'help' succeeds against it.
/// </summary>
public sealed class ImpostorConsole : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly X509Certificate2 _certificate;
    private readonly List<Task> _connections = [];
    private readonly StringBuilder _received = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private int _handshakes;
    private int _failedHandshakes;

    public ImpostorConsole(string pfxPath, string password)
    {
        _certificate = X509CertificateLoader.LoadPkcs12FromFile(pfxPath, password);
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Once every connection so far has ended: handshakes completed and failed, and what clients sent after one.</summary>
    public async Task<(int Handshakes, int FailedHandshakes, string Received)> ServedAsync()
    {
        Task[] connections;
        lock (_connections) connections = [.. _connections];
        await Task.WhenAll(connections).WaitAsync(ConsoleNode.Wait);
        lock (_received) return (Volatile.Read(ref _handshakes), Volatile.Read(ref _failedHandshakes), _received.ToString());
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException) { return; }
            lock (_connections) _connections.Add(ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using var _ = client;
        await using var ssl = new SslStream(client.GetStream());
        try
        {
            await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
            {
                ServerCertificate = _certificate,
                EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            }, _stop.Token);
        }
        catch (Exception e) when (e is AuthenticationException or IOException or OperationCanceledException)
        {
            Interlocked.Increment(ref _failedHandshakes);
            return;
        }
        Interlocked.Increment(ref _handshakes);
        var buffer = new byte[4096];
        var welcomed = false;
        try
        {
            while (await ssl.ReadAsync(buffer, _stop.Token) is var n and > 0)
            {
                lock (_received) _received.Append(Encoding.UTF8.GetString(buffer, 0, n));
                if (welcomed) continue;
                welcomed = true;
                await ssl.WriteAsync("{\"type\":\"welcome\",\"node\":\"impostor\",\"palettes\":[]}\n"u8.ToArray(), _stop.Token);
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException) { /* the client went away */ }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        await _accepting;
        try { await Task.WhenAll(_connections).WaitAsync(ConsoleNode.Wait); } catch (Exception) { /* stopping */ }
        _certificate.Dispose();
        _stop.Dispose();
    }
}
