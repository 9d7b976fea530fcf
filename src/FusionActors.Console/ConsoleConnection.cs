using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Threading.Channels;
using FusionActors.OperatorConsole.Protocol;

namespace FusionActors.Fusionctl;

/// <summary>
/// How fusionctl secures a connection: TLS 1.2/1.3, the node's certificate chain validated against
/// <paramref name="TrustedRoots"/> only (X509ChainTrustMode.CustomRootTrust: a private CA or a self-signed
/// certificate) or, when null, against the system's CAs; and its subject alternative names checked against the
/// host fusionctl connects to, unless <paramref name="SkipNameCheck"/> (dev only).
/// </summary>
public sealed record ConsoleTls(X509Certificate2Collection? TrustedRoots, bool SkipNameCheck);

/// <summary>
/// fusionctl's side of a console connection: over TLS, the handshake and the validation of the node's certificate
/// first; then Hello (the token)/Welcome, then one invocation at a time.
/// </summary>
public sealed class ConsoleConnection : IAsyncDisposable
{
    private readonly TcpClient _client;
    private readonly Stream _stream;
    private readonly StreamWriter _writer;
    private readonly Channel<ConsoleFrame> _incoming = Channel.CreateUnbounded<ConsoleFrame>();
    private readonly Task _reading;
    private int _nextId;

    private ConsoleConnection(TcpClient client, Stream stream, Welcome welcome, LineReader reader, StreamWriter writer)
    {
        _client = client;
        _stream = stream;
        _writer = writer;
        Welcome = welcome;
        _reading = ReadLoop(reader);
    }

    public Welcome Welcome { get; }

    public sealed class RefusedException(string message) : Exception(message);

    /// <summary>The node's TLS certificate was not accepted; the connection was closed before anything else was sent.</summary>
    public sealed class CertificateRejectedException(string message) : Exception(message);

    /// <summary>
    /// Connects, over TLS when <paramref name="tls"/> is set, and says hello. Throws <see cref="RefusedException"/>
    /// when the node refuses, <see cref="CertificateRejectedException"/> when its certificate is not accepted,
    /// SocketException when unreachable or too slow, IOException when the TLS handshake fails otherwise.
    /// </summary>
    public static async Task<ConsoleConnection> ConnectAsync(string host, int port, string? token, ConsoleTls? tls, TimeSpan timeout, CancellationToken cancel)
    {
        var client = new TcpClient { NoDelay = true };
        Stream? stream = null;
        try
        {
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            wait.CancelAfter(timeout);
            try
            {
                await client.ConnectAsync(host, port, wait.Token);
                stream = client.GetStream();
                // The token goes into the hello, and the hello only into a stream whose peer has proved its certificate.
                if (tls is not null) stream = await AuthenticateAsync(stream, host, tls, wait.Token);
                var reader = new LineReader(stream, ConsoleFrame.MaxLineChars);
                var writer = new StreamWriter(stream, ConsoleFrame.Encoding, 4096, leaveOpen: true) { NewLine = "\n" };
                await writer.WriteLineAsync(new Hello(token).ToLine());
                await writer.FlushAsync(wait.Token);
                var answer = await ConsoleFrame.ReadAsync(reader, wait.Token);
                return answer switch
                {
                    Welcome w => new ConsoleConnection(client, stream, w, reader, writer),
                    Refused r => throw new RefusedException(r.Reason),
                    null => throw new RefusedException(tls is null
                        ? "the node closed the connection (a console served over TLS needs --tls)"
                        : "the node closed the connection"),
                    _ => throw new RefusedException($"unexpected answer '{answer.GetType().Name}'"),
                };
            }
            catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
            {
                throw new SocketException((int)SocketError.TimedOut);
            }
        }
        catch
        {
            stream?.Dispose();
            client.Dispose();
            throw;
        }
    }

