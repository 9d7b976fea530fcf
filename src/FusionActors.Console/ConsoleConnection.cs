using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;
using FusionActors.OperatorConsole.Wire;

namespace FusionActors.Fusionctl;

/// <summary>fusionctl's side of a console connection: Hello/Welcome, then one invocation at a time.</summary>
public sealed class ConsoleConnection : IAsyncDisposable
{
    private readonly TcpClient _client;
    private readonly StreamWriter _writer;
    private readonly Channel<ConsoleFrame> _incoming = Channel.CreateUnbounded<ConsoleFrame>();
    private readonly Task _reading;
    private int _nextId;

    private ConsoleConnection(TcpClient client, Welcome welcome, LineReader reader, StreamWriter writer)
    {
        _client = client;
        _writer = writer;
        Welcome = welcome;
        _reading = ReadLoop(reader);
    }

    public Welcome Welcome { get; }

    public sealed class RefusedException(string message) : Exception(message);

    /// <summary>Connects and says hello; throws <see cref="RefusedException"/> when the node refuses, SocketException when unreachable.</summary>
    public static async Task<ConsoleConnection> ConnectAsync(string host, int port, string? token, TimeSpan timeout, CancellationToken cancel)
    {
        var client = new TcpClient { NoDelay = true };
        try
        {
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            wait.CancelAfter(timeout);
            try { await client.ConnectAsync(host, port, wait.Token); }
            catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
            {
                throw new SocketException((int)SocketError.TimedOut);
            }
            var stream = client.GetStream();
            var reader = new LineReader(stream, ConsoleFrame.MaxLineChars);
            var writer = new StreamWriter(stream, ConsoleFrame.Encoding) { NewLine = "\n" };
            await writer.WriteLineAsync(new Hello(token).ToLine());
            await writer.FlushAsync(wait.Token);
            var answer = await ConsoleFrame.ReadAsync(reader, wait.Token);
            return answer switch
            {
                Welcome w => new ConsoleConnection(client, w, reader, writer),
                Refused r => throw new RefusedException(r.Reason),
                null => throw new RefusedException("the node closed the connection"),
                _ => throw new RefusedException($"unexpected answer '{answer.GetType().Name}'"),
            };
        }
        catch
        {
            client.Dispose();
            throw;
        }
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
        _client.Dispose();
        try { await _reading; } catch (Exception) { /* closing */ }
    }
}
