using System.Diagnostics;
using FusionActors.Core.Streams;
using FusionActors.Inference;

namespace FusionActors.Runtime.Encoders.Batching;

/// <summary>
/// One stream's batch handed to the node's <see cref="EncoderBatcher"/>: its inputs, in order, answered whole. The
/// batcher may spread them over several model calls, next to other sessions' inputs; <see cref="Outputs"/> keeps
/// them in the request's order. It ends exactly once: encoded, failed (<see cref="Error"/>) or cancelled.
/// </summary>
public sealed class EncodeRequest
{
    private const int Waiting = 0, Encoded = 1, Failed = 2, Cancelled = 3;
    private readonly Action<EncodeRequest>? _onDone;
    private int _state;
    private int _encoded;

    /// <param name="session">The lane it is scheduled in: inputs of one session share one turn of the round-robin.</param>
    /// <param name="onDone">Called once, on a batcher thread, when the request is encoded or failed (not when cancelled).</param>
    public EncodeRequest(IEncoder encoder, string session, IReadOnlyList<EncoderInput> inputs, long enqueuedTicks, Action<EncodeRequest>? onDone = null)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Count == 0) throw new ArgumentException("a request holds at least one input", nameof(inputs));
        Encoder = encoder;
        Session = session;
        Inputs = inputs;
        EnqueuedTicks = enqueuedTicks;
        Outputs = new EncoderOutput[inputs.Count];
        _onDone = onDone;
    }

    public IEncoder Encoder { get; }

    /// <summary>The submitting stream's <c>encode</c> span, when traced (else null): the <c>encode.batch</c> spans of its calls link to it.</summary>
    public Activity? Span { get; init; }

    /// <summary>The <c>encode.batch</c> span of the latest traced call that ran its inputs (null when none was traced).</summary>
    public Activity? BatchSpan { get; internal set; }

    public string Session { get; }

    public IReadOnlyList<EncoderInput> Inputs { get; }

    /// <summary>The model's output per input, in the order of <see cref="Inputs"/>; complete once <see cref="IsEncoded"/>.</summary>
    public EncoderOutput[] Outputs { get; }

    /// <summary>Why the request failed: the exception of the model call that ran its inputs without any other request's.</summary>
    public Exception? Error { get; private set; }

    /// <summary>Stopwatch ticks: when it was submitted, and when its first input went into a model call (0 until then).</summary>
    public long EnqueuedTicks { get; }

    public long StartedTicks { get; internal set; }

    public bool IsEncoded => Volatile.Read(ref _state) == Encoded;

    public bool IsFailed => Volatile.Read(ref _state) == Failed;

    /// <summary>Neither encoded, failed nor cancelled yet.</summary>
    public bool IsWaiting => Volatile.Read(ref _state) == Waiting;

    /// <summary>
    /// Calls of its model formed after it was submitted and before the one that took its first input: how many turns
    /// it waited. With round-robin this stays below the number of threads while fewer sessions wait than a call holds.
    /// </summary>
    public long CallsWaited { get; internal set; }

    internal long CallsAtEnqueue { get; set; }

    /// <summary>Inputs already taken into model calls (scheduler state, under the batcher's lock).</summary>
    internal int Taken { get; set; }

    /// <summary>Stores outputs of <paramref name="count"/> inputs from <paramref name="offset"/>; true when that completed the request.</summary>
    internal bool Deliver(IReadOnlyList<EncoderOutput> outputs, int from, int offset, int count)
    {
        if (!IsWaiting) return false;
        for (var i = 0; i < count; i++) Outputs[offset + i] = outputs[from + i];
        if (Interlocked.Add(ref _encoded, count) != Inputs.Count) return false;
        if (Interlocked.CompareExchange(ref _state, Encoded, Waiting) != Waiting) return false;
        _onDone?.Invoke(this);
        return true;
    }

    /// <summary>Fails the request with <paramref name="error"/>; false when it had ended already.</summary>
    internal bool Fail(Exception error)
    {
        if (Interlocked.CompareExchange(ref _state, Failed, Waiting) != Waiting) return false;
        Error = error;
        _onDone?.Invoke(this);
        return true;
    }

    /// <summary>Its submitter gave it up (its encoder child stopped): nothing is called back; false when it had ended already.</summary>
    internal bool MarkCancelled() => Interlocked.CompareExchange(ref _state, Cancelled, Waiting) == Waiting;
}

/// <summary>Inputs <c>[Offset, Offset + Count)</c> of a request, in one model call.</summary>
public readonly record struct BatchSlice(EncodeRequest Request, int Offset, int Count);
