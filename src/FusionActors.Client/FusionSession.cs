using System.Collections.Concurrent;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.CompilerServices;
using Akka.Actor;
using Akka.Cluster.Tools.Client;
using FusionActors.Core.Specs;
using FusionActors.Core.Streams;
using FusionActors.Protocol;
using FusionActors.Protocol.Serialization;
using FusionActors.Protocol.Specs;

namespace FusionActors.Client;

/// <summary>
/// An open session on the cluster. Push frames with <see cref="Stream"/>, read decisions from
/// <see cref="Results"/>. Every frame is held until the server commits it; if the connection or the node
/// hosting the session fails, the session is reopened (on another node if need be) and the uncommitted
/// frames are sent again, so nothing is lost. Results are deduplicated by (window, revision).
/// </summary>
public sealed class FusionSession : IAsyncDisposable
{
    private readonly FusionClient _client;
    private readonly bool _ownsClient;
    private readonly ReplayLog _log;
    private readonly SessionState _state;
    private readonly IActorRef _link;
    private readonly ConcurrentDictionary<string, SensorStream> _streams = new();
    private int _disposed;

    internal FusionSession(FusionClient client, bool ownsClient, SessionSpec spec, ReplayLog log, SessionState state, IActorRef link, SessionOpened opened)
    {
        _client = client;
        _ownsClient = ownsClient;
        Spec = spec;
        _log = log;
        _state = state;
        _link = link;
        Opened = opened;
    }

    public SessionSpec Spec { get; }

    public string SessionId => Spec.SessionId;

    /// <summary>The server's answer to the first open (streams, clock offset).</summary>
    public SessionOpened Opened { get; }

    /// <summary>Address of the node that serves the session now.</summary>
    public string? Node => _state.Node;

    /// <summary>The session clock in µs (the spec's start plus the time since the session opened): stamp frames with it.</summary>
    public long NowUs => _state.NowUs();

    /// <summary>Fused results, each (window, revision) once, in the order they arrived. Ends when the session is disposed.</summary>
    public IAsyncEnumerable<FusedResult> Results => _state.Results.ReadAllAsync();

    /// <summary>Everything else the session tells its client: rejections, stream state changes, late evidence.</summary>
    public IAsyncEnumerable<object> Events => _state.Events.ReadAllAsync();

    public SessionStats Stats => _state.Snapshot(_log);

    /// <summary>The writer of one stream of the session.</summary>
    public SensorStream Stream(string streamId)
    {
        var spec = Spec.FindStream(streamId)
            ?? throw new ArgumentException($"session '{SessionId}' has no stream '{streamId}' (it has {string.Join(", ", Spec.Streams.Select(s => s.StreamId))})", nameof(streamId));
        return _streams.GetOrAdd(streamId, _ => new SensorStream(this, spec, _client.Options.MaxBatchBytes));
    }

    internal ValueTask HoldAsync(IWithSessionId entry, CancellationToken cancel)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (_state.Failure is { } failure) throw new FusionSessionException(failure.Message, failure);
        return _log.AppendAsync(entry, cancel);
    }

    internal ValueTask<long> HoldNextAsync(string streamId, long eventTimeUs, float[] payload, string? traceParent, CancellationToken cancel)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (_state.Failure is { } failure) throw new FusionSessionException(failure.Message, failure);
        return _log.AppendNextAsync(SessionId, streamId, eventTimeUs, payload, traceParent, cancel);
    }

    internal void SendUnheld(IWithSessionId message)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        _log.SendUnheld(message);
    }

    /// <summary>Closes every stream and waits until the server has committed every frame (all windows fused).</summary>
    public async Task CompleteAsync(TimeSpan timeout, CancellationToken cancel = default)
    {
        foreach (var s in Spec.Streams) await Stream(s.StreamId).CompleteAsync(cancel);
        await WaitCommittedAsync(long.MaxValue, timeout, cancel);
    }

    /// <summary>Waits until the server's commit reaches <paramref name="throughUs"/>.</summary>
    public async Task WaitCommittedAsync(long throughUs, TimeSpan timeout, CancellationToken cancel = default)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        cts.CancelAfter(timeout);
        while (_state.CommittedThroughUs < throughUs)
        {
            var next = _state.NextCommit();
            if (_state.CommittedThroughUs >= throughUs) break;
            try { await next.WaitAsync(cts.Token); }
            catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
            {
                throw new TimeoutException($"session '{SessionId}': committed through {_state.CommittedThroughUs} µs after {timeout}, waiting for {throughUs}");
            }
            if (Volatile.Read(ref _disposed) != 0) throw new ObjectDisposedException(nameof(FusionSession));
            if (_state.Failure is { } failure) throw new FusionSessionException(failure.Message, failure);
        }
    }

    /// <summary>The session's status on the server (streams, counters, commit point), asked with this writer's capability.</summary>
    public async Task<SessionStatus> StatusAsync(CancellationToken cancel = default) =>
        await _client.AskGateway(new GetSessionStatus(SessionId, _state.Capability), cancel) switch
        {
            SessionStatus status => status,
            var other => throw new FusionSessionException($"session '{SessionId}': no status: {other}"),
        };

    /// <summary>Closes the session on the server (its state is dropped) and waits for the answer.</summary>
    public async Task CloseAsync(CancellationToken cancel = default)
    {
        _link.Tell(SessionLink.Closing.Instance);
        var reply = await _client.AskGateway(new CloseSession(SessionId, _state.Capability), cancel);
        if (reply is not SessionClosed) throw new FusionSessionException($"session '{SessionId}' did not close: {reply}");
    }

    /// <summary>Stops this client's side of the session (the server keeps it until closed or passivated).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _log.Close();
        await _link.GracefulStop(TimeSpan.FromSeconds(5)).ContinueWith(_ => { }, TaskScheduler.Default);
        if (_ownsClient) await _client.DisposeAsync();
    }
}

