using FusionActors.Runtime.Alignment;
using FusionActors.Runtime.Fusion;
using FusionActors.Runtime.Gateway;
using FusionActors.Runtime.Streams;

namespace FusionActors.Runtime.Sessions;

/// <summary>
/// How many sessions a node holds open at once (fusion.limits.max-sessions): an open beyond it is answered
/// <see cref="Protocol.NodeFull"/> instead of costing the node memory it does not have. One per node, shared by
/// its session entities; thread-safe.
/// </summary>
public sealed class SessionAdmission(int maxSessions)
{
    private int _open;

    public static SessionAdmission Unbounded { get; } = new(int.MaxValue);

    public int MaxSessions { get; } = maxSessions;

    public int Open => Volatile.Read(ref _open);

    /// <summary>Takes a place for one more open session, if there is one.</summary>
    public bool TryAdmit()
    {
        while (true)
        {
            var open = Volatile.Read(ref _open);
            if (open >= MaxSessions) return false;
            if (Interlocked.CompareExchange(ref _open, open + 1, open) == open) return true;
        }
    }

    /// <summary>Gives back the place of a session that stopped.</summary>
    public void Release() => Interlocked.Decrement(ref _open);

    private int _hibernated;

    /// <summary>Open sessions whose children sleep (hibernated: see SessionActor); they still count as open.</summary>
    public int Hibernated => Volatile.Read(ref _hibernated);

    public void Slept() => Interlocked.Increment(ref _hibernated);

    public void Woke() => Interlocked.Decrement(ref _hibernated);
}
