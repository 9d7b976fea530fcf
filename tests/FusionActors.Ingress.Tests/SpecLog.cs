using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace FusionActors.Ingress.Tests;

/// <summary>The lines a node logged, for specs that check what it says (an audit line, a refusal).</summary>
public sealed class SpecLog : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyList<string> Lines => [.. _lines];

    public ILogger CreateLogger(string category) => new Logger(this, category);

    public void Dispose() { }

    private sealed class Logger(SpecLog log, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel level) => level >= LogLevel.Warning;

        public void Log<TState>(LogLevel level, EventId id, TState state, Exception? error, Func<TState, Exception?, string> format)
        {
            if (IsEnabled(level)) log._lines.Enqueue($"{level} {category}: {format(state, error)}");
        }
    }
}