/// <summary>
/// Pushes the frames of one sensor stream. Seqs are assigned in push order unless a whole <see cref="Frame"/> is given.
/// A frame the session would surely refuse (its payload's size or values against the stream's spec, its event time
/// against the session clock) is refused at push with a <see cref="FrameRefusedException"/>: nothing is held or sent.
/// </summary>
public sealed class SensorStream
{
    /// <summary>
    /// How far past the spec's <see cref="StreamSpec.MaxFutureSkewUs"/> ahead of this client's session clock an event
    /// time is still sent: the node's estimate of the client's clock may run ahead of it by the network's delay.
    /// Beyond it the node would refuse the frame as too far in the future.
    /// </summary>
    public const long FutureSlackUs = 1_000_000;

    private readonly FusionSession _session;
    private readonly StreamSpec _spec;
    private readonly int _maxPayloadBytes;

    internal SensorStream(FusionSession session, StreamSpec spec, int maxBatchBytes)
    {
        _session = session;
        _spec = spec;
        StreamId = spec.StreamId;
        // A frame travels in a batch of at most maxBatchBytes: its payload, and its header with a traceparent, must fit.
        var header = FrameSerializer.BatchedBytes(new Frame(session.SessionId, StreamId, 0, 0, [])) + 1 + W3CTraceContext.Length;
        _maxPayloadBytes = Math.Min(spec.MaxFrameBytes, maxBatchBytes - header);
    }

    public string StreamId { get; }

    /// <summary>
    /// Sends one frame stamped <paramref name="eventTimeUs"/> on the session clock, with the next seq, and
    /// returns the seq. Waits while the session holds its maximum of uncommitted frames (back-pressure).
    /// The payload array is held until the frame is committed: do not reuse it.
    /// </summary>
    /// <exception cref="FrameTooLargeException">The payload could never be taken (before any seq is given).</exception>
    /// <exception cref="FrameRefusedException">The session would refuse the frame (before any seq is given).</exception>
    public ValueTask<long> PushAsync(float[] payload, long eventTimeUs, CancellationToken cancel = default)
    {
        Check(payload, eventTimeUs);
        if (ClientTracing.Source.HasListeners()) return PushTracedAsync(payload, eventTimeUs, cancel);
        return _session.HoldNextAsync(StreamId, eventTimeUs, payload, null, cancel);
    }

    // The push span covers the wait for room (back-pressure) and carries the seq it was given.
    private async ValueTask<long> PushTracedAsync(float[] payload, long eventTimeUs, CancellationToken cancel)
    {
        using var activity = ClientTracing.StartPush(_session.SessionId, StreamId);
        var trace = ClientTracing.TraceParentOf(activity);
        var seq = await _session.HoldNextAsync(StreamId, eventTimeUs, payload, trace, cancel);
        activity?.SetTag("fusion.frame.seq", seq);
        return seq;
    }

    /// <summary>Sends a frame whose seq the caller chose (a sensor that numbers its own frames, or sends them out of order).</summary>
    /// <exception cref="FrameTooLargeException">The payload could never be taken.</exception>
    /// <exception cref="FrameRefusedException">The session would refuse the frame (a negative seq, among others).</exception>
    public ValueTask PushAsync(Frame frame, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(frame);
        if (frame.SessionId != _session.SessionId || frame.StreamId != StreamId)
            throw new ArgumentException($"frame of {frame.SessionId}/{frame.StreamId} pushed to {_session.SessionId}/{StreamId}", nameof(frame));
        Check(frame.Payload, frame.EventTimeUs);
        if (frame.Seq < 0) throw new FrameRefusedException(StreamId, RejectReason.SeqOutOfRange, $"seq {frame.Seq} is negative");
        if (frame.TraceParent is null && ClientTracing.Source.HasListeners()) return PushTracedAsync(frame, cancel);
        return _session.HoldAsync(frame, cancel);
    }

