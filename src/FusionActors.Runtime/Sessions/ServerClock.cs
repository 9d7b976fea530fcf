using FusionActors.Runtime.Alignment;
using FusionActors.Runtime.Fusion;
using FusionActors.Runtime.Gateway;
using FusionActors.Runtime.Streams;

namespace FusionActors.Runtime.Sessions;

/// <summary>The server's wall clock in microseconds since the Unix epoch (the reference for clock offsets).</summary>
public static class ServerClock
{
    public static long NowUs() => (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) / 10;
}
