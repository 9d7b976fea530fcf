namespace FusionActors.Fusionctl;

/// <summary>Exit codes of fusionctl, for scripts.</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    /// <summary>The command ran and failed (session not open, refused, timed out).</summary>
    public const int Failed = 1;
    /// <summary>Unknown command or bad arguments.</summary>
    public const int Usage = 2;
    /// <summary>No connection: the node cannot be reached, it refused the client (token), or its TLS certificate is not trusted.</summary>
    public const int Unavailable = 3;
}
