using System.Buffers;
using Microsoft.ML.OnnxRuntime;

namespace FusionActors.Inference;

/// <summary>
/// An <see cref="IEncoder"/> over one ONNX model (and its optional front-end): one <see cref="InferenceSession"/> per
/// graph, shared by all callers. A batch is validated, transformed as models.json declares (<see cref="InputTransform"/>),
/// bound with the model's further inputs (<see cref="ModelInputBinding"/>), run once, and its outputs are pooled and
/// read per input (<see cref="ModelOutputReader"/>). A stateful model (a recurrent state input) runs through an
/// <see cref="EncoderStream"/> per stream, one input after the other. Thread-safe.
/// </summary>
public sealed class OnnxEncoder : IEncoder, IDisposable
{
    /// <summary>How far outside [min, max] a value may lie before it is refused (absorbs rounding of converted PCM/pixels).</summary>
    public const float RangeTolerance = 1e-3f;

    private readonly InferenceSession _session;
    private readonly InferenceSession? _frontEnd;
    private readonly ModelInputBinding _binding;
    private readonly ModelOutputReader _outputs;
    private readonly int[] _payloadShape;
    private readonly int[] _modelItemShape;
    private readonly bool _plain;
    private volatile bool _disposed;
    private int _running; // calls inside the native session: Dispose releases it only when the last one has left
    private int _released;

    /// <summary>Opens the model of <paramref name="spec"/>; checks that the graphs have the inputs and outputs the spec declares.</summary>
    /// <param name="spec">The model.</param>
    /// <param name="options">Session options; default: one intra-op thread (the actor system provides parallelism), all graph optimisations.</param>
    /// <exception cref="FileNotFoundException">a model file is missing.</exception>
    /// <exception cref="InvalidDataException">a graph does not match the declaration (the message names the model and the field).</exception>
    public OnnxEncoder(ModelSpec spec, SessionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        Spec = spec;
        Tag = $"{spec.Name}@{spec.Version}";
        _payloadShape = spec.Input.Shape.Skip(1).ToArray();
        var owned = options is null;
        options ??= DefaultOptions();
        try
        {
            _frontEnd = spec.FrontEnd is { } fe ? Open(spec, fe.FilePath, options) : null;
            try
            {
                _session = Open(spec, spec.FilePath, options);
            }
            catch
            {
                _frontEnd?.Dispose();
                throw;
            }
        }
        finally
        {
            if (owned)
                options.Dispose();
        }

        try
        {
            _modelItemShape = ModelGraphCheck.Check(spec, _session, _frontEnd, _payloadShape);
            _binding = new ModelInputBinding(spec);
            _outputs = new ModelOutputReader(spec);
        }
        catch
        {
            _session.Dispose();
            _frontEnd?.Dispose();
            throw;
        }

        _plain = _frontEnd is null && spec.Input.Transforms.Count == 0 && spec.Input.ElementType == TensorElementKind.Float32;
    }

    public ModelSpec Spec { get; }

    public string Name => Spec.Name;

    /// <summary><c>name@version</c> of its model, made once: every session and result of this encoder shares the one string.</summary>
    public string Tag { get; }

    public int InputLength => Spec.Input.Length;

    public int EmbeddingLength => Spec.Embedding?.Size ?? 0;

    public int ClassCount => Spec.ClassCount;

    /// <summary>Whether <see cref="Dispose"/> was called: no new call is taken (one still running finishes).</summary>
    public bool IsDisposed => _disposed;

    /// <summary>Whether the native sessions are released: disposed and no call left inside them.</summary>
    public bool IsReleased => Volatile.Read(ref _released) == 1;

    /// <summary>Whether the model keeps a state between a stream's inputs: encode through <see cref="OpenStream"/> then.</summary>
    public bool IsStateful => Spec.IsStateful;

    /// <summary>The session options used when none are given: IntraOpNumThreads=1, sequential, ORT_ENABLE_ALL.</summary>
    public static SessionOptions DefaultOptions() => new()
    {
        IntraOpNumThreads = 1,
        InterOpNumThreads = 1,
        ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
    };

