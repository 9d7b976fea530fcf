using System.Diagnostics;
using System.Runtime.InteropServices;
using Akka.Actor;
using FusionActors.Core.Fusion;
using FusionActors.Core.Streams;
using FusionActors.Inference;
using FusionActors.Inference.Drift;
using FusionActors.Protocol;
using FusionActors.Runtime.Alignment;
using FusionActors.Runtime.Encoders;
using FusionActors.Runtime.Encoders.Batching;
using FusionActors.Runtime.Encoders.Chaos;
using FusionActors.Runtime.Fusion;
using FusionActors.Runtime.Gateway;
using FusionActors.Runtime.Metrics;
using FusionActors.Runtime.Sessions;

namespace FusionActors.Runtime.Streams;

/// <summary>
/// Runs a stream's model on batches of encoder inputs and answers with calibrated evidence.
/// It may crash; its parent, the <see cref="StreamActor"/>, stops it and restarts it with backoff.
/// Runs on the encoder dispatcher so blocking inference never starves the message-moving actors. On a node with
/// a batcher (<see cref="EncoderBatcher"/>) it runs no model itself: it hands each batch to the batcher, which
/// runs it in shared calls with other sessions' inputs, and answers (or crashes) when the batcher has.
/// </summary>
public sealed class EncoderActor : UntypedActor
{
    public const string DispatcherId = "fusion.encoder-dispatcher";

    private readonly IEncoder _encoder;
    private readonly double _temperature;
    private readonly DriftModel? _drift;
    private readonly string _modality;
    private readonly List<ReadOnlyMemory<float>> _batch = [];
    private readonly EncoderBatcher? _batcher;
    private readonly string _session;
    private readonly Dictionary<long, (EncodeRequest Request, Activity? Activity)> _submitted = [];
    private bool _crashNext;
    private readonly LabelMap? _labels;
    private readonly EncoderStream? _stream;
    private readonly string? _model;

    public EncoderActor(ResolvedEncoder encoder, string modality, string session = "")
    {
        _encoder = encoder.Encoder;
        _temperature = encoder.Temperature;
        _drift = encoder.Drift;
        _modality = modality;
        _labels = encoder.Labels;
        _model = encoder.Model;
        // A stateful model's state belongs to this actor: a restarted encoder starts from the initial state, and
        // the stream's inputs run here in order (never through the batcher, which mixes sessions' inputs).
        _stream = encoder.Stateful ? ((OnnxEncoder)encoder.Encoder).OpenStream() : null;
        _batcher = _stream is null ? encoder.Node?.Batcher : null;
        _session = session;
    }

    protected override void OnReceive(object message)
    {
        if (Unadmitted.Drop(message, Context)) return;
        switch (message)
        {
            case Encode e: Handle(e); break;
            case Batched b: OnBatched(b); break;
            case CrashNext: _crashNext = true; break;
            default: Unhandled(message); break;
        }
    }

    public static Props Props(ResolvedEncoder encoder, string modality, string session = "") =>
        ActorFactory.Props(() => new EncoderActor(encoder, modality, session));

    // A stopped encoder (a restart, a missed deadline) gives up what it had handed to the batcher.
    protected override void PostStop()
    {
        _stream?.Dispose();
        foreach (var (request, activity) in _submitted.Values)
        {
            _batcher!.Cancel(request);
            StopDetached(activity);
        }
        _submitted.Clear();
    }

    private void Handle(Encode msg)
    {
        if (_crashNext)
        {
            _crashNext = false;
            throw new EncoderCrashedException($"injected crash of encoder '{_encoder.Name}' (chaos crash-encoder)");
        }
        if (_batcher is not null)
        {
            Submit(msg);
            return;
        }
        using var activity = FusionTracing.StartEncode(Self, msg.Inputs, _modality, msg.PushTrace, _session);
        var started = Stopwatch.GetTimestamp();
        // One list for every batch: encoders read their inputs during Encode and keep nothing.
        _batch.Clear();
        for (var i = 0; i < msg.Inputs.Count; i++) _batch.Add(msg.Inputs[i].Values);
        var outputs = _stream is not null ? _stream.Encode(_batch) : _encoder.Encode(_batch);
        Sender.Tell(new Encoded(msg.BatchId, EvidenceOf(msg.Inputs, outputs, activity), Stopwatch.GetElapsedTime(started).TotalMilliseconds));
    }

