using System.Collections.Concurrent;
using FusionActors.Core.Specs;
using FusionActors.Inference;
using FusionActors.Protocol.Specs;
using FusionActors.Runtime.Metrics;

namespace FusionActors.Runtime.Encoders;

/// <summary>
/// Resolves models of the node's <see cref="ModelRegistry"/> (one InferenceSession per model per process),
/// plus the built-in <c>noop</c> encoder (for benchmarks of the actor path without inference).
/// </summary>
/// <param name="drift">How the streams of models with drift parameters watch their input drift (default <see cref="DriftOptions"/>' defaults).</param>
public sealed class RegistryEncoderProvider(ModelRegistry? registry, DriftOptions? drift = null) : IEncoderProvider
{
    public const string NoOpModel = "noop";
    private const int MaxCachedNoOps = 64;
    private readonly ConcurrentDictionary<(int, int), NoOpEncoder> _noops = new();
    private readonly Lazy<FusionActors.Core.Fusion.FusionModels> _fusion = new(() =>
        registry is null ? FusionActors.Core.Fusion.FusionModels.None : FusionActors.Runtime.Fusion.FusionModelsFile.LoadBeside(registry.Catalog.Path));

    /// <summary>models/fusion.json beside the registry's models.json, read on first use (none without a registry or a file).</summary>
    public FusionActors.Core.Fusion.FusionModels Fusion => _fusion.Value;

    public ResolvedEncoder Resolve(StreamSpec stream, int classCount) => Resolve(stream, classCount, null);

    public ResolvedEncoder Resolve(StreamSpec stream, IReadOnlyList<string> labels) => Resolve(stream, labels.Count, labels);

    private ResolvedEncoder Resolve(StreamSpec stream, int classCount, IReadOnlyList<string>? labels)
    {
        if (stream.Model == NoOpModel)
        {
            // Shapes come from clients' specs: beyond a few, each session gets its own (the cache stays bounded).
            var key = (stream.InputLength, classCount);
            var noop = _noops.TryGetValue(key, out var cached) ? cached
                : _noops.Count < MaxCachedNoOps ? _noops.GetOrAdd(key, k => new NoOpEncoder(k.Item1, k.Item2))
                : new NoOpEncoder(key.InputLength, key.classCount);
            return new ResolvedEncoder(noop, 1.0) { Model = NoOpModel };
        }
        if (registry is null || !registry.Catalog.TryGet(stream.Model, out var listed))
            throw new UnknownModelException($"stream '{stream.StreamId}': model '{stream.Model}' is not in the node's models.json");
        if (stream.ModelVersion is null && listed.Input.Length != stream.InputLength) throw WrongLength(stream, listed);
        // Read before the use is counted: a reload after it moves the generation on, and the stream looks again.
        var generation = registry.Generation;
        OnnxEncoder? encoder;
        // A model file that is missing, does not load or does not match its declaration refuses the session, naming
        // the model; the node and its other sessions carry on (the failed open is not cached: a fixed file is picked up).
        try { encoder = registry.Use(stream.Model, stream.ModelVersion); }
        catch (KeyNotFoundException) { throw new UnknownModelException($"stream '{stream.StreamId}': model '{stream.Model}' is not in the node's models.json"); }
        catch (Exception e) when (e is InvalidDataException or FileNotFoundException or Microsoft.ML.OnnxRuntime.OnnxRuntimeException)
        {
            throw new UnknownModelException($"stream '{stream.StreamId}': model '{stream.Model}' cannot be opened: {e.Message}");
        }
        // A pinned version other than the current one: only an encoder a reload replaced, still open, has it.
        if (encoder is null)
            throw new UnknownModelException($"stream '{stream.StreamId}': model '{stream.Model}' version '{stream.ModelVersion}' is not on this node (it serves '{listed.Version}')");
        var use = new ModelUse(registry, encoder, follows: stream.ModelVersion is null, generation);
        try { return Check(stream, classCount, labels, encoder, use); }
        catch
        {
            use.Release();
            throw;
        }
    }

    private static UnknownModelException WrongLength(StreamSpec stream, ModelSpec spec) => new(
        $"stream '{stream.StreamId}': model '{stream.Model}' takes {spec.Input.Length} values per input, the stream's framing makes {stream.InputLength}");

    // The spec is the encoder's own: a reload between reading the catalog and counting the use cannot mix two versions.
    private ResolvedEncoder Check(StreamSpec stream, int classCount, IReadOnlyList<string>? labels, OnnxEncoder encoder, ModelUse use)
    {
        var spec = encoder.Spec;
        if (spec.Input.Length != stream.InputLength) throw WrongLength(stream, spec);
        LabelMap? map = null;
        if (classCount > 0 && spec.ClassCount > 0)
        {
            if (labels is null)
            {
                if (spec.ClassCount != classCount)
                    throw new UnknownModelException($"stream '{stream.StreamId}': model '{stream.Model}' has {spec.ClassCount} classes, the session has {classCount} labels");
            }
            else
            {
                try { map = LabelMap.Create(spec, labels); }
                catch (ArgumentException e) { throw new UnknownModelException($"stream '{stream.StreamId}': {e.Message}"); }
                if (map.IsIdentity) map = null;
            }
        }
        return new ResolvedEncoder(encoder, spec.Temperature,
            new FusionActors.Core.Streams.ValueRange(spec.Input.Min, spec.Input.Max, OnnxEncoder.RangeTolerance,
                // Payload values reach an integer-typed graph input as they are: fractions are refused at intake.
                Integral: spec.Input.ElementType != TensorElementKind.Float32 && spec.Input.Transforms.Count == 0 && spec.FrontEnd is null), spec.Drift)
        {
            DriftMonitoring = spec.Drift is null ? null : drift ?? new DriftOptions(),
            Labels = map,
            Model = encoder.Tag,
            Use = use,
            Renew = use.Follows ? () => Resolve(stream, classCount, labels) : null,
        };
    }
}
