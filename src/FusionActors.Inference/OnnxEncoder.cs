using System.Buffers;
using Microsoft.ML.OnnxRuntime;

namespace FusionActors.Inference;

/// <summary>
/// An <see cref="IEncoder"/> over one ONNX model: one <see cref="InferenceSession"/>, shared by all callers.
/// A batch is validated, copied into one pooled [N, ...] tensor and run once. Thread-safe.
/// </summary>
public sealed class OnnxEncoder : IEncoder, IDisposable
{
    /// <summary>How far outside [min, max] a value may lie before it is refused (absorbs rounding of converted PCM/pixels).</summary>
    public const float RangeTolerance = 1e-3f;

    private readonly InferenceSession _session;
    private readonly string[] _inputNames;
    private readonly string[] _outputNames;
    private readonly long[] _innerShape;
    private volatile bool _disposed;

    /// <summary>Opens the model of <paramref name="spec"/>; checks that the graph has the input and outputs the spec names.</summary>
    /// <param name="spec">The model.</param>
    /// <param name="options">Session options; default: one intra-op thread (the actor system provides parallelism), all graph optimisations.</param>
    public OnnxEncoder(ModelSpec spec, SessionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (!File.Exists(spec.FilePath))
            throw new FileNotFoundException($"ONNX file of model '{spec.Name}' not found: {spec.FilePath}", spec.FilePath);
        Spec = spec;
        var owned = options is null;
        options ??= DefaultOptions();
        try
        {
            _session = new InferenceSession(spec.FilePath, options);
        }
        finally
        {
            if (owned)
                options.Dispose();
        }

        try
        {
            CheckGraph(spec, _session);
        }
        catch
        {
            _session.Dispose();
            throw;
        }

        _inputNames = [spec.Input.Name];
        _outputNames = spec.Logits is null ? [spec.Embedding.Name] : [spec.Embedding.Name, spec.Logits.Name];
        _innerShape = spec.Input.Shape.Skip(1).Select(d => (long)d).ToArray();
    }

    public ModelSpec Spec { get; }

    public string Name => Spec.Name;

    public int InputLength => Spec.Input.Length;

    public int EmbeddingLength => Spec.Embedding.Size;

    public int ClassCount => Spec.ClassCount;

    /// <summary>The session options used when none are given: IntraOpNumThreads=1, sequential, ORT_ENABLE_ALL.</summary>
    public static SessionOptions DefaultOptions() => new()
    {
        IntraOpNumThreads = 1,
        InterOpNumThreads = 1,
        ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
    };

    public IReadOnlyList<EncoderOutput> Encode(IReadOnlyList<ReadOnlyMemory<float>> inputs)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        EncoderInputValidation.Validate(Name, inputs, InputLength, Spec.Input.Min, Spec.Input.Max, RangeTolerance);

        var n = inputs.Count;
        var length = InputLength;
        var total = n * length;
        // The batch tensor is the big allocation (64 KB per second of audio): rent it instead.
        var buffer = ArrayPool<float>.Shared.Rent(total);
        try
        {
            for (var i = 0; i < n; i++)
                inputs[i].Span.CopyTo(buffer.AsSpan(i * length, length));
            var shape = new long[_innerShape.Length + 1];
            shape[0] = n;
            _innerShape.CopyTo(shape, 1);
            using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance,
                buffer.AsMemory(0, total), shape);
            using var runOptions = new RunOptions();
            using var results = _session.Run(runOptions, _inputNames, [input], _outputNames);
            var embeddings = Rows(results[0], n, EmbeddingLength, Spec.Embedding.Name);
            var logits = Spec.Logits is null ? null : Rows(results[1], n, ClassCount, Spec.Logits.Name);
            var outputs = new EncoderOutput[n];
            for (var i = 0; i < n; i++)
                outputs[i] = new EncoderOutput(embeddings[i], logits?[i] ?? []);
            return outputs;
        }
        finally
        {
            ArrayPool<float>.Shared.Return(buffer);
        }
    }

    /// <summary>Encodes one input; same checks as <see cref="Encode(IReadOnlyList{ReadOnlyMemory{float}})"/>.</summary>
    public EncoderOutput Encode(ReadOnlyMemory<float> input) => Encode([input])[0];

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        _session.Dispose();
    }

    private float[][] Rows(OrtValue value, int n, int size, string name)
    {
        var data = value.GetTensorDataAsSpan<float>();
        if (data.Length != n * size)
            throw new InvalidOperationException(
                $"model '{Name}': output '{name}' has {data.Length} values for a batch of {n}, expected {n * size}");
        var rows = new float[n][];
        for (var i = 0; i < n; i++)
            rows[i] = data.Slice(i * size, size).ToArray();
        return rows;
    }

    private static void CheckGraph(ModelSpec spec, InferenceSession session)
    {
        if (!session.InputMetadata.TryGetValue(spec.Input.Name, out var input))
            throw new InvalidDataException(
                $"model '{spec.Name}' ({spec.FilePath}) has no input '{spec.Input.Name}'; it has: {string.Join(", ", session.InputMetadata.Keys)}");
        if (session.InputMetadata.Count != 1)
            throw new InvalidDataException($"model '{spec.Name}' has {session.InputMetadata.Count} inputs; encoders take exactly one");
        var dims = input.Dimensions;
        var expected = spec.Input.Shape;
        var matches = dims.Length == expected.Count && dims.Skip(1).Zip(expected.Skip(1)).All(p => p.First == p.Second);
        if (!matches)
            throw new InvalidDataException(
                $"model '{spec.Name}': graph input '{spec.Input.Name}' has shape [{string.Join(",", dims)}], models.json says [{string.Join(",", expected)}]");
        foreach (var output in spec.Logits is null ? [spec.Embedding] : new[] { spec.Embedding, spec.Logits })
        {
            if (!session.OutputMetadata.TryGetValue(output.Name, out var meta))
                throw new InvalidDataException(
                    $"model '{spec.Name}' has no output '{output.Name}'; it has: {string.Join(", ", session.OutputMetadata.Keys)}");
            var last = meta.Dimensions.Length > 0 ? meta.Dimensions[^1] : -1;
            if (last > 0 && last != output.Size)
                throw new InvalidDataException(
                    $"model '{spec.Name}': output '{output.Name}' has {last} values per input, models.json says {output.Size}");
        }
    }
}
