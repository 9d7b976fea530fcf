using System.Diagnostics;
using Akka.Actor;
using FusionActors.Core.Streams;
using FusionActors.Protocol;

namespace FusionActors.Bench;

/// <summary>
/// Drives one session through the session region in closed loop and is its subscriber: at most
/// <c>inFlightWindows</c> windows of frames are sent and not yet fused; each fused result releases the next
/// window. Frames of a window: <c>framesPerWindow</c> per stream, event times window·F .. window·F + F − 1, streams
/// interleaved per time step, so the last frame of the last stream completes the window (maxOutOfOrderness 0).
/// Frames go one message each, or (<c>batched</c>) one <see cref="FrameBatch"/> per window.
/// </summary>
public sealed class SessionDriver : ReceiveActor
{
    private readonly IActorRef _region;
    private readonly string _sessionId;
    private readonly string[] _streams;
    private readonly float[][] _payloads;
    private readonly int _framesPerWindow;
    private readonly int _windows;
    private readonly int _inFlight;
    private readonly TaskCompletionSource<DriverResult> _done;
    private readonly bool _batched;
    private int _nextWindow;
    private int _fused;
    private long _framesFused;
    private long _rejected;
    private long _incomplete;
    private long _firstSend;

    public SessionDriver(IActorRef region, string sessionId, string[] streams, float[][] payloads, int framesPerWindow, int windows,
        int inFlightWindows, TaskCompletionSource<DriverResult> done, bool batched)
    {
        _batched = batched;
        _region = region;
        _sessionId = sessionId;
        _streams = streams;
        _payloads = payloads;
        _framesPerWindow = framesPerWindow;
        _windows = windows;
        _inFlight = inFlightWindows;
        _done = done;
        Receive<Start>(_ =>
        {
            _firstSend = Stopwatch.GetTimestamp();
            while (_nextWindow < Math.Min(_inFlight, _windows)) SendWindow(_nextWindow++);
        });
        Receive<FusedResult>(OnResult);
        Receive<FrameRejected>(_ => _rejected++);
        ReceiveAny(_ => { });
    }

    public static Props Props(IActorRef region, string sessionId, string[] streams, float[][] payloads, int framesPerWindow, int windows,
        int inFlightWindows, TaskCompletionSource<DriverResult> done, bool batched = false) =>
        Akka.Actor.Props.Create(() => new SessionDriver(region, sessionId, streams, payloads, framesPerWindow, windows, inFlightWindows, done, batched));

    private void SendWindow(int k)
    {
        var f = _framesPerWindow;
        var batch = _batched ? new List<Frame>(f * _streams.Length) : null;
        for (var j = 0; j < f; j++)
        {
            var seq = (long)k * f + j;
            for (var s = 0; s < _streams.Length; s++)
            {
                var frame = new Frame(_sessionId, _streams[s], seq, seq, _payloads[s]);
                if (batch is null) _region.Tell(frame, Self);
                else batch.Add(frame);
            }
        }
        if (batch is not null) _region.Tell(new FrameBatch(_sessionId, batch), Self);
    }

    private void OnResult(FusedResult r)
    {
        if (r.Revision != 0) return;
        _fused++;
        // A window's frames reached fusion when its result has evidence of every stream (no modality missing).
        if (r.Status == FusedStatus.Fused && r.Missing.Count == 0) _framesFused += (long)_framesPerWindow * _streams.Length;
        else _incomplete++;
        if (_nextWindow < _windows) SendWindow(_nextWindow++);
        if (_fused == _windows)
            _done.TrySetResult(new DriverResult(_firstSend, Stopwatch.GetTimestamp(), _fused, _framesFused, _incomplete, _rejected));
    }

    public sealed record Start
    {
        public static readonly Start Instance = new();
    }
}

/// <summary>What one driver saw: timestamps (Stopwatch ticks) of its first send and its last fused result.</summary>
public sealed record DriverResult(long FirstSendTicks, long LastResultTicks, int Windows, long FramesFused, long IncompleteWindows, long Rejected);
