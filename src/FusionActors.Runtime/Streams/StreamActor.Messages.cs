namespace FusionActors.Runtime.Streams;

/// <summary>The messages a stream actor takes besides the protocol's: from its session, and its own timers.</summary>
public sealed partial class StreamActor
{
    public sealed record GetStatus
    {
        public static readonly GetStatus Instance = new();
    }

    /// <summary>From the session: answer <see cref="Room"/> once the frames sent before this are taken and more inputs fit.</summary>
    public sealed record AwaitRoom(long Id);

    public sealed record Room(long Id);

    private sealed record RestartEncoder(int Generation);

    private sealed record CheckDeadline
    {
        public static readonly CheckDeadline Instance = new();
    }

    private sealed record IdleCheck
    {
        public static readonly IdleCheck Instance = new();
    }
}
