using FusionActors.Protocol;
using FusionActors.Protocol.Specs;

namespace FusionActors.Runtime.Recording;

/// <summary>What a record of a session recording is (its first byte on disk; docs/recording.md). Values never change.</summary>
public enum RecordKind : byte
{
    Spec = 1,
    Frame = 2,
    Heartbeat = 3,
    StreamClosed = 4,
    Clock = 5,
    StreamState = 6,
    Result = 7,
    Offset = 8,
    Policy = 9,
    End = 10,
    Operator = 11,
}

/// <summary>An operator's command to one stream that changes what the session decides (chaos drills among them).</summary>
public enum StreamCommand : byte
{
    CrashEncoder = 1,
    RestartStream = 2,
    DisableStream = 3,
    EnableStream = 4,
    DropFrames = 5,
}

/// <summary>Which time-driven step of the session read the clock.</summary>
public enum ClockSource : byte
{
    /// <summary>A stream's idle check (its idle timer fired).</summary>
    IdleCheck = 1,

    /// <summary>The alignment's processing-time tick (no stream live).</summary>
    AlignmentTick = 2,
}

/// <summary>
/// One record read back: when it was written (the session's wall clock in µs since the Unix epoch and its monotonic clock
/// in ms, as the actor that made it read them) and what it holds.
/// </summary>
public abstract record Recorded(long WallUs, long MonoMs)
{
    public abstract RecordKind Kind { get; }
}

/// <summary>The session's spec and clock offset when the recording began.</summary>
public sealed record RecordedSpec(long WallUs, long MonoMs, SessionSpec Spec, long ClockOffsetUs) : Recorded(WallUs, MonoMs)
{
    public override RecordKind Kind => RecordKind.Spec;
}

/// <summary>A frame a stream accepted.</summary>
public sealed record RecordedFrame(long WallUs, long MonoMs, string StreamId, long Seq, long EventTimeUs, float[] Payload) : Recorded(WallUs, MonoMs)
{
    public override RecordKind Kind => RecordKind.Frame;
}

public sealed record RecordedHeartbeat(long WallUs, long MonoMs, string StreamId, long WatermarkUs) : Recorded(WallUs, MonoMs)
{
    public override RecordKind Kind => RecordKind.Heartbeat;
}

public sealed record RecordedStreamClosed(long WallUs, long MonoMs, string StreamId) : Recorded(WallUs, MonoMs)
{
    public override RecordKind Kind => RecordKind.StreamClosed;
}

/// <summary>A clock reading a time-driven step consumed (an idle check of <see cref="StreamId"/>, or the alignment's tick).</summary>
public sealed record RecordedClock(long WallUs, long MonoMs, ClockSource Source, string? StreamId) : Recorded(WallUs, MonoMs)
{
    public override RecordKind Kind => RecordKind.Clock;
}

public sealed record RecordedStreamState(long WallUs, long MonoMs, string StreamId, StreamState From, StreamState To, string Reason) : Recorded(WallUs, MonoMs)
{
    public override RecordKind Kind => RecordKind.StreamState;
}

/// <summary>A fused result, without its fused embedding.</summary>
public sealed record RecordedResult(long WallUs, long MonoMs, long WindowStartUs, long WindowEndUs, int Revision, FusedStatus Status,
    int TopClass, string? TopLabel, double Confidence, double Entropy, double[] Posterior, IReadOnlyDictionary<string, double> Weights,
    IReadOnlyList<string> Missing, IReadOnlyList<string> Imputed, long WatermarkLagUs, string Policy, bool Uncertain) : Recorded(WallUs, MonoMs)
{
    public override RecordKind Kind => RecordKind.Result;
}

/// <summary>The session's clock offset moved (a round trip measured it).</summary>
public sealed record RecordedOffset(long WallUs, long MonoMs, long OffsetUs) : Recorded(WallUs, MonoMs)
{
    public override RecordKind Kind => RecordKind.Offset;
}

/// <summary>An operator changed the fusion policy.</summary>
public sealed record RecordedPolicy(long WallUs, long MonoMs, FusionPolicy Policy) : Recorded(WallUs, MonoMs)
{
    public override RecordKind Kind => RecordKind.Policy;
}

/// <summary>An operator command to a stream; <see cref="DurationMs"/> is the drop of <see cref="StreamCommand.DropFrames"/>.</summary>
public sealed record RecordedOperator(long WallUs, long MonoMs, StreamCommand Command, string StreamId, long DurationMs) : Recorded(WallUs, MonoMs)
{
    public override RecordKind Kind => RecordKind.Operator;

    /// <summary>The command as the session takes it (from this process: no credential needed).</summary>
    public object ToMessage(string sessionId) => Command switch
    {
        StreamCommand.CrashEncoder => new CrashEncoder(sessionId, StreamId),
        StreamCommand.RestartStream => new RestartStream(sessionId, StreamId),
        StreamCommand.DisableStream => new DisableStream(sessionId, StreamId),
        StreamCommand.EnableStream => new EnableStream(sessionId, StreamId),
        _ => new DropFrames(sessionId, StreamId, TimeSpan.FromMilliseconds(DurationMs)),
    };
}

/// <summary>The recording ended on purpose (turned off, or the session stopped).</summary>
public sealed record RecordedEnd(long WallUs, long MonoMs, string Reason) : Recorded(WallUs, MonoMs)
{
    public override RecordKind Kind => RecordKind.End;
}