    private async ValueTask PushTracedAsync(Frame frame, CancellationToken cancel)
    {
        using var activity = ClientTracing.StartPush(_session.SessionId, StreamId);
        activity?.SetTag("fusion.frame.seq", frame.Seq);
        await _session.HoldAsync(frame with { TraceParent = ClientTracing.TraceParentOf(activity) }, cancel);
    }

    /// <summary>What the node checks of every frame (FrameValidator) that this client can know: refused here, before a seq is used.</summary>
    private void Check(float[] payload, long eventTimeUs)
    {
        ArgumentNullException.ThrowIfNull(payload);
        if ((long)payload.Length * sizeof(float) > _maxPayloadBytes)
            throw new FrameTooLargeException(StreamId, payload.Length * (long)sizeof(float), _maxPayloadBytes);
        if (payload.Length != _spec.FrameLength)
            throw new FrameRefusedException(StreamId, RejectReason.WrongPayloadSize, $"payload has {payload.Length} values, the stream declares {_spec.FrameLength}");
        if (FirstNonFinite(payload) is var bad and >= 0)
            throw new FrameRefusedException(StreamId, RejectReason.NotFinite, $"value {bad} is {payload[bad]}");
        CheckTime(eventTimeUs, "event time");
    }

    private void CheckTime(long timeUs, string what)
    {
        var now = _session.NowUs;
        if (timeUs > now + _spec.MaxFutureSkewUs + FutureSlackUs)
            throw new FrameRefusedException(StreamId, RejectReason.TooFarInFuture,
                $"{what} {timeUs}us is {timeUs - now}us ahead of the session clock (maxFutureSkew {_spec.MaxFutureSkewUs}us)");
    }

    /// <summary>The index of the first NaN or infinity, or -1: a float is one when all its exponent bits are set.</summary>
    internal static int FirstNonFinite(ReadOnlySpan<float> values)
    {
        var bits = MemoryMarshal.Cast<float, int>(values);
        var i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var exponent = new Vector<int>(0x7F80_0000);
            for (; i <= bits.Length - Vector<int>.Count; i += Vector<int>.Count)
                if (Vector.EqualsAny(new Vector<int>(bits[i..]) & exponent, exponent)) break; // the scalar loop finds which
        }
        for (; i < bits.Length; i++)
            if ((bits[i] & 0x7F80_0000) == 0x7F80_0000) return i;
        return -1;
    }

    /// <summary>
    /// Promises no frame at or before <paramref name="watermarkUs"/> will follow (lets windows close while the sensor is quiet).
    /// </summary>
    /// <exception cref="FrameRefusedException">The watermark is further ahead of the session clock than the node takes.</exception>
    public void Heartbeat(long watermarkUs)
    {
        CheckTime(watermarkUs, "heartbeat watermark");
        _session.SendUnheld(new StreamHeartbeat(_session.SessionId, StreamId, watermarkUs));
    }

    /// <summary>Ends the stream: its watermark becomes +infinity once every frame before the close is in.</summary>
    public ValueTask CompleteAsync(CancellationToken cancel = default) => _session.HoldAsync(new CloseStream(_session.SessionId, StreamId), cancel);
}

/// <summary>
/// A frame the session would surely refuse, refused at push: <see cref="Reason"/> is the rejection the node would have
/// answered (<see cref="RejectReason"/>). Nothing was held or sent, and no seq was used.
/// </summary>
public class FrameRefusedException(string streamId, RejectReason reason, string detail)
    : ArgumentException($"stream '{streamId}': frame refused ({reason}): {detail}")
{
    public string StreamId { get; } = streamId;

    public RejectReason Reason { get; } = reason;
}

/// <summary>
/// A frame that could never reach the session: bigger than its stream's <c>MaxFrameBytes</c> or than fits in a batch of
/// the client's <see cref="FusionClientOptions.MaxBatchBytes"/>. Nothing was held or sent, and no seq was used.
/// </summary>
public sealed class FrameTooLargeException(string streamId, long bytes, int limit)
    : FrameRefusedException(streamId, RejectReason.PayloadTooLarge, $"a frame of {bytes} bytes is over the limit of {limit} bytes");

/// <summary>A session could not be opened or used (refused by the server, unreachable cluster, timed out).</summary>
public class FusionSessionException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Another writer opened the session (a higher writer epoch): this one may not write to it any more.</summary>
public sealed class FusionSessionFencedException(string message, long epoch, long currentEpoch) : FusionSessionException(message)
{
    /// <summary>This writer's epoch.</summary>
    public long Epoch { get; } = epoch;

    /// <summary>The epoch of the writer that fenced it.</summary>
    public long CurrentEpoch { get; } = currentEpoch;
}
