namespace FusionActors.Scenarios.Remote;

/// <summary>The exit codes of the FusionActors.Host program, for whatever starts it as a process.</summary>
public static class HostExitCodes
{
    public const int Ok = 0;

    /// <summary>A run whose checks failed (failover-demo), frames left uncommitted (push), or a bad file or spec.</summary>
    public const int Failed = 1;

    /// <summary>A command line that could not be understood.</summary>
    public const int Usage = 2;

    /// <summary>A node whose actor system terminated without being asked to stop (downed, or shut down by the cluster).</summary>
    public const int NodeTerminated = 3;

    /// <summary>Cancelled with Ctrl+C.</summary>
    public const int Cancelled = 130;
}
