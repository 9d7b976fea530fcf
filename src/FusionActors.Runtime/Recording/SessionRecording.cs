using FusionActors.Core.Time;
using FusionActors.Protocol;
using FusionActors.Protocol.Specs;

namespace FusionActors.Runtime.Recording;

/// <summary>
/// A session's recording, as its actors see it: one call per record kind, each a no-op while the recording is off or
/// dropped. Every record carries the session's wall and monotonic clock read when it was made. Calls come from the
/// session's several actors at once; each encodes its record on its own thread into a reused buffer and copies it into
/// the recording's current chunk (no object per record); the node's <see cref="RecordingWriter"/> seals and writes whole
/// chunks on its own thread.
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
        var w = RecordEncoder.ForThread();
        try { RecordCodec.Spec(w, _time.Wall.NowUs, _time.Monotonic.NowMs, spec, clockOffsetUs); }
        catch (Exception e) when (Malformed(e)) { return Fail(target, e, w).Path; }
        _writer.Append(target, w, capped: false); // one per recording, bounded by its own cap
        return target.Path;
    }

    /// <summary>Ends the recording on purpose (an End record, then the file is closed); null when none was on.</summary>
    public string? End(string reason)
    {
        var target = _target;
        if (target is null) return null;
        _target = null;
        if (!target.Dropped)
        {
            var w = RecordEncoder.ForThread();
            try { RecordCodec.Simple(w, RecordKind.End, _time.Wall.NowUs, _time.Monotonic.NowMs, reason, 0); }
            catch (Exception e) when (Malformed(e)) { Fail(target, e, w); }
            if (!target.Dropped) _writer.Append(target, w);
        }
        _writer.Close(target);
        return target.Path;
    }

    public void Frame(Frame frame)
    {
        if (_target is not { Dropped: false } t) return;
        var w = RecordEncoder.ForThread();
        try { RecordCodec.Frame(w, _time.Wall.NowUs, _time.Monotonic.NowMs, frame); }
        catch (Exception e) when (Malformed(e)) { Fail(t, e, w); return; }
        _writer.Append(t, w);
    }

    public void Heartbeat(string streamId, long watermarkUs) => Simple(RecordKind.Heartbeat, streamId, watermarkUs);

    public void StreamClosed(string streamId) => Simple(RecordKind.StreamClosed, streamId, 0);

    public void Offset(long offsetUs) => Simple(RecordKind.Offset, null, offsetUs);

    public void Clock(ClockSource source, string? streamId = null)
    {
        if (_target is not { Dropped: false } t) return;
        var w = RecordEncoder.ForThread();
        try { RecordCodec.Clock(w, _time.Wall.NowUs, _time.Monotonic.NowMs, source, streamId); }
        catch (Exception e) when (Malformed(e)) { Fail(t, e, w); return; }
        _writer.Append(t, w);
    }

    public void StateChanged(string streamId, StreamState from, StreamState to, string reason)
    {
        if (_target is not { Dropped: false } t) return;
        var w = RecordEncoder.ForThread();
        try { RecordCodec.StreamState(w, _time.Wall.NowUs, _time.Monotonic.NowMs, streamId, from, to, reason); }
        catch (Exception e) when (Malformed(e)) { Fail(t, e, w); return; }
        _writer.Append(t, w);
    }

    public void Result(FusedResult result)
    {
        if (_target is not { Dropped: false } t) return;
        var w = RecordEncoder.ForThread();
        try { RecordCodec.Result(w, _time.Wall.NowUs, _time.Monotonic.NowMs, result); }
        catch (Exception e) when (Malformed(e)) { Fail(t, e, w); return; }
        _writer.Append(t, w);
    }

    /// <summary>An operator command to a stream; other messages are not recorded.</summary>
    public void Operator(object command)
    {
        if (_target is not { Dropped: false } t) return;
        var (kind, stream, ms) = command switch
        {
            CrashEncoder c => (StreamCommand.CrashEncoder, c.StreamId, 0L),
            RestartStream c => (StreamCommand.RestartStream, c.StreamId, 0L),
            DisableStream c => (StreamCommand.DisableStream, c.StreamId, 0L),
            EnableStream c => (StreamCommand.EnableStream, c.StreamId, 0L),
            DropFrames c => (StreamCommand.DropFrames, c.StreamId, (long)Math.Clamp(c.Duration.TotalMilliseconds, 0, 86_400_000d * 365)),
            _ => ((StreamCommand)0, "", 0L),
        };
        if (kind == 0) return;
        var w = RecordEncoder.ForThread();
        try { RecordCodec.Operator(w, _time.Wall.NowUs, _time.Monotonic.NowMs, kind, stream, ms); }
        catch (Exception e) when (Malformed(e)) { Fail(t, e, w); return; }
        _writer.Append(t, w);
    }

    public void Policy(FusionPolicy policy)
    {
        if (_target is not { Dropped: false } t) return;
        var w = RecordEncoder.ForThread();
        try { RecordCodec.Policy(w, _time.Wall.NowUs, _time.Monotonic.NowMs, policy); }
        catch (Exception e) when (Malformed(e)) { Fail(t, e, w); return; }
        _writer.Append(t, w);
    }

    private void Simple(RecordKind kind, string? text, long a)
    {
        if (_target is not { Dropped: false } t) return;
        var w = RecordEncoder.ForThread();
        try { RecordCodec.Simple(w, kind, _time.Wall.NowUs, _time.Monotonic.NowMs, text, a); }
        catch (Exception e) when (Malformed(e)) { Fail(t, e, w); return; }
        _writer.Append(t, w);
    }

    private static bool Malformed(Exception e) =>
        e is InvalidDataException or ArgumentException or NotSupportedException or System.Text.Json.JsonException;

    /// <summary>A record that cannot be encoded (a field over its bound) drops the recording; the session goes on.</summary>
    private static RecordingWriter.Target Fail(RecordingWriter.Target target, Exception e, RecordEncoder w)
    {
        w.Done();
        target.Drop("malformed", e.Message);
        return target;
    }
}
