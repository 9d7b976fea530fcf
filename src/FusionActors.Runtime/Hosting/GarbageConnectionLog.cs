using System.Text.RegularExpressions;
using Akka.Actor;
using Akka.Event;
using Microsoft.Extensions.Logging;
using LogLevel = Microsoft.Extensions.Logging.LogLevel;
using FusionActors.Runtime.Metrics;

namespace FusionActors.Runtime.Hosting;

/// <summary>
/// Connections to the remoting port that do not speak Akka.Remote (a port scanner, a stray HTTP client, random bytes):
/// DotNetty's frame decoder fails on each, and Akka.Remote logs every failure as an error with its stack trace, twice a
/// connection, about 2 KB each. The node's Akka logger goes through <see cref="Wrap"/>, which drops those events, counts
/// the connections (<c>fusion.remoting.garbage_connections</c>) and keeps the last peer; <see cref="GarbageConnectionSummary"/>
/// logs one line per interval in which any came. Every other event passes untouched. (Akka's own LogFilterSetup is not
/// applied by the ILoggerFactory logger Akka.Hosting provides, so the filter sits in front of the factory instead.)
/// </summary>
public sealed partial class GarbageConnectionLog
{
    private readonly object _gate = new();
    // Recent channel ids: a connection's decoder fails on read and again when it closes; it counts once.
    private readonly Queue<string> _recent = new();
    private readonly HashSet<string> _recentSet = [];
    private const int RecentChannels = 256;
    private long _total, _pending;
    private string? _lastPeer, _lastReason;

    /// <summary>Garbage connections since the node started.</summary>
    public long Total => Interlocked.Read(ref _total);

    /// <summary>The node's logger factory, with this filter in front of what Akka logs through it.</summary>
    public ILoggerFactory Wrap(ILoggerFactory inner) => new FilteringFactory(inner, this);

    /// <summary>Counts and drops a decoder failure of a connection that did not speak Akka.Remote; false for anything else.</summary>
    public bool Absorb(string message, Exception? cause)
    {
        if (cause is null || !IsDecoderFailure(cause)) return false;
        var match = ChannelPattern().Match(message);
        if (!match.Success) return false;
        var channel = match.Groups["id"].Value;
        lock (_gate)
        {
            if (_recentSet.Add(channel))
            {
                _recent.Enqueue(channel);
                if (_recent.Count > RecentChannels) _recentSet.Remove(_recent.Dequeue());
                _total++;
                _pending++;
                FusionMetrics.GarbageConnection();
            }
            _lastPeer = match.Groups["peer"].Value;
            _lastReason = cause.Message.Length > 120 ? cause.Message[..120] : cause.Message;
        }
        return true;
    }

    /// <summary>Connections since the last call, the last peer and why its bytes were refused; (0, null, null) when none came.</summary>
    public (long Count, string? Peer, string? Reason) TakePending()
    {
        lock (_gate)
        {
            var taken = (_pending, _pending == 0 ? null : _lastPeer, _pending == 0 ? null : _lastReason);
            _pending = 0;
            return taken;
        }
    }

    private sealed class FilteringFactory(ILoggerFactory inner, GarbageConnectionLog filter) : ILoggerFactory
    {
        public ILogger CreateLogger(string categoryName) => new FilteringLogger(inner.CreateLogger(categoryName), filter);

        public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

        public void Dispose() { } // the host owns the factory
    }

    private sealed class FilteringLogger(ILogger inner, GarbageConnectionLog filter) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel >= LogLevel.Error && exception is not null && filter.Absorb(formatter(state, exception), exception)) return;
            inner.Log(logLevel, eventId, state, exception, formatter);
        }
    }

    /// <summary>DotNetty's codec exceptions (a corrupted or too long frame), by name: Runtime does not reference DotNetty itself.</summary>
    private static bool IsDecoderFailure(Exception cause)
    {
        for (var e = cause; e is not null; e = e.InnerException)
            if (e.GetType().Namespace == "DotNetty.Codecs") return true;
        return false;
    }

    // "Error caught channel [[::ffff:127.0.0.1]:4053->[::ffff:127.0.0.1]:51234](Id=1a2b3c4d)": local->peer, channel id.
    [GeneratedRegex(@"->(?<peer>[^\s()]+)\]\(Id=(?<id>[0-9A-Za-z]+)\)")]
    private static partial Regex ChannelPattern();
}

/// <summary>Logs one line per interval in which connections that did not speak Akka.Remote came: how many, the last peer, why.</summary>
public sealed class GarbageConnectionSummary : ReceiveActor, IWithTimers
{
    private readonly GarbageConnectionLog _filter;
    private readonly TimeSpan _interval;

    public GarbageConnectionSummary(GarbageConnectionLog filter, TimeSpan interval)
    {
        _filter = filter;
        _interval = interval;
        var log = Context.GetLogger();
        Receive<Tick>(_ =>
        {
            var (count, peer, reason) = _filter.TakePending();
            if (count == 0) return;
            log.Warning("Remoting: {0} connection(s) in the last {1:0} s did not speak Akka.Remote and were closed (last from {2}: {3}); {4} since the node started",
                count, _interval.TotalSeconds, peer ?? "?", reason, _filter.Total);
        });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    protected override void PreStart() => Timers.StartPeriodicTimer("summary", Tick.Instance, _interval);

    public static Props Props(GarbageConnectionLog filter, TimeSpan interval) =>
        Akka.Actor.Props.Create(() => new GarbageConnectionSummary(filter, interval));

    private sealed record Tick
    {
        public static readonly Tick Instance = new();
    }
}