    /// <summary>
    /// Encodes a batch of a stateless model. <see cref="InvalidOperationException"/> for a stateful one (its state
    /// belongs to a stream: use <see cref="OpenStream"/>).
    /// </summary>
    public IReadOnlyList<EncoderOutput> Encode(IReadOnlyList<ReadOnlyMemory<float>> inputs)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (IsStateful)
            throw new InvalidOperationException($"model '{Name}' keeps a recurrent state: encode through a stream of OpenStream()");
        Validate(inputs);
        return Run(inputs, 0, inputs.Count, null);
    }

    /// <summary>Encodes one input; same checks as <see cref="Encode(IReadOnlyList{ReadOnlyMemory{float}})"/>.</summary>
    public EncoderOutput Encode(ReadOnlyMemory<float> input) => Encode([input])[0];

    /// <summary>A fresh recurrent state for one stream (its initial values); stateless models get a stream that just encodes.</summary>
    public EncoderStream OpenStream()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return new EncoderStream(this, _binding.InitialState());
    }

    /// <summary>
    /// Closes the model. A call still running in another thread (a session's encoder while a reload or a node stop
    /// disposes the model) finishes first: the native session is released by whichever of the two comes last, never
    /// under a running call (which would crash the process).
    /// </summary>
    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        Interlocked.MemoryBarrier();
        if (Volatile.Read(ref _running) == 0) Release();
    }

    private void Release()
    {
        if (Interlocked.Exchange(ref _released, 1) != 0) return;
        _session.Dispose();
        _frontEnd?.Dispose();
    }

    private void Enter()
    {
        Interlocked.Increment(ref _running);
        if (!_disposed) return;
        Leave();
        throw new ObjectDisposedException(GetType().FullName);
    }

    private void Leave()
    {
        if (Interlocked.Decrement(ref _running) == 0 && _disposed) Release();
    }

    internal void Validate(IReadOnlyList<ReadOnlyMemory<float>> inputs)
    {
        EncoderInputValidation.Validate(Name, inputs, InputLength, Spec.Input.Min, Spec.Input.Max, RangeTolerance);
        if (Spec.Input.ElementType != TensorElementKind.Float32 && Spec.Input.Transforms.Count == 0 && Spec.FrontEnd is null)
            EncoderInputValidation.ValidateIntegral(Name, inputs);
    }

    /// <summary>Runs inputs [<paramref name="start"/>, start+<paramref name="count"/>) in one call; updates <paramref name="state"/> when given.</summary>
    internal IReadOnlyList<EncoderOutput> Run(IReadOnlyList<ReadOnlyMemory<float>> inputs, int start, int count, RecurrentState? state)
    {
        Enter();
        try { return RunEntered(inputs, start, count, state); }
        finally { Leave(); }
    }

    private IReadOnlyList<EncoderOutput> RunEntered(IReadOnlyList<ReadOnlyMemory<float>> inputs, int start, int count, RecurrentState? state)
    {
        var length = InputLength;
        var buffer = ArrayPool<float>.Shared.Rent(count * Math.Max(length, 1));
        try
        {
            float[] modelInput;
            int itemLength;
            if (_plain)
            {
                for (var i = 0; i < count; i++)
                    inputs[start + i].Span.CopyTo(buffer.AsSpan(i * length, length));
                modelInput = buffer;
                itemLength = length;
            }
            else
            {
                (modelInput, itemLength) = Prepare(inputs, start, count);
            }

            var shape = new long[_modelItemShape.Length + 1];
            shape[0] = count;
            for (var i = 0; i < _modelItemShape.Length; i++) shape[i + 1] = _modelItemShape[i];
            if (_modelItemShape.Contains(-1))
            {
                // One dynamic axis the transforms fixed: derive it from the item's length.
                var known = _modelItemShape.Where(d => d > 0).Aggregate(1L, (a, b) => a * b);
                shape[Array.IndexOf(_modelItemShape, -1) + 1] = itemLength / known;
            }

            using var bound = _binding.Bind(modelInput.AsMemory(0, count * itemLength), shape, state);
            using var runOptions = new RunOptions();
            using var results = _session.Run(runOptions, bound.Names, bound.Values, _outputs.Names);
            var outputs = _outputs.Read(Name, results, count);
            state?.Update(_outputs, results);
            return outputs;
        }
        finally
        {
            ArrayPool<float>.Shared.Return(buffer);
        }
    }

    // Transforms, then the front-end (and its output transforms): the model's input for `count` inputs, row by row.
    private (float[] Values, int ItemLength) Prepare(IReadOnlyList<ReadOnlyMemory<float>> inputs, int start, int count)
    {
        var items = new float[count][];
        for (var i = 0; i < count; i++)
            items[i] = Spec.Input.Transforms.Count == 0
                ? inputs[start + i].ToArray()
                : InputTransform.ApplyAll(Spec.Input.Transforms, inputs[start + i].Span, _payloadShape);
        if (_frontEnd is not null)
            items = RunFrontEnd(items);
        var itemLength = items[0].Length;
        var all = new float[count * itemLength];
        for (var i = 0; i < count; i++)
        {
            if (items[i].Length != itemLength)
                throw new InvalidOperationException($"model '{Name}': input {i} became {items[i].Length} values, input 0 {itemLength}");
            items[i].CopyTo(all, i * itemLength);
        }
        if (Spec.Input.ElementType != TensorElementKind.Float32)
            EncoderInputValidation.ValidateIntegral(Name, [all]);
        return (all, itemLength);
    }

    private float[][] RunFrontEnd(float[][] items)
    {
        if (Spec.FrontEnd!.Batched || items.Length == 1) return RunFrontEndCall(items);
        var rows = new float[items.Length][];
        for (var i = 0; i < items.Length; i++) rows[i] = RunFrontEndCall([items[i]])[0];
        return rows;
    }

    private float[][] RunFrontEndCall(float[][] items)
    {
        var fe = Spec.FrontEnd!;
        var n = items.Length;
        var itemShape = InputTransform.ShapeAfter(Spec.Input.Transforms, _payloadShape);
        var flat = new float[n * items[0].Length];
        for (var i = 0; i < n; i++) items[i].CopyTo(flat, i * items[0].Length);
        var shape = new long[itemShape.Length + 1];
        shape[0] = n;
        for (var i = 0; i < itemShape.Length; i++) shape[i + 1] = itemShape[i];
        using var input = OrtValue.CreateTensorValueFromMemory(flat, shape);
        using var runOptions = new RunOptions();
        using var results = _frontEnd!.Run(runOptions, [fe.Input], [input], [fe.Output]);
        var outShape = results[0].GetTensorTypeAndShape().Shape;
        var data = results[0].GetTensorDataAsSpan<float>();
        var per = data.Length / n;
        var perShape = outShape.Skip(1).Select(d => (int)d).ToArray();
        var rows = new float[n][];
        for (var i = 0; i < n; i++)
            rows[i] = fe.Transforms.Count == 0 ? data.Slice(i * per, per).ToArray() : InputTransform.ApplyAll(fe.Transforms, data.Slice(i * per, per), perShape);
        return rows;
    }

    private static InferenceSession Open(ModelSpec spec, string path, SessionOptions options)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"ONNX file of model '{spec.Name}' not found: {path}", path);
        try
        {
            return new InferenceSession(path, options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new InvalidDataException($"model '{spec.Name}': {path} does not load: {e.Message}", e);
        }
    }
}

/// <summary>
/// The recurrent state of one stream of a stateful model, and the encoder that advances it. Not thread-safe: one owner
/// (the stream's encoder actor) runs a stream's inputs in order. Disposing it drops the state.
/// </summary>
public sealed class EncoderStream : IDisposable
{
    private readonly OnnxEncoder _encoder;
    private readonly RecurrentState? _state;

    internal EncoderStream(OnnxEncoder encoder, RecurrentState? state)
    {
        _encoder = encoder;
        _state = state;
    }

    public OnnxEncoder Encoder => _encoder;

    /// <summary>Encodes a stream's inputs in order, each seeing the state the one before left.</summary>
    public IReadOnlyList<EncoderOutput> Encode(IReadOnlyList<ReadOnlyMemory<float>> inputs)
    {
        if (_state is null) return _encoder.Encode(inputs);
        _encoder.Validate(inputs);
        var outputs = new EncoderOutput[inputs.Count];
        for (var i = 0; i < inputs.Count; i++)
            outputs[i] = _encoder.Run(inputs, i, 1, _state)[0];
        return outputs;
    }

    public void Dispose() { }
}
