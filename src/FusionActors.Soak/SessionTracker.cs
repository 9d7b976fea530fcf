using System.Globalization;
using System.Text.RegularExpressions;

namespace FusionActors.Soak;

/// <summary>
/// Where each session lives and how long it took to come back after a fault, from the nodes' own log lines: a session
/// logs "Session ID opened" on the node that hosts it, at its first open and at every reopen by its client.
/// </summary>
public sealed partial class SessionTracker
{
    private readonly object _gate = new();
    private readonly Dictionary<string, int> _host = new();
    private readonly List<(string Session, DateTime At, string Fault)> _pending = [];
    private readonly List<ResumeSample> _samples = [];
    private long _opens;

    [GeneratedRegex(@"Session (\S+) opened: ")]
    private static partial Regex Opened();

    [GeneratedRegex(@"Session (\S+) closed")]
    private static partial Regex Closed();

    [GeneratedRegex(@"^\[\w+\]\[(\d\d/\d\d/\d{4} \d\d:\d\d:\d\d\.\d+)Z\]")]
    private static partial Regex Stamp();

    public void OnLine(int node, string line)
    {
        if (!line.Contains("Session ", StringComparison.Ordinal)) return;
        if (Opened().Match(line) is { Success: true } open)
        {
            var id = open.Groups[1].Value;
            var at = StampOf(line);
            lock (_gate)
            {
                _opens++;
                _host[id] = node;
                for (var i = _pending.Count - 1; i >= 0; i--)
                {
                    var p = _pending[i];
                    if (p.Session != id || at <= p.At) continue;
                    _samples.Add(new ResumeSample(id, p.Fault, node, Math.Round((at - p.At).TotalSeconds, 2)));
                    _pending.RemoveAt(i);
                }
            }
        }
        else if (Closed().Match(line) is { Success: true } closed)
            lock (_gate)
                if (_host.TryGetValue(closed.Groups[1].Value, out var n) && n == node) _host.Remove(closed.Groups[1].Value);
    }

    public int? HostOf(string session)
    {
        lock (_gate) return _host.TryGetValue(session, out var n) ? n : null;
    }

    /// <summary>The sessions of <paramref name="affected"/> must open again after <paramref name="at"/>: their resume is timed from then.</summary>
    public void Expect(IEnumerable<string> affected, DateTime at, string fault)
    {
        lock (_gate)
            foreach (var s in affected)
            {
                _pending.RemoveAll(p => p.Session == s);
                _pending.Add((s, at, fault));
            }
    }

    /// <summary>A session that ended: a fault it had no need to reopen for (a short pause it rode out) is no longer awaited.</summary>
    public (string Session, string Fault)? Forget(string session)
    {
        lock (_gate)
        {
            var i = _pending.FindIndex(p => p.Session == session);
            if (i < 0) return null;
            var p = _pending[i];
            _pending.RemoveAt(i);
            return (p.Session, p.Fault);
        }
    }

    public ResumeSample[] Samples()
    {
        lock (_gate) return [.. _samples];
    }

    public long Opens
    {
        get { lock (_gate) return _opens; }
    }

    private static DateTime StampOf(string line) =>
        Stamp().Match(line) is { Success: true } m && DateTime.TryParseExact(m.Groups[1].Value, "MM/dd/yyyy HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t)
            ? t
            : DateTime.UtcNow;
}

/// <param name="Seconds">From the fault's start to the session's next open, on any node.</param>
public sealed record ResumeSample(string Session, string Fault, int Node, double Seconds);
