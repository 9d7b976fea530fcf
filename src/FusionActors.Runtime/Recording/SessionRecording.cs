using FusionActors.Core.Time;
using FusionActors.Protocol;
using FusionActors.Protocol.Specs;

namespace FusionActors.Runtime.Recording;

/// <summary>
/// A session's recording, as its actors see it: one call per record kind, each a no-op while the recording is off or
/// dropped. Every record carries the session's wall and monotonic clock read when it was made. Calls come from the
/// session's several actors at once; the records go to the node's <see cref="RecordingWriter"/>, which encodes and
/// writes them on its own thread.
/// </summary>
public sealed class SessionRecording
{
    private readonly RecordingWriter _writer;
    private readonly string _sessionId;
    private readonly TimeSources _time;
    private volatile RecordingWriter.Target? _target;

    internal SessionRecording(RecordingWriter writer, string sessionId, TimeSources time)
    {
        _writer = writer;
        _sessionId = sessionId;
        _time = time;
    }

    /// <summary>Recording, and not dropped.</summary>
    public bool IsOn => _target is { Dropped: false };

    /// <summary>The file of the current recording; null when off.</summary>
    public string? Path => _target?.Path;

    /// <summary>Starts a recording (a new file, beginning with the spec and the clock offset); the path of the one already on.</summary>
    public string Begin(SessionSpec spec, long clockOffsetUs)
    {
        if (_target is { Dropped: false } on) return on.Path;
        var target = _writer.Open(_sessionId);
        _target = target;
        Add(target, RecordKind.Spec, spec, a: clockOffsetUs, bytes: 0); // one per recording, bounded by its own cap
        return target.Path;
    }

    /// <summary>Ends the recording on purpose (an End record, then the file is closed); null when none was on.</summary>
    public string? End(string reason)
    {
        var target = _target;
        if (target is null) return null;
        _target = null;
        Add(target, RecordKind.End, text: reason);
        _writer.Enqueue(target, new RecordingWriter.Item(RecordingWriter.Op.Close, target));
        return target.Path;
    }

    public void Frame(Frame frame)
    {
        if (_target is { } t) Add(t, RecordKind.Frame, frame, bytes: 64 + frame.PayloadBytes);
    }

    public void Heartbeat(string streamId, long watermarkUs)
    {
        if (_target is { } t) Add(t, RecordKind.Heartbeat, text: streamId, a: watermarkUs);
    }

    public void StreamClosed(string streamId)
    {
        if (_target is { } t) Add(t, RecordKind.StreamClosed, text: streamId);
    }

    public void Clock(ClockSource source, string? streamId = null)
    {
        if (_target is { } t) Add(t, RecordKind.Clock, text: streamId, a: (long)source);
    }

    public void StateChanged(string streamId, StreamState from, StreamState to, string reason)
    {
        if (_target is { } t) Add(t, RecordKind.StreamState, (reason, from, to), text: streamId);
    }

    public void Result(FusedResult result)
    {
        if (_target is { } t) Add(t, RecordKind.Result, result, bytes: 256 + result.Posterior.Length * 8);
    }

    public void Offset(long offsetUs)
    {
        if (_target is { } t) Add(t, RecordKind.Offset, a: offsetUs);
    }

    /// <summary>An operator command to a stream; other messages are not recorded.</summary>
    public void Operator(object command)
    {
        if (_target is not { } t) return;
        var (kind, stream, ms) = command switch
        {
            CrashEncoder c => (StreamCommand.CrashEncoder, c.StreamId, 0L),
            RestartStream c => (StreamCommand.RestartStream, c.StreamId, 0L),
            DisableStream c => (StreamCommand.DisableStream, c.StreamId, 0L),
            EnableStream c => (StreamCommand.EnableStream, c.StreamId, 0L),
            DropFrames c => (StreamCommand.DropFrames, c.StreamId, (long)Math.Clamp(c.Duration.TotalMilliseconds, 0, 86_400_000d * 365)),
            _ => ((StreamCommand)0, "", 0L),
        };
        if (kind != 0) Add(t, RecordKind.Operator, text: stream, a: (long)kind, b: ms);
    }

    public void Policy(FusionPolicy policy)
    {
        if (_target is { } t) Add(t, RecordKind.Policy, policy);
    }

    private void Add(RecordingWriter.Target target, RecordKind kind, object? payload = null, string? text = null, long a = 0, long b = 0, long bytes = 64)
    {
        if (target.Dropped) return;
        _writer.Enqueue(target, new RecordingWriter.Item(RecordingWriter.Op.Record, target)
        {
            Kind = kind, WallUs = _time.Wall.NowUs, MonoMs = _time.Monotonic.NowMs, Payload = payload, Text = text, A = a, B = b, Bytes = bytes,
        });
    }
}