    private static async Task<SslStream> AuthenticateAsync(Stream network, string host, ConsoleTls tls, CancellationToken cancel)
    {
        string? rejection = null;
        var options = new SslClientAuthenticationOptions
        {
            TargetHost = host,
            EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            RemoteCertificateValidationCallback = (_, certificate, chain, errors) =>
            {
                if (tls.SkipNameCheck) errors &= ~SslPolicyErrors.RemoteCertificateNameMismatch;
                if (errors == SslPolicyErrors.None) return true;
                rejection = Describe(errors, certificate as X509Certificate2, chain, host, tls);
                return false;
            },
        };
        if (tls.TrustedRoots is not null)
        {
            // SslStream builds and validates the chain with this policy: only these roots are trusted, not the system's.
            var policy = new X509ChainPolicy
            {
                TrustMode = X509ChainTrustMode.CustomRootTrust,
                RevocationMode = X509RevocationMode.NoCheck,
                VerificationFlags = X509VerificationFlags.NoFlag,
            };
            policy.CustomTrustStore.AddRange(tls.TrustedRoots);
            options.CertificateChainPolicy = policy;
        }
        var ssl = new SslStream(network, leaveInnerStreamOpen: false);
        try
        {
            await ssl.AuthenticateAsClientAsync(options, cancel);
            return ssl;
        }
        catch (AuthenticationException e)
        {
            await ssl.DisposeAsync();
            if (rejection is not null) throw new CertificateRejectedException(rejection);
            throw new IOException($"the TLS handshake failed: {e.InnerException?.Message ?? e.Message} (is the console served over TLS?)", e);
        }
        catch
        {
            await ssl.DisposeAsync();
            throw;
        }
    }

    private static string Describe(SslPolicyErrors errors, X509Certificate2? certificate, X509Chain? chain, string host, ConsoleTls tls)
    {
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable) || certificate is null) return "the node sent no certificate";
        var why = new List<string>();
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateChainErrors))
        {
            var statuses = chain?.ChainStatus.Where(s => s.Status != X509ChainStatusFlags.NoError)
                .Select(s => $"{s.Status}: {s.StatusInformation.Trim()}").Distinct().ToArray() ?? [];
            why.Add($"its certificate ({certificate.Subject}, issued by {certificate.Issuer}) does not chain to "
                    + (tls.TrustedRoots is null ? "a CA the system trusts (--tls-ca PEM names the CA to trust)" : "the CA given with --tls-ca")
                    + (statuses.Length > 0 ? $" [{string.Join("; ", statuses)}]" : ""));
        }
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch))
        {
            var names = certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>()
                .SelectMany(san => san.EnumerateDnsNames().Concat(san.EnumerateIPAddresses().Select(ip => ip.ToString()))).ToArray();
            why.Add($"its certificate is not for '{host}' (subject alternative names: {(names.Length > 0 ? string.Join(", ", names) : "none")}; "
                    + "connect to one of those, or skip this check with --tls-insecure, dev only)");
        }
        return string.Join("; and ", why);
    }

    /// <summary>
    /// Runs one command, handing every response to <paramref name="onResponse"/>; returns the final one.
    /// Cancelling sends Cancel and waits briefly for the node's final response.
    /// </summary>
    public async Task<CommandResponse> InvokeAsync(IReadOnlyList<string> words, Action<CommandResponse> onResponse, CancellationToken cancel)
    {
        var id = Interlocked.Increment(ref _nextId);
        await SendAsync(new Invoke(id, words));
        // After a cancel the node answers at once with a final response; don't hang on a node that stopped answering.
        using var giveUp = new CancellationTokenSource();
        using var registration = cancel.Register(() =>
        {
            _ = SendAsync(new Cancel(id));
            giveUp.CancelAfter(TimeSpan.FromSeconds(5));
        });
        while (true)
        {
            ConsoleFrame frame;
            try { frame = await _incoming.Reader.ReadAsync(giveUp.Token); }
            catch (ChannelClosedException)
            {
                return CommandResponse.Failure("the node closed the connection");
            }
            catch (OperationCanceledException)
            {
                return CommandResponse.Done("cancelled");
            }
            if (frame is not Response r || r.Id != id) continue;
            onResponse(r.Body);
            if (r.Body.Final) return r.Body;
        }
    }

    private async Task SendAsync(ConsoleFrame frame)
    {
        try
        {
            await _writer.WriteLineAsync(frame.ToLine());
            await _writer.FlushAsync();
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException) { /* the read loop reports the closed connection */ }
    }

    private async Task ReadLoop(LineReader reader)
    {
        try
        {
            while (await ConsoleFrame.ReadAsync(reader, CancellationToken.None) is { } frame) await _incoming.Writer.WriteAsync(frame);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or System.Text.Json.JsonException or InvalidDataException or DecoderFallbackException) { }
        finally { _incoming.Writer.TryComplete(); }
    }

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync();
        _client.Dispose();
        try { await _reading; } catch (Exception) { /* closing */ }
    }
}
