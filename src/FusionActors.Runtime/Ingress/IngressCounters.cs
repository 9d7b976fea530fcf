using System.Collections.Concurrent;

namespace FusionActors.Runtime.Ingress;

/// <summary>What the ingress of a node has served and refused since it started (logged, and read by the specs).</summary>
public sealed class IngressCounters
{
    private long _connections, _open, _opens, _resumes, _frames, _refusedAtCapacity;
    private readonly ConcurrentDictionary<IngressErrorCode, long> _errors = new();

    public long Connections => Interlocked.Read(ref _connections);

    /// <summary>Connections open now.</summary>
    public long Open => Interlocked.Read(ref _open);

    public long Opens => Interlocked.Read(ref _opens);

    public long Resumes => Interlocked.Read(ref _resumes);

    /// <summary>Frames that went into sessions' frame sinks.</summary>
    public long FramesIn => Interlocked.Read(ref _frames);

    /// <summary>Upgrades answered 503 because <see cref="HttpOptions.MaxConnections"/> were open.</summary>
    public long RefusedAtCapacity => Interlocked.Read(ref _refusedAtCapacity);

    /// <summary>Connections ended by the node with this error.</summary>
    public long Errors(IngressErrorCode code) => _errors.GetValueOrDefault(code);

    internal bool TryAccept(int max)
    {
        if (Interlocked.Increment(ref _open) > max)
        {
            Interlocked.Decrement(ref _open);
            Interlocked.Increment(ref _refusedAtCapacity);
            return false;
        }
        Interlocked.Increment(ref _connections);
        return true;
    }

    internal void Closed() => Interlocked.Decrement(ref _open);

    internal void Opened(bool resumed)
    {
        Interlocked.Increment(ref _opens);
        if (resumed) Interlocked.Increment(ref _resumes);
    }

    internal void Frames(int n) => Interlocked.Add(ref _frames, n);

    internal void Refused(IngressErrorCode code) => _errors.AddOrUpdate(code, 1, (_, n) => n + 1);
}
