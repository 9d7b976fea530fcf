using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Xunit;
using FusionActors.Runtime.Hosting;

namespace FusionActors.Runtime.Tests;

/// <summary>Everything a node logs, line by line, as its console would write it.</summary>
public sealed class CapturedLog : ILoggerProvider
{
    public readonly ConcurrentQueue<string> Lines = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose() { }

    public long Bytes => Lines.Sum(l => (long)l.Length);

    private sealed class Logger(CapturedLog log, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            log.Lines.Enqueue($"{logLevel}: {category}: {formatter(state, exception)}{(exception is null ? "" : "\n" + exception)}");
    }
}

/// <summary>Connections to the remoting port that do not speak Akka.Remote, against a real node and what its logger writes.</summary>
public sealed class GarbageConnectionLogSpec
{
    [Fact]
    public async Task Garbage_connections_are_counted_and_summarized_in_a_line_per_interval_instead_of_a_stack_trace_each()
    {
        const int connections = 40;
        var port = TestSessions.FreePort();
        var log = new CapturedLog();
        using var metric = new MeterListener();
        long counted = 0;
        metric.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Name == "fusion.remoting.garbage_connections") listener.EnableMeasurementEvents(instrument);
        };
        metric.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref counted, value));
        metric.Start();
        await using var node = await FusionNode.StartAsync(FusionOptions.FromHocon(FusionConfig.DefaultsText + $"""

            fusion.node.port = {port}
            fusion.console.enabled = off
            akka.loglevel = WARNING
            """), logging: b => b.AddProvider(log));
        var before = log.Lines.Count;
        var random = new Random(7);
        for (var i = 0; i < connections; i++)
        {
            using var tcp = new TcpClient();
            await tcp.ConnectAsync(IPAddress.Loopback, port);
            var bytes = new byte[256];
            random.NextBytes(bytes);
            var stream = tcp.GetStream();
            await stream.WriteAsync(bytes);
            // The node closes a connection whose first frame it cannot decode: read until it has.
            using var closed = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            try { while (await stream.ReadAsync(new byte[64], closed.Token) > 0) { } }
            catch (Exception e) when (e is OperationCanceledException or IOException) { }
        }

        // The summary names the node's own total: every connection counted once (its decoder fails twice).
        var summary = await Eventually(() => log.Lines.Skip(before).LastOrDefault(l => l.Contains("did not speak Akka.Remote")), TimeSpan.FromSeconds(60),
            line => line.Contains($"; {connections} since the node started"));
        Assert.Contains("127.0.0.1", summary);
        var logged = log.Lines.Skip(before).ToList();
        Assert.DoesNotContain(logged, l => l.Contains("Error caught channel") || l.Contains("DotNetty.Codecs"));
        // A few summary lines (one per 10 s interval with any) instead of ~2 KB per connection, twice.
        Assert.True(logged.Sum(l => l.Length) < 2_000, $"{logged.Sum(l => l.Length)} bytes logged: {string.Join("\n", logged)}");
        Assert.True(Interlocked.Read(ref counted) >= connections, $"counter {counted}");
    }

    private static async Task<string> Eventually(Func<string?> read, TimeSpan timeout, Func<string, bool> done)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var value = read();
            if (value is not null && done(value)) return value;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"last: {value ?? "nothing"}");
            await Task.Delay(200);
        }
    }
}
