using System.Diagnostics;
using Akka.Actor;
using FusionActors.Core.Fusion;
using FusionActors.Core.Streams;
using FusionActors.Inference;
using FusionActors.Inference.Drift;
using FusionActors.Protocol;
using FusionActors.Runtime.Alignment;
using FusionActors.Runtime.Encoders;
using FusionActors.Runtime.Encoders.Chaos;
using FusionActors.Runtime.Fusion;
using FusionActors.Runtime.Gateway;
using FusionActors.Runtime.Metrics;
using FusionActors.Runtime.Sessions;

namespace FusionActors.Runtime.Streams;

/// <summary>
/// Runs a stream's model on batches of encoder inputs and answers with calibrated evidence.
/// It may crash; its parent, the <see cref="StreamActor"/>, stops it and restarts it with backoff.
/// Runs on the encoder dispatcher so blocking inference never starves the message-moving actors.
/// </summary>
public sealed class EncoderActor : UntypedActor
{
    public const string DispatcherId = "fusion.encoder-dispatcher";

    private readonly IEncoder _encoder;
    private readonly double _temperature;
    private readonly DriftModel? _drift;
    private readonly string _modality;
    private readonly List<ReadOnlyMemory<float>> _batch = [];
    private bool _crashNext;

    public EncoderActor(ResolvedEncoder encoder, string modality)
    {
        _encoder = encoder.Encoder;
        _temperature = encoder.Temperature;
        _drift = encoder.Drift;
        _modality = modality;
    }

    protected override void OnReceive(object message)
    {
        if (Unadmitted.Drop(message, Context)) return;
        switch (message)
        {
            case Encode e: Handle(e); break;
            case CrashNext: _crashNext = true; break;
            default: Unhandled(message); break;
        }
    }

    public static Props Props(ResolvedEncoder encoder, string modality) =>
        ActorFactory.Props(() => new EncoderActor(encoder, modality));

    private void Handle(Encode msg)
    {
        if (_crashNext)
        {
            _crashNext = false;
            throw new EncoderCrashedException($"injected crash of encoder '{_encoder.Name}' (chaos crash-encoder)");
        }
        using var activity = FusionTracing.StartEncode(Self, msg.Inputs);
        var started = Stopwatch.GetTimestamp();
        // One list for every batch: encoders read their inputs during Encode and keep nothing.
        _batch.Clear();
        for (var i = 0; i < msg.Inputs.Count; i++) _batch.Add(msg.Inputs[i].Values);
        var outputs = _encoder.Encode(_batch);
        var evidence = new Evidence[outputs.Count];
        for (var i = 0; i < outputs.Count; i++)
        {
            var input = msg.Inputs[i];
            var logits = outputs[i].Logits;
            evidence[i] = new Evidence(input.StreamId, _modality, input.StartUs, input.EndUs, outputs[i].Embedding,
                logits.Length > 0 ? Probabilities.LogSoftmax(logits, _temperature) : [], input.Coverage, input.LastSeq, input.Revision, input.ContentEndUs,
                _drift?.Score(outputs[i]) ?? double.NaN);
        }
        Sender.Tell(new Encoded(msg.BatchId, evidence, Stopwatch.GetElapsedTime(started).TotalMilliseconds));
    }

    /// <summary>Encode a batch; exactly one <see cref="Encoded"/> answers it, or the encoder dies trying.</summary>
    public sealed record Encode(long BatchId, IReadOnlyList<EncoderInput> Inputs);

    public sealed record Encoded(long BatchId, IReadOnlyList<Evidence> Evidence, double Millis);

    /// <summary>Chaos: throw on the next batch.</summary>
    public sealed record CrashNext
    {
        public static readonly CrashNext Instance = new();
    }
}