    private void Submit(Encode msg)
    {
        var self = Self;
        var replyTo = Sender;
        var started = Stopwatch.GetTimestamp();
        // The encode span covers the wait in the batcher and the shared call; it is not the thread's current activity
        // meanwhile, since other messages run on this thread before the batcher answers.
        var previous = Activity.Current;
        var activity = FusionTracing.StartEncode(Self, msg.Inputs, _modality, msg.PushTrace, _session);
        Activity.Current = previous;
        var request = _batcher!.Submit(_encoder, _session, msg.Inputs,
            r => self.Tell(new Batched(msg.BatchId, r, replyTo, Stopwatch.GetElapsedTime(started).TotalMilliseconds)), alone: msg.Retry,
            trace: activity);
        _submitted[msg.BatchId] = (request, activity);
    }

    private static void StopDetached(Activity? activity) => FusionTracing.StopDetached(activity);

    private void OnBatched(Batched b)
    {
        if (!_submitted.Remove(b.BatchId, out var submitted)) return;
        if (submitted.Activity is { } activity && b.Request.BatchSpan is { } call) activity.AddLink(new ActivityLink(call.Context));
        StopDetached(submitted.Activity);
        // A failure is this encoder's crash, as if it had run the model itself: its stream restarts it and retries.
        if (b.Request.Error is { } error) throw new EncoderCrashedException($"encoder '{_encoder.Name}' failed: {error.GetType().Name}: {error.Message}");
        b.ReplyTo.Tell(new Encoded(b.BatchId, EvidenceOf(b.Request.Inputs, b.Request.Outputs, submitted.Activity), b.Millis));
    }

    /// <param name="trace">The encode span (null when not traced): every window the evidence goes into links to it.</param>
    private Evidence[] EvidenceOf(IReadOnlyList<EncoderInput> inputs, IReadOnlyList<EncoderOutput> outputs, Activity? trace)
    {
        var evidence = new Evidence[outputs.Count];
        for (var i = 0; i < outputs.Count; i++)
        {
            var input = inputs[i];
            var logits = outputs[i].Logits;
            evidence[i] = new Evidence(input.StreamId, _modality, input.StartUs, input.EndUs, outputs[i].Embedding,
                LogProbsOf(logits), input.Coverage, input.LastSeq, input.Revision, input.ContentEndUs,
                _drift?.Score(outputs[i]) ?? double.NaN) { EncodeSpan = trace, Model = _model };
        }
        return evidence;
    }

    /// <summary>
    /// The calibrated log-probabilities of <paramref name="logits"/>. Evidence is immutable, so inputs whose logits are
    /// equal to the previous ones' (value for value: a constant model, a frozen sensor) share one array: the same
    /// function of the same values, computed once. Any other logits get an array of their own.
    /// </summary>
    private double[] LogProbsOf(float[] logits)
    {
        if (logits.Length == 0) return [];
        // Bit for bit (not float equality, which takes -0 for 0): the result is then bit for bit the same too.
        if (_lastLogProbs is not null && MemoryMarshal.AsBytes(logits.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(_lastLogits.AsSpan()))) return _lastLogProbs;
        var logProbs = _labels is not null ? _labels.LogProbs(logits, _temperature) : Probabilities.LogSoftmax(logits, _temperature);
        if (_lastLogits.Length != logits.Length) _lastLogits = new float[logits.Length];
        logits.AsSpan().CopyTo(_lastLogits);
        return _lastLogProbs = logProbs;
    }

    private float[] _lastLogits = [];
    private double[]? _lastLogProbs;

    /// <summary>Encode a batch; exactly one <see cref="Encoded"/> answers it, or the encoder dies trying.</summary>
    /// <param name="Retry">An input retried alone after a failure: the batcher runs it in a call shared with no other session.</param>
    public sealed record Encode(long BatchId, IReadOnlyList<EncoderInput> Inputs, bool Retry = false)
    {
        /// <summary>The traceparent of the latest traced frame its stream took (the client's push span): the encode span's parent.</summary>
        public string? PushTrace { get; init; }
    }

    public sealed record Encoded(long BatchId, IReadOnlyList<Evidence> Evidence, double Millis);

    /// <summary>The batcher ended a request of this encoder (encoded or failed).</summary>
    private sealed record Batched(long BatchId, EncodeRequest Request, IActorRef ReplyTo, double Millis);

    /// <summary>Chaos: throw on the next batch.</summary>
    public sealed record CrashNext
    {
        public static readonly CrashNext Instance = new();
    }
}
